import type { Redis } from 'ioredis';
import { RedisHistoryStore } from '../../src/history/redisHistoryStore.js';
import type { ThreadKey } from '../../src/history/historyStore.js';
import { deleteKeys, describeRedis, sharedRedis, testPrefix } from './helpers.js';

/** HISTORY_TTL_DAYS=90, as the stores get it from the configuration. */
const RETENTION_MS = 90 * 24 * 60 * 60 * 1000;

const thread: ThreadKey = { teamId: 'T1', channel: 'C1', threadTs: '1700000000.000100' };

describeRedis('RedisHistoryStore', () => {
  let redis: Redis;
  let prefix: string;
  const key = () => `${prefix}history:T1:C1:1700000000.000100`;

  beforeAll(() => {
    redis = sharedRedis();
  });
  beforeEach(() => {
    prefix = testPrefix();
  });
  afterEach(() => deleteKeys(redis, prefix));
  afterAll(() => redis.quit());

  test('stores each exchange as a user/assistant pair, oldest first, per thread', async () => {
    const store = new RedisHistoryStore(redis, 40, RETENTION_MS, prefix);
    expect(await store.load(thread)).toEqual([]);
    await store.appendExchange(thread, 'q1', 'a1');
    await store.appendExchange(thread, 'q2', 'a2');
    await store.appendExchange({ ...thread, threadTs: 'other' }, 'elsewhere', 'x');

    expect(await store.load(thread)).toEqual([
      { role: 'user', content: 'q1' },
      { role: 'assistant', content: 'a1' },
      { role: 'user', content: 'q2' },
      { role: 'assistant', content: 'a2' },
    ]);
  });

  test('drops the oldest pairs beyond maxMessages (an odd limit rounds down to whole pairs)', async () => {
    const store = new RedisHistoryStore(redis, 5, RETENTION_MS, prefix);
    for (let i = 1; i <= 4; i++) await store.appendExchange(thread, `q${i}`, `a${i}`);

    expect(await redis.llen(key())).toBe(4);
    expect(await store.load(thread)).toEqual([
      { role: 'user', content: 'q3' },
      { role: 'assistant', content: 'a3' },
      { role: 'user', content: 'q4' },
      { role: 'assistant', content: 'a4' },
    ]);
  });

  test('a store with a smaller limit than the writer still loads whole pairs starting with a user turn', async () => {
    const writer = new RedisHistoryStore(redis, 40, RETENTION_MS, prefix);
    for (let i = 1; i <= 5; i++) await writer.appendExchange(thread, `q${i}`, `a${i}`);
    const reader = new RedisHistoryStore(redis, 3, RETENTION_MS, prefix);

    expect(await reader.load(thread)).toEqual([
      { role: 'user', content: 'q5' },
      { role: 'assistant', content: 'a5' },
    ]);
  });

  test('sets the retention time as expiry on the thread and refreshes it on every append', async () => {
    const store = new RedisHistoryStore(redis, 40, RETENTION_MS, prefix);
    await store.appendExchange(thread, 'q1', 'a1');
    expect(await redis.pttl(key())).toBeGreaterThan(RETENTION_MS - 60_000);

    await redis.pexpire(key(), 5_000);
    await store.appendExchange(thread, 'q2', 'a2');
    expect(await redis.pttl(key())).toBeGreaterThan(RETENTION_MS - 60_000);
  });

  test('a shorter retention time (HISTORY_TTL_DAYS=1) is the expiry', async () => {
    const day = 24 * 60 * 60 * 1000;
    await new RedisHistoryStore(redis, 40, day, prefix).appendExchange(thread, 'q1', 'a1');
    expect(await redis.pttl(key())).toBeGreaterThan(day - 60_000);
    expect(await redis.pttl(key())).toBeLessThanOrEqual(day);
  });

  test('close leaves the shared connection open', async () => {
    const store = new RedisHistoryStore(redis, 40, RETENTION_MS, prefix);
    await store.close();
    expect(await redis.ping()).toBe('PONG');
  });
});
