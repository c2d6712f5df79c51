import type { Turn } from '../claude/turn.js';
import type { HistoryStore, ThreadKey } from './historyStore.js';
import { threadId } from './threadId.js';

interface Thread {
  turns: Turn[];
  /** When its newest exchange was stored (ms since the epoch). */
  updatedAt: number;
}

/** History kept in this process only (tests, throwaway runs): lost on restart. Retention: `deleteExpired`, run on a schedule by its owner. */
export class MemoryHistoryStore implements HistoryStore {
  private readonly threads = new Map<string, Thread>();

  constructor(
    private readonly maxMessages: number,
    private readonly retentionMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  async load(thread: ThreadKey): Promise<Turn[]> {
    return [...(this.threads.get(threadId(thread))?.turns ?? [])];
  }

  async appendExchange(thread: ThreadKey, question: string, answer: string): Promise<void> {
    const turns = [...(this.threads.get(threadId(thread))?.turns ?? []), { role: 'user' as const, content: question }, { role: 'assistant' as const, content: answer }];
    this.threads.set(threadId(thread), { turns: turns.slice(-evenLimit(this.maxMessages)), updatedAt: this.now() });
  }

  /** Deletes the threads idle for longer than the retention time; returns how many exchanges went. */
  deleteExpired(): number {
    const cutoff = this.now() - this.retentionMs;
    let deleted = 0;
    for (const [id, thread] of this.threads) {
      if (thread.updatedAt >= cutoff) continue;
      this.threads.delete(id);
      deleted += thread.turns.length / 2;
    }
    return deleted;
  }

  async close(): Promise<void> {}
}

/** The message limit rounded down to whole question/answer pairs, so history always starts with a user turn. */
export function evenLimit(maxMessages: number): number {
  return Math.max(2, maxMessages - (maxMessages % 2));
}
