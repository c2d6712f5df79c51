import type { Redis } from 'ioredis';
import { reachRedis, runTransaction } from '../redis/connection.js';
import type { Turn } from '../claude/turn.js';
import type { HistoryStore, ThreadKey } from './historyStore.js';
import { evenLimit } from './memoryHistoryStore.js';
import { threadId } from './threadId.js';

/**
 * History in Redis, shared by every instance: one list per thread holding question, answer, question,
 * answer…; each pair is pushed and the list trimmed in one transaction, so it always holds whole pairs.
 * Retention (see HistoryStore): the key expires `retentionMs` after the thread's newest exchange.
 * Rejects with StoreUnavailableError while Redis is unreachable.
 */
export class RedisHistoryStore implements HistoryStore {
  private readonly limit: number;

  constructor(
    private readonly redis: Redis,
    maxMessages: number,
    private readonly retentionMs: number,
    private readonly keyPrefix = 'claude-bot:',
  ) {
    this.limit = evenLimit(maxMessages);
  }

  async load(thread: ThreadKey): Promise<Turn[]> {
    const items = await reachRedis(this.redis.lrange(this.key(thread), -this.limit, -1));
    return items.map((content, index) => ({ role: index % 2 === 0 ? 'user' : 'assistant', content }));
  }

  async appendExchange(thread: ThreadKey, question: string, answer: string): Promise<void> {
    const key = this.key(thread);
    await runTransaction(this.redis.multi().rpush(key, question, answer).ltrim(key, -this.limit, -1).pexpire(key, this.retentionMs));
  }

  /** The connection is shared: its owner quits it. */
  async close(): Promise<void> {}

  private key(thread: ThreadKey): string {
    return `${this.keyPrefix}history:${threadId(thread)}`;
  }
}
