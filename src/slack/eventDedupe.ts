import type { Redis } from 'ioredis';
import type { Logger } from '../logger.js';

/** Remembers which Slack events (by `event_id`) are already being handled, so a redelivery is answered once. */
export interface EventDedupe {
  /** True for the first claim of `eventId` within the retention time, false for every later one. */
  claim(eventId: string): Promise<boolean>;
  close(): Promise<void>;
}

/** Slack retries a delivery three times within about 5 minutes; keep ids well past that. */
export const EVENT_RETENTION_MS = 60 * 60 * 1000;

/** Event ids kept in this process; ids older than the retention time are forgotten. */
export class MemoryEventDedupe implements EventDedupe {
  // Insertion order is age order, so expired ids are always at the front.
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly retentionMs = EVENT_RETENTION_MS,
    private readonly now: () => number = Date.now,
  ) {}

  async claim(eventId: string): Promise<boolean> {
    const now = this.now();
    for (const [id, expiresAt] of this.seen) {
      if (expiresAt > now) break;
      this.seen.delete(id);
    }
    if (this.seen.has(eventId)) return false;
    this.seen.set(eventId, now + this.retentionMs);
    return true;
  }

  async close(): Promise<void> {}
}

/** Event ids kept in Redis, so a redelivery is answered once whichever instance Slack sends it to. */
export class RedisEventDedupe implements EventDedupe {
  constructor(
    private readonly redis: Redis,
    private readonly logger: Logger,
    private readonly keyPrefix = 'claude-bot:',
  ) {}

  /** Fails open (true) while Redis is unreachable: Slack rarely redelivers, and silence is worse than a rare duplicate. */
  async claim(eventId: string): Promise<boolean> {
    try {
      return (await this.redis.set(`${this.keyPrefix}event:${eventId}`, '1', 'PX', EVENT_RETENTION_MS, 'NX')) === 'OK';
    } catch (error) {
      this.logger.warn({ err: error, eventId }, 'event dedupe unavailable: handling the event without checking for a redelivery');
      return true;
    }
  }

  /** The connection is shared: its owner quits it. */
  async close(): Promise<void> {}
}
