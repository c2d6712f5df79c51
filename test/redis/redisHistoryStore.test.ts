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
  const key = () => `${prefix}exchanges:T1:C1:1700000000.000100`;
  /** Where releases before file references kept a thread: plain question, answer… strings. */
  const legacyKey = () => `${prefix}history:T1:C1:1700000000.000100`;

  beforeAll(() => {
    redis = sharedRedis();
  });
  beforeEach(() => {
    prefix = testPrefix();
  });
  afterEach(() => deleteKeys(redis, prefix));
  afterAll(() => redis.quit());

  test('stores each exchange, oldest first, per thread', async () => {
    const store = new RedisHistoryStore(redis, 40, RETENTION_MS, prefix);
    expect(await store.load(thread)).toEqual([]);
    await store.appendExchange(thread, { question: 'q1', answer: 'a1' });
    await store.appendExchange(thread, { question: 'q2', answer: 'a2' });
    await store.appendExchange({ ...thread, threadTs: 'other' }, { question: 'elsewhere', answer: 'x' });

    expect(await store.load(thread)).toEqual([
      { question: 'q1', answer: 'a1' },
      { question: 'q2', answer: 'a2' },
    ]);
  });

  test('drops the oldest exchanges beyond maxMessages (two messages each; an odd limit rounds down)', async () => {
    const store = new RedisHistoryStore(redis, 5, RETENTION_MS, prefix);
    for (let i = 1; i <= 4; i++) await store.appendExchange(thread, { question: `q${i}`, answer: `a${i}` });

    expect(await redis.llen(key())).toBe(2);
    expect(await store.load(thread)).toEqual([
      { question: 'q3', answer: 'a3' },
      { question: 'q4', answer: 'a4' },
    ]);
  });

  test('a store with a smaller limit than the writer loads the newest exchanges', async () => {
    const writer = new RedisHistoryStore(redis, 40, RETENTION_MS, prefix);
    for (let i = 1; i <= 5; i++) await writer.appendExchange(thread, { question: `q${i}`, answer: `a${i}` });
    const reader = new RedisHistoryStore(redis, 3, RETENTION_MS, prefix);

    expect(await reader.load(thread)).toEqual([
      { question: 'q5', answer: 'a5' },
    ]);
  });

  test('sets the retention time as expiry on the thread and refreshes it on every append', async () => {
    const store = new RedisHistoryStore(redis, 40, RETENTION_MS, prefix);
    await store.appendExchange(thread, { question: 'q1', answer: 'a1' });
    expect(await redis.pttl(key())).toBeGreaterThan(RETENTION_MS - 60_000);

    await redis.pexpire(key(), 5_000);
    await store.appendExchange(thread, { question: 'q2', answer: 'a2' });
    expect(await redis.pttl(key())).toBeGreaterThan(RETENTION_MS - 60_000);
  });

  test('a shorter retention time (HISTORY_TTL_DAYS=1) is the expiry', async () => {
    const day = 24 * 60 * 60 * 1000;
    await new RedisHistoryStore(redis, 40, day, prefix).appendExchange(thread, { question: 'q1', answer: 'a1' });
    expect(await redis.pttl(key())).toBeGreaterThan(day - 60_000);
    expect(await redis.pttl(key())).toBeLessThanOrEqual(day);
  });

  test('keeps the question ts and file references (never bytes) with the exchange', async () => {
    const store = new RedisHistoryStore(redis, 40, RETENTION_MS, prefix);
    const exchange = { question: 'what is in it?', answer: 'A log.', questionTs: '1700000000.000200', files: [{ id: 'F1', name: 'build.log' }] };
    await store.appendExchange(thread, exchange);
    expect(await store.load(thread)).toEqual([exchange]);
  });

  test('a thread stored as plain strings by an earlier release still loads, older than new exchanges, and fades out within the limit', async () => {
    await redis.rpush(legacyKey(), 'old q1', 'old a1', 'old q2', 'old a2');
    const store = new RedisHistoryStore(redis, 6, RETENTION_MS, prefix);
    expect(await store.load(thread)).toEqual([
      { question: 'old q1', answer: 'old a1' },
      { question: 'old q2', answer: 'old a2' },
    ]);

    await store.appendExchange(thread, { question: 'new q3', answer: 'new a3', questionTs: '1700000000.000300' });
    expect(await store.load(thread)).toEqual([
      { question: 'old q1', answer: 'old a1' },
      { question: 'old q2', answer: 'old a2' },
      { question: 'new q3', answer: 'new a3', questionTs: '1700000000.000300' },
    ]);
    expect(await redis.pttl(legacyKey())).toBeGreaterThan(RETENTION_MS - 60_000);

    await store.appendExchange(thread, { question: 'new q4', answer: 'new a4' });
    expect((await store.load(thread)).map((exchange) => exchange.question)).toEqual(['old q2', 'new q3', 'new q4']);
    await store.appendExchange(thread, { question: 'new q5', answer: 'new a5' });
    expect((await store.load(thread)).map((exchange) => exchange.question)).toEqual(['new q3', 'new q4', 'new q5']);
    expect(await redis.exists(legacyKey())).toBe(0);
  });

  test('close leaves the shared connection open', async () => {
    const store = new RedisHistoryStore(redis, 40, RETENTION_MS, prefix);
    await store.close();
    expect(await redis.ping()).toBe('PONG');
  });
});
