// Cache entries as stored text (SQLite rows, Redis values): JSON, checked on the way back in,
// so a damaged row or a foreign value in a shared Redis is skipped instead of trusted.
import { z } from 'zod';
import type { PolicyCacheEntry } from '../../core/policy-cache.js';

const ms = z.number().int().min(0);
const entrySchema = z.object({
  domain: z.string().min(1).max(253),
  policy: z
    .object({
      id: z.string().regex(/^[A-Za-z0-9]{1,32}$/),
      mode: z.enum(['enforce', 'testing', 'none']),
      mx: z.array(z.string().min(1).max(253)).max(1000),
      maxAge: z.number().int().min(0).max(31_557_600),
      fetchedAt: ms,
    })
    .optional(),
  checkedAt: ms,
  absent: z.boolean().optional(),
  failure: z.object({ at: ms, reason: z.string().max(200), retryAt: ms }).optional(),
});

export function encodeEntry(entry: PolicyCacheEntry): string {
  return JSON.stringify(entry);
}

export function decodeEntry(text: string): PolicyCacheEntry | undefined {
  try {
    const parsed = entrySchema.safeParse(JSON.parse(text));
    if (!parsed.success) return undefined;
    const e = parsed.data;
    return {
      domain: e.domain,
      checkedAt: e.checkedAt,
      ...(e.policy ? { policy: e.policy } : {}),
      ...(e.absent ? { absent: true } : {}),
      ...(e.failure ? { failure: e.failure } : {}),
    };
  } catch {
    return undefined;
  }
}
