import { z } from 'zod';

/** Identifies one Slack thread's conversation. */
export interface ThreadKey {
  teamId: string;
  channel: string;
  threadTs: string;
}

/** A file attached to a question, remembered by reference only: Slack's id (looked up again with files.info) and its name. */
export interface FileRef {
  id: string;
  name: string;
}

/**
 * One question the bot answered and its answer (Claude's Markdown), with what points back into Slack:
 * the question message's ts (absent for exchanges stored before references were kept, and for answers
 * resumed after a crash) and the files attached to it. Never file bytes, never other people's messages.
 */
export interface Exchange {
  question: string;
  answer: string;
  questionTs?: string;
  files?: readonly FileRef[];
}

/**
 * Where each thread's exchanges live between answers (sqlite by default, redis or memory).
 *
 * Retention, the same rule in every store: a thread's exchanges are deleted once it has had no new exchange
 * for HISTORY_TTL_DAYS (each stored exchange restarts the clock; HISTORY_MAX_MESSAGES bounds what an active
 * thread keeps, counted as two messages per exchange). Redis expires the thread's key itself; sqlite and
 * memory are swept when the stores open and hourly (see `openStores`), so a thread may outlive its time by
 * up to an hour there.
 */
export interface HistoryStore {
  /** The thread's exchanges, oldest first. */
  load(thread: ThreadKey): Promise<Exchange[]>;
  /** Appends one exchange, dropping the oldest beyond the store's limit. */
  appendExchange(thread: ThreadKey, exchange: Exchange): Promise<void>;
  close(): Promise<void>;
}

/** An exchange as stores serialise it (JSON): what they read back is checked against this. */
export const exchangeSchema = z.object({
  question: z.string(),
  answer: z.string(),
  questionTs: z.string().optional(),
  files: z.array(z.object({ id: z.string(), name: z.string() })).optional(),
});

/** `exchange` with only the fields a store keeps (no undefined, no empty file list), for storing and comparing. */
export function storedExchange({ question, answer, questionTs, files }: Exchange): Exchange {
  return {
    question,
    answer,
    ...(questionTs ? { questionTs } : {}),
    ...(files?.length ? { files: files.map(({ id, name }) => ({ id, name })) } : {}),
  };
}
