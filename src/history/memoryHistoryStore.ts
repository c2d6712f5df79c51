import { storedExchange, type Exchange, type HistoryStore, type ThreadKey } from './historyStore.js';
import { threadId } from './threadId.js';

interface Thread {
  exchanges: Exchange[];
  /** When its newest exchange was stored (ms since the epoch). */
  updatedAt: number;
}

/** History kept in this process only (tests, throwaway runs): lost on restart. Retention: `deleteExpired`, run on a schedule by its owner. */
export class MemoryHistoryStore implements HistoryStore {
  private readonly threads = new Map<string, Thread>();
  private readonly maxExchanges: number;

  constructor(
    maxMessages: number,
    private readonly retentionMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.maxExchanges = exchangeLimit(maxMessages);
  }

  async load(thread: ThreadKey): Promise<Exchange[]> {
    return [...(this.threads.get(threadId(thread))?.exchanges ?? [])];
  }

  async appendExchange(thread: ThreadKey, exchange: Exchange): Promise<void> {
    const exchanges = [...(this.threads.get(threadId(thread))?.exchanges ?? []), storedExchange(exchange)];
    this.threads.set(threadId(thread), { exchanges: exchanges.slice(-this.maxExchanges), updatedAt: this.now() });
  }

  /** Deletes the threads idle for longer than the retention time; returns how many exchanges went. */
  deleteExpired(): number {
    const cutoff = this.now() - this.retentionMs;
    let deleted = 0;
    for (const [id, thread] of this.threads) {
      if (thread.updatedAt >= cutoff) continue;
      this.threads.delete(id);
      deleted += thread.exchanges.length;
    }
    return deleted;
  }

  async close(): Promise<void> {}
}

/** Exchanges kept per thread: HISTORY_MAX_MESSAGES counts a question and its answer as two messages (at least one exchange). */
export function exchangeLimit(maxMessages: number): number {
  return Math.max(1, Math.floor(maxMessages / 2));
}
