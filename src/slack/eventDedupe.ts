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
