import { LRUCache } from 'lru-cache';
import type { Refusal } from './accessPolicy.js';

/** How long an asker told why the bot does not answer somewhere is not told again there. */
const NOTICE_INTERVAL_MS = 60_000;
/** Askers remembered at once; beyond that the oldest may be told again (memory stays bounded under a flood). */
const MAX_REMEMBERED = 10_000;

/**
 * One refusal ephemeral per asker, conversation and reason per minute: a flood of refused mentions costs one
 * chat.postEphemeral, not one each (Tier 4; a 429 would pause the client that also posts the bot's other notes).
 * Per process: with several instances an asker may be told once by each.
 */
export class RefusalNotices {
  private readonly told = new LRUCache<string, true>({ max: MAX_REMEMBERED, ttl: NOTICE_INTERVAL_MS });

  /** True if `userId` should be told about `refusal` in `channel` now; the notice then counts as given. */
  shouldTell(userId: string, channel: string, refusal: Refusal): boolean {
    const key = `${userId}:${channel}:${refusal}`;
    if (this.told.has(key)) return false;
    this.told.set(key, true);
    return true;
  }
}
