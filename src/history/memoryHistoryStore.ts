import type { HistoryStore, ThreadKey, Turn } from './historyStore.js';
import { threadId } from './threadId.js';

/** History kept in this process only (tests, throwaway runs): lost on restart. */
export class MemoryHistoryStore implements HistoryStore {
  private readonly threads = new Map<string, Turn[]>();

  constructor(private readonly maxMessages: number) {}

  async load(thread: ThreadKey): Promise<Turn[]> {
    return [...(this.threads.get(threadId(thread)) ?? [])];
  }

  async appendExchange(thread: ThreadKey, question: string, answer: string): Promise<void> {
    const turns = this.threads.get(threadId(thread)) ?? [];
    turns.push({ role: 'user', content: question }, { role: 'assistant', content: answer });
    this.threads.set(threadId(thread), turns.slice(-evenLimit(this.maxMessages)));
  }

  async close(): Promise<void> {}
}

/** The message limit rounded down to whole question/answer pairs, so history always starts with a user turn. */
export function evenLimit(maxMessages: number): number {
  return Math.max(2, maxMessages - (maxMessages % 2));
}
