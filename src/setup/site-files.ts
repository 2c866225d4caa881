// Writing a generated site to disk without losing anyone's work: a file that exists and was not
// written by us (or was edited by hand since) is a conflict unless --force. Nothing is written
// when there is a conflict. Writes go to a temporary file first, then rename.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { SetupError } from './model.js';
import { MAX_STATE_BYTES, parseSiteState, type SiteState, STATE_FILE, serializeSiteState } from './state.js';

export type FileAction = 'created' | 'updated' | 'unchanged';

export interface FileWrite {
  /** Relative to the directory written to. */
  path: string;
  action: FileAction;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

async function readIfExists(path: string, maxBytes = MAX_STATE_BYTES): Promise<string | undefined> {
  try {
    const buf = await readFile(path);
    if (buf.byteLength > maxBytes)
      throw new SetupError(`${path} is larger than ${maxBytes} bytes`, 'file-too-large');
    return buf.toString('utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') return undefined;
    if (e.code === 'EISDIR')
      throw new SetupError(`${path} is a directory, expected a file`, 'file-unreadable');
    if (err instanceof SetupError) throw err;
    throw new SetupError(`cannot read ${path}: ${e.message}`, 'file-unreadable');
  }
}

async function atomicWrite(path: string, content: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(tmp, content, { mode: 0o644 });
  await rename(tmp, path);
}

/**
 * Write files (relative path -> content) under dir. `known` holds the hashes of what we wrote
 * last time: an existing file whose hash differs from it (or that we never wrote) is a conflict.
 */
export async function writeGeneratedFiles(
  dir: string,
  files: ReadonlyMap<string, string>,
  known: Readonly<Record<string, string>>,
  force = false,
): Promise<{ writes: FileWrite[]; hashes: Record<string, string> }> {
  const root = resolve(dir);
  const plan: Array<{ path: string; abs: string; content: string; action: FileAction }> = [];
  const conflicts: string[] = [];
  for (const [rel, content] of files) {
    const abs = resolve(root, rel);
    if (!abs.startsWith(root + sep)) throw new Error(`generated path escapes the site directory: ${rel}`);
    const existing = await readIfExists(abs, 16 * 1024 * 1024);
    if (existing === undefined) plan.push({ path: rel, abs, content, action: 'created' });
    else if (existing === content) plan.push({ path: rel, abs, content, action: 'unchanged' });
    else {
      if (!force && known[rel] !== sha256(existing)) {
        conflicts.push(
          known[rel] ? `${rel} (edited by hand since it was generated)` : `${rel} (not written by mta-sts)`,
        );
      }
      plan.push({ path: rel, abs, content, action: 'updated' });
    }
  }
  if (conflicts.length > 0) {
    throw new SetupError(
      `refusing to overwrite in ${dir}:\n  ${conflicts.join('\n  ')}\nMove them away, or run again with --force to overwrite them.`,
      'would-overwrite',
    );
  }
  const hashes: Record<string, string> = {};
  for (const p of plan) {
    if (p.action !== 'unchanged') await atomicWrite(p.abs, p.content);
    hashes[p.path] = sha256(p.content);
  }
  return { writes: plan.map(({ path, action }) => ({ path, action })), hashes };
}

export async function readStateFile(path: string): Promise<SiteState | undefined> {
  const text = await readIfExists(path);
  return text === undefined ? undefined : parseSiteState(text, path);
}

export async function writeStateFile(path: string, state: SiteState): Promise<void> {
  await atomicWrite(path, serializeSiteState(state));
}

export function siteStatePath(dir: string): string {
  return join(resolve(dir), STATE_FILE);
}
