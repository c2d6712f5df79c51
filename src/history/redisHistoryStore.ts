import type { Redis } from 'ioredis';
import { LuaScript, reachRedis } from '../redis/connection.js';
import { exchangeSchema, storedExchange, type Exchange, type HistoryStore, type ThreadKey } from './historyStore.js';
import { exchangeLimit } from './memoryHistoryStore.js';
import { threadId } from './threadId.js';

/**
 * Pushes one exchange (ARGV[1], JSON) onto KEYS[1], keeps the newest ARGV[2] there, and trims the legacy
 * pairs (KEYS[2]) to the exchanges still in view beside them (deleted once the new list alone is full);
 * both keys expire ARGV[3] ms after this exchange. Atomic, so the two keys never disagree.
 */
const APPEND = new LuaScript(`
local limit = tonumber(ARGV[2])
local count = redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('LTRIM', KEYS[1], -limit, -1)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
local room = limit - math.min(count, limit)
if room == 0 then
  redis.call('DEL', KEYS[2])
else
  redis.call('LTRIM', KEYS[2], -2 * room, -1)
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
end
return count
`);

/**
 * History in Redis, shared by every instance: one list per thread (`exchanges:<thread>`), one JSON exchange
 * per element. Threads stored by releases before references were kept live in `history:<thread>` as plain
 * question, answer, question, answer… strings: they still load, as older than any newer exchange, and
 * fade out as new exchanges fill the limit (a separate key, so no stored string is ever mistaken for JSON).
 * Retention (see HistoryStore): the keys expire `retentionMs` after the thread's newest exchange.
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
    this.limit = exchangeLimit(maxMessages);
  }

  async load(thread: ThreadKey): Promise<Exchange[]> {
    // One transaction: an append between two separate reads could trim the legacy pairs under the first.
    const results = await reachRedis(
      this.redis.multi().lrange(this.legacyKey(thread), -2 * this.limit, -1).lrange(this.key(thread), -this.limit, -1).exec(),
    );
    const [legacy, current] = (results ?? []).map(([error, items]) => {
      if (error) throw error;
      return items as string[];
    });
    return [...legacyExchanges(legacy ?? []), ...(current ?? []).flatMap(parseExchange)].slice(-this.limit);
  }

  async appendExchange(thread: ThreadKey, exchange: Exchange): Promise<void> {
    const keys = [this.key(thread), this.legacyKey(thread)];
    await reachRedis(APPEND.run(this.redis, keys, [JSON.stringify(storedExchange(exchange)), this.limit, this.retentionMs]));
  }

  /** The connection is shared: its owner quits it. */
  async close(): Promise<void> {}

  private key(thread: ThreadKey): string {
    return `${this.keyPrefix}exchanges:${threadId(thread)}`;
  }

  /** Where releases before file references and question ts kept a thread's pairs. */
  private legacyKey(thread: ThreadKey): string {
    return `${this.keyPrefix}history:${threadId(thread)}`;
  }
}

/** Plain question, answer… strings as exchanges; a leading answer without its question (an odd slice) is dropped. */
function legacyExchanges(items: string[]): Exchange[] {
  const pairs = items.slice(items.length % 2);
  const exchanges: Exchange[] = [];
  for (let i = 0; i < pairs.length; i += 2) exchanges.push({ question: pairs[i]!, answer: pairs[i + 1]! });
  return exchanges;
}

/** One stored element as an exchange; an element that does not parse (written by hand) is skipped. */
function parseExchange(item: string): Exchange[] {
  try {
    const parsed = exchangeSchema.safeParse(JSON.parse(item));
    return parsed.success ? [storedExchange(parsed.data)] : [];
  } catch {
    return [];
  }
}
