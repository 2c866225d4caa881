// A token bucket per client address: a pure state transition plus a small bounded map.

export interface Bucket {
  tokens: number;
  updatedMs: number;
}

export interface RateLimit {
  /** Requests allowed per minute on average. */
  perMinute: number;
  /** Requests allowed at once after a quiet period. */
  burst: number;
}

/** Take one token if there is one; returns the next bucket and, when refused, how long to wait. */
export function takeToken(
  bucket: Bucket | undefined,
  limit: RateLimit,
  nowMs: number,
): { allowed: boolean; bucket: Bucket; retryAfterSeconds: number } {
  const rate = limit.perMinute / 60_000;
  const prev = bucket ?? { tokens: limit.burst, updatedMs: nowMs };
  const tokens = Math.min(limit.burst, prev.tokens + Math.max(0, nowMs - prev.updatedMs) * rate);
  if (tokens >= 1)
    return { allowed: true, bucket: { tokens: tokens - 1, updatedMs: nowMs }, retryAfterSeconds: 0 };
  const wait = rate > 0 ? Math.ceil((1 - tokens) / rate / 1000) : 3600;
  return { allowed: false, bucket: { tokens, updatedMs: nowMs }, retryAfterSeconds: wait };
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  constructor(
    readonly limit: RateLimit,
    private readonly maxClients = 100_000,
  ) {}

  take(client: string, nowMs: number): { allowed: boolean; retryAfterSeconds: number } {
    const r = takeToken(this.buckets.get(client), this.limit, nowMs);
    this.buckets.delete(client);
    // A full map forgets the least recently seen client (Map keeps insertion order).
    if (this.buckets.size >= this.maxClients) {
      const oldest = this.buckets.keys().next().value;
      if (oldest !== undefined) this.buckets.delete(oldest);
    }
    this.buckets.set(client, r.bucket);
    return { allowed: r.allowed, retryAfterSeconds: r.retryAfterSeconds };
  }
}
