import type { Turn } from '../claude/turn.js';

/** Identifies one Slack thread's conversation. */
export interface ThreadKey {
  teamId: string;
  channel: string;
  threadTs: string;
}

/**
 * Where each thread's turns live between answers (sqlite by default, redis or memory).
 *
 * Retention, the same rule in every store: a thread's turns are deleted once it has had no new exchange for
 * HISTORY_TTL_DAYS (each stored exchange restarts the clock; HISTORY_MAX_MESSAGES bounds what an active thread
 * keeps). Redis expires the thread's key itself; sqlite and memory are swept when the stores open and hourly
 * (see `openStores`), so a thread may outlive its time by up to an hour there.
 */
export interface HistoryStore {
  /** The thread's turns, oldest first; always starts with a user turn and alternates. */
  load(thread: ThreadKey): Promise<Turn[]>;
  /** Appends one question and its answer as a pair, dropping the oldest pairs beyond the store's limit. */
  appendExchange(thread: ThreadKey, question: string, answer: string): Promise<void>;
  close(): Promise<void>;
}
