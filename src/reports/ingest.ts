// Ingestion: from paths (files, directories, Maildirs, mboxes, stdin) or one blob of bytes
// to stored reports, one result per item found. A bad item never stops the batch.
import { closeSync, createReadStream, type Dirent, fstatSync, openSync, readSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseFailureReason, parseTlsrptReport } from '../core/tlsrpt-report.js';
import { DEFAULT_EXTRACT_LIMITS, type Extracted, type ExtractLimits, extractReports } from './extract.js';
import type { IngestStatus, ReportStore } from './types.js';

export interface IngestItemResult {
  source: string;
  status: IngestStatus;
  reason?: string;
  reportId?: string;
  organization?: string;
  /** Stored row id (ingested or duplicate). */
  id?: number;
  /** How many oddities were noted on the stored report. */
  notes?: number;
}

export interface IngestCounts {
  ingested: number;
  duplicate: number;
  skipped: number;
  invalid: number;
  total: number;
}

export interface IngestOutcome {
  items: IngestItemResult[];
  counts: IngestCounts;
}

export interface IngestOptions {
  limits?: ExtractLimits;
  now?: () => Date;
  /** Called once the list of inputs is known (files after walking directories). */
  onTotal?: (inputs: number) => void;
  /** Called after each input (a file, a message) with its results. */
  onInput?: (results: IngestItemResult[]) => void;
  /** Reports written at once (default 4 on PostgreSQL, 1 on SQLite). */
  concurrency?: number;
  /** Standard input, for the path "-". */
  stdin?: NodeJS.ReadableStream;
}

export function emptyCounts(): IngestCounts {
  return { ingested: 0, duplicate: 0, skipped: 0, invalid: 0, total: 0 };
}

export function countResults(items: readonly IngestItemResult[]): IngestCounts {
  const c = emptyCounts();
  for (const i of items) {
    c[i.status]++;
    c.total++;
  }
  return c;
}

/** Parse one extracted report and store it. Store errors (the database is gone) propagate. */
export async function storeExtracted(
  e: Extracted,
  store: ReportStore,
  receivedAt: Date,
  sourceOverride?: string,
): Promise<IngestItemResult> {
  if (!('json' in e)) return { source: e.source, status: e.status, reason: e.reason };
  const parsed = parseTlsrptReport(e.json);
  if (!parsed.ok) return { source: e.source, status: 'invalid', reason: parseFailureReason(parsed.findings) };
  const report = parsed.value;
  const stored = await store.storeReport(report, {
    source: sourceOverride ?? e.source,
    receivedAt,
    rawJson: e.json.toString('utf8').replace(/^\uFEFF/, ''),
    notes: parsed.findings,
  });
  return {
    source: e.source,
    status: stored.status,
    reportId: report.reportId,
    organization: report.organization,
    id: stored.id,
    notes: parsed.findings.length,
  };
}

/** Ingest one blob (a file's content, an IMAP message, a request body). */
export async function ingestBytes(
  bytes: Uint8Array,
  source: string,
  store: ReportStore,
  options: IngestOptions = {},
): Promise<IngestItemResult[]> {
  const now = options.now ?? (() => new Date());
  const extracted = await extractReports(bytes, source, options.limits ?? DEFAULT_EXTRACT_LIMITS);
  const results: IngestItemResult[] = [];
  for (const e of extracted) results.push(await storeExtracted(e, store, now()));
  return results;
}

const MAX_DIRECTORY_FILES = 1_000_000;

/** Expand paths: directories recursively (sorted), Maildirs to their cur/ and new/ messages. */
export async function expandInputs(
  paths: readonly string[],
): Promise<Array<{ path: string; size?: number; error?: string }>> {
  const out: Array<{ path: string; size?: number; error?: string }> = [];
  const walk = async (dir: string): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
    } catch (err) {
      out.push({ path: dir, error: `cannot read directory: ${(err as Error).message}` });
      return;
    }
    const names = entries.map((e) => e.name);
    // A Maildir: only delivered messages; tmp/ holds deliveries still being written.
    const isMaildir = names.includes('cur') && names.includes('new') && names.includes('tmp');
    for (const entry of entries) {
      const name = entry.name;
      if (out.length >= MAX_DIRECTORY_FILES) return;
      if (name.startsWith('.') && !isMaildir) continue;
      if (isMaildir && name === 'tmp') continue;
      const full = join(dir, name);
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        try {
          const s = await stat(full);
          isDir = s.isDirectory();
          isFile = s.isFile();
        } catch (err) {
          out.push({ path: full, error: `cannot read: ${(err as Error).message}` });
          continue;
        }
      }
      // Sizes are checked when each file is opened.
      if (isDir) await walk(full);
      else if (isFile) out.push({ path: full });
    }
  };
  for (const p of paths) {
    if (p === '-') {
      out.push({ path: '-' });
      continue;
    }
    let s: Awaited<ReturnType<typeof stat>>;
    try {
      s = await stat(p);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      out.push({
        path: p,
        error: e.code === 'ENOENT' ? 'no such file or directory' : `cannot read: ${e.message}`,
      });
      continue;
    }
    if (s.isDirectory()) await walk(p);
    else out.push({ path: p, size: s.size });
  }
  return out;
}

