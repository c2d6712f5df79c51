import type { ThreadKey } from './historyStore.js';

/** A stable string for a thread, usable as a map or Redis key. */
export function threadId({ teamId, channel, threadTs }: ThreadKey): string {
  return `${teamId}:${channel}:${threadTs}`;
}
