import type { Redis } from 'ioredis';
import { HISTORY_TTL_MS, RedisHistoryStore } from '../../src/history/redisHistoryStore.js';
import type { ThreadKey } from '../../src/history/historyStore.js';
import { deleteKeys, describeRedis, sharedRedis, testPrefix } from './helpers.js';

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
    const store = new RedisHistoryStore(redis, 40, prefix);
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
    const store = new RedisHistoryStore(redis, 5, prefix);
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
    const writer = new RedisHistoryStore(redis, 40, prefix);
    for (let i = 1; i <= 5; i++) await writer.appendExchange(thread, `q${i}`, `a${i}`);
    const reader = new RedisHistoryStore(redis, 3, prefix);

    expect(await reader.load(thread)).toEqual([
      { role: 'user', content: 'q5' },
      { role: 'assistant', content: 'a5' },
    ]);
  });

  test('sets a 90-day expiry on the thread and refreshes it on every append', async () => {
    const store = new RedisHistoryStore(redis, 40, prefix);
    await store.appendExchange(thread, 'q1', 'a1');
    expect(await redis.pttl(key())).toBeGreaterThan(HISTORY_TTL_MS - 60_000);
    expect(HISTORY_TTL_MS).toBe(90 * 24 * 60 * 60 * 1000);

    await redis.pexpire(key(), 5_000);
    await store.appendExchange(thread, 'q2', 'a2');
    expect(await redis.pttl(key())).toBeGreaterThan(HISTORY_TTL_MS - 60_000);
  });

  test('close leaves the shared connection open', async () => {
    const store = new RedisHistoryStore(redis, 40, prefix);
    await store.close();
    expect(await redis.ping()).toBe('PONG');
  });
});
