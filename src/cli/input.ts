// Reading command input (a file or stdin) with a size cap, so a 10 MB or endless input ends in
// a clear error instead of exhausting memory.
import { open } from 'node:fs/promises';
import { UsageError } from './output.js';

export async function readInput(
  path: string,
  maxBytes: number,
): Promise<{ bytes: Uint8Array; truncated: boolean }> {
  if (path === '-') return readStream(process.stdin, maxBytes);
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new UsageError(
      `cannot read ${path}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`,
      'input-unreadable',
    );
  }
  try {
    const stat = await handle.stat();
    if (stat.isDirectory())
      throw new UsageError(`cannot read ${path}: it is a directory`, 'input-unreadable');
    const buf = Buffer.alloc(maxBytes + 1);
    let total = 0;
    while (total < buf.length) {
      const { bytesRead } = await handle.read(buf, total, buf.length - total, null);
      if (bytesRead === 0) break;
      total += bytesRead;
    }
    return {
      bytes: new Uint8Array(buf.subarray(0, Math.min(total, maxBytes + 1))),
      truncated: total > maxBytes,
    };
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`cannot read ${path}: ${(err as Error).message}`, 'input-unreadable');
  } finally {
    await handle.close();
  }
}

async function readStream(
  stream: NodeJS.ReadableStream,
  maxBytes: number,
): Promise<{ bytes: Uint8Array; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    chunks.push(b);
    total += b.length;
    if (total > maxBytes) break;
  }
  const all = Buffer.concat(chunks);
  return {
    bytes: new Uint8Array(all.subarray(0, Math.min(all.length, maxBytes + 1))),
    truncated: total > maxBytes,
  };
}