async function readLimited(path: string, max: number, stdin?: NodeJS.ReadableStream): Promise<Buffer> {
  const stream = path === '-' ? (stdin ?? process.stdin) : createReadStream(path);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += b.length;
    if (size > max) {
      if ('destroy' in stream && typeof stream.destroy === 'function') stream.destroy();
      throw Object.assign(new Error(`input is larger than the ${Math.round(max / 1024 / 1024)} MiB limit`), {
        code: 'ETOOBIG',
      });
    }
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

function readFileLimited(path: string, max: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const { size } = fstatSync(fd);
    if (size > max) throw new Error(`file is larger than the ${Math.round(max / 1024 / 1024)} MiB limit`);
    const buf = Buffer.allocUnsafe(size);
    let off = 0;
    while (off < size) {
      const n = readSync(fd, buf, off, size - off, off);
      if (n === 0) break;
      off += n;
    }
    return off === size ? buf : buf.subarray(0, off);
  } finally {
    closeSync(fd);
  }
}

/** Ingest files, directories, Maildirs, mboxes and "-" (stdin). */
export async function ingestPaths(
  paths: readonly string[],
  store: ReportStore,
  options: IngestOptions = {},
): Promise<IngestOutcome> {
  const limits = options.limits ?? DEFAULT_EXTRACT_LIMITS;
  const inputs = await expandInputs(paths);
  options.onTotal?.(inputs.length);
  // PostgreSQL spends most of a write waiting on round trips: keep a few reports in flight.
  // SQLite writes synchronously, so there one at a time is as fast as it gets.
  const window = Math.max(1, options.concurrency ?? (store.dialect === 'postgres' ? 4 : 1));
  const one = async (input: (typeof inputs)[number]): Promise<IngestItemResult[]> => {
    if (input.error) return [{ source: input.path, status: 'invalid', reason: input.error }];
    let bytes: Buffer;
    try {
      // Synchronous reads: a batch reads one file at a time, and on a busy machine each
      // thread-pool round trip of async fs costs more than the read itself.
      bytes =
        input.path === '-'
          ? await readLimited(input.path, limits.maxInputBytes, options.stdin)
          : readFileLimited(input.path, limits.maxInputBytes);
    } catch (err) {
      return [{ source: input.path, status: 'invalid', reason: (err as Error).message }];
    }
    return ingestBytes(bytes, input.path === '-' ? 'stdin' : input.path, store, options);
  };
  // With grouped commits, an item is announced only once the group holding it is committed:
  // "ingested" on the screen must never name a report a crash could still lose.
  const uncommitted: IngestItemResult[][] = [];
  const announce = (results: IngestItemResult[]) => {
    if (store.grouped) uncommitted.push(results);
    else options.onInput?.(results);
  };
  const release = () => {
    for (const results of uncommitted.splice(0)) options.onInput?.(results);
  };
  const run = async (): Promise<IngestOutcome> => {
    const items: IngestItemResult[] = [];
    const pending: Array<Promise<IngestItemResult[]>> = [];
    let next = 0;
    const fill = () => {
      while (pending.length < window && next < inputs.length) {
        const p = one(inputs[next++]!);
        p.catch(() => {}); // awaited below, in order; this only silences the early-rejection warning
        pending.push(p);
      }
    };
    fill();
    // Results come out in input order whatever order the writes finish in.
    while (pending.length > 0) {
      const results = await pending.shift()!;
      fill();
      items.push(...results);
      announce(results);
    }
    return { items, counts: countResults(items) };
  };
  return store.grouped ? store.grouped(() => run(), undefined, release) : run();
}

/** Store report objects built in memory (the demo's generated reports). */
export async function ingestReportObjects(
  reports: readonly object[],
  store: ReportStore,
  options: { source?: string; now?: () => Date } = {},
): Promise<IngestOutcome> {
  const now = options.now ?? (() => new Date());
  const items: IngestItemResult[] = [];
  for (const [i, r] of reports.entries()) {
    const json = Buffer.from(JSON.stringify(r));
    items.push(
      await storeExtracted({ source: `${options.source ?? 'generated'}#${i + 1}`, json }, store, now()),
    );
  }
  return { items, counts: countResults(items) };
}
