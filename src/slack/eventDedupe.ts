import type Database from 'better-sqlite3';
import type { Redis } from 'ioredis';
import type { Logger } from '../logger.js';

/**
 * Remembers which deliveries are already being handled, so a redelivery is answered once. A key is any
 * string (an `event_id`, a message identity such as channel + ts, a slash command's trigger id), kept for
 * the retention time in the configured store: memory, the sqlite history file, or Redis.
 */
export interface EventDedupe {
  /** True for the first claim of `key` within the retention time, false for every later one. */
  claim(key: string): Promise<boolean>;
  close(): Promise<void>;
}

/** Slack retries a delivery three times within about 5 minutes, and signed requests replay within 5 minutes; keep keys well past that. */
export const EVENT_RETENTION_MS = 60 * 60 * 1000;

/** Keys kept in this process; keys older than the retention time are forgotten. */
export class MemoryEventDedupe implements EventDedupe {
  // Insertion order is age order, so expired keys are always at the front.
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly retentionMs = EVENT_RETENTION_MS,
    private readonly now: () => number = Date.now,
  ) {}

  async claim(key: string): Promise<boolean> {
    const now = this.now();
    for (const [seenKey, expiresAt] of this.seen) {
      if (expiresAt > now) break;
      this.seen.delete(seenKey);
    }
    if (this.seen.has(key)) return false;
    this.seen.set(key, now + this.retentionMs);
    return true;
  }

  async close(): Promise<void> {}
}

/**
 * Keys kept in a table of the sqlite history file, so a redelivery after a restart is still answered once.
 * Each claim first deletes the expired rows (an index range), so the table holds about an hour of keys.
 * Fails open (true, with a log line) when the file cannot be written: a rare duplicate beats silence.
 */
export class SqliteEventDedupe implements EventDedupe {
  private readonly claimOnce: (key: string, now: number) => boolean;

  constructor(
    db: Database.Database,
    private readonly logger: Logger,
    private readonly retentionMs = EVENT_RETENTION_MS,
    private readonly now: () => number = Date.now,
  ) {
    db.exec(`CREATE TABLE IF NOT EXISTS event_claims (key TEXT PRIMARY KEY, expires_at INTEGER NOT NULL) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS event_claims_expiry ON event_claims (expires_at);`);
    const prune = db.prepare('DELETE FROM event_claims WHERE expires_at <= ?');
    const insert = db.prepare('INSERT OR IGNORE INTO event_claims (key, expires_at) VALUES (?, ?)');
    this.claimOnce = db.transaction((key: string, now: number) => {
      prune.run(now);
      return insert.run(key, now + this.retentionMs).changes === 1;
    });
  }

  async claim(key: string): Promise<boolean> {
    return failOpen(this.logger, key, async () => this.claimOnce(key, this.now()));
  }

  /** The connection is shared: its owner closes it. */
  async close(): Promise<void> {}
}

/** Keys kept in Redis, so a redelivery is answered once whichever instance Slack sends it to. */
export class RedisEventDedupe implements EventDedupe {
  constructor(
    private readonly redis: Redis,
    private readonly logger: Logger,
    private readonly keyPrefix = 'claude-bot:',
  ) {}

  /** Fails open (true) while Redis is unreachable: Slack rarely redelivers, and silence is worse than a rare duplicate. */
  async claim(key: string): Promise<boolean> {
    return failOpen(this.logger, key, async () => (await this.redis.set(`${this.keyPrefix}event:${key}`, '1', 'PX', EVENT_RETENTION_MS, 'NX')) === 'OK');
  }

  /** The connection is shared: its owner quits it. */
  async close(): Promise<void> {}
}

/** Runs a store's claim; if the store fails, logs it and lets the delivery through. */
async function failOpen(logger: Logger, key: string, claim: () => Promise<boolean>): Promise<boolean> {
  try {
    return await claim();
  } catch (error) {
    logger.warn({ err: error, key }, 'event dedupe unavailable: handling the event without checking for a redelivery');
    return true;
  }
}
