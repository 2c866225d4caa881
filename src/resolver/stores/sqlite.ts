// The persistent cache (the default): every entry kept in memory for the lookup path and
// written through to SQLite, so a restart keeps every policy (RFC 8461 §5.1: a cached policy
// still protects the domain while its max_age runs, even across restarts).
import Database from 'better-sqlite3';
import type { PolicyCacheEntry } from '../../core/policy-cache.js';
import type { PolicyCacheStore } from '../../ports.js';
import { decodeEntry, encodeEntry } from './entry-codec.js';
import { MemoryPolicyStore } from './memory.js';

export interface SqliteStoreOptions {
  filename: string;
  /** Busy timeout in seconds (postfix-mta-sts-resolver's `timeout`), default 5. */
  timeout?: number;
  maxEntries?: number;
}

export class SqlitePolicyStore implements PolicyCacheStore {
  private readonly db: Database.Database;
  private readonly memory: MemoryPolicyStore;
  private readonly upsert: Database.Statement;
  private readonly remove: Database.Statement;
  /** Rows that could not be read back at start-up. */
  readonly skippedRows: number;

  constructor(options: SqliteStoreOptions) {
    this.db = new Database(options.filename, { timeout: (options.timeout ?? 5) * 1000 });
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(
      'CREATE TABLE IF NOT EXISTS mta_sts_policy_cache (domain TEXT PRIMARY KEY, entry TEXT NOT NULL, updated_at INTEGER NOT NULL)',
    );
    this.upsert = this.db.prepare(
      'INSERT INTO mta_sts_policy_cache (domain, entry, updated_at) VALUES (?, ?, ?) ON CONFLICT(domain) DO UPDATE SET entry = excluded.entry, updated_at = excluded.updated_at',
    );
    this.remove = this.db.prepare('DELETE FROM mta_sts_policy_cache WHERE domain = ?');
    this.memory = new MemoryPolicyStore(options.maxEntries ?? 1_000_000);
    let skipped = 0;
    const rows = this.db.prepare('SELECT domain, entry FROM mta_sts_policy_cache').all() as {
      domain: string;
      entry: string;
    }[];
    for (const row of rows) {
      const entry = decodeEntry(row.entry);
      if (entry && entry.domain === row.domain) this.memory.put(entry);
      else skipped++;
    }
    this.skippedRows = skipped;
  }

  peek(domain: string): PolicyCacheEntry | undefined {
    return this.memory.peek(domain);
  }

  async get(domain: string): Promise<PolicyCacheEntry | undefined> {
    return this.memory.peek(domain);
  }

  async set(entry: PolicyCacheEntry): Promise<void> {
    const dropped = this.memory.put(entry);
    this.upsert.run(entry.domain, encodeEntry(entry), entry.checkedAt);
    if (dropped !== undefined) this.remove.run(dropped);
  }

  async delete(domain: string): Promise<void> {
    await this.memory.delete(domain);
    this.remove.run(domain);
  }

  async list(): Promise<PolicyCacheEntry[]> {
    return this.memory.list();
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
