import type { Redis } from 'ioredis';
import { RedisThreadLock } from '../../src/coordination/redisThreadLock.js';
import type { ThreadKey } from '../../src/history/historyStore.js';
import { RedisHistoryStore } from '../../src/history/redisHistoryStore.js';
import { RedisInflightRegistry } from '../../src/inflight/redisInflightRegistry.js';
import { createRedis, StoreUnavailableError } from '../../src/redis/connection.js';
import { RedisEventDedupe } from '../../src/slack/eventDedupe.js';
import { RedisEditBudget } from '../../src/slack/redisEditBudget.js';
import { describeRedis, freePort, memoryLogger, RedisServer, testPrefix, waitFor } from './helpers.js';

const thread: ThreadKey = { teamId: 'T1', channel: 'C1', threadTs: '1.1' };
const WARN = 40;
const INFO = 30;

/**
 * Settles `promise`, counting the reconnect attempts (`reconnecting` events) `redis` makes meanwhile: how long a
 * command waited for Redis, told in attempts rather than milliseconds, which a loaded machine stretches.
 */
async function settled<T>(redis: Redis, promise: Promise<T>): Promise<{ reconnects: number; result: PromiseSettledResult<T> }> {
  let reconnects = 0;
  const count = () => void reconnects++;
  redis.on('reconnecting', count);
  try {
    const [result] = await Promise.allSettled([promise]);
    return { reconnects, result: result! };
  } finally {
    redis.off('reconnecting', count);
  }
}

// These tests kill and restart a redis-server of their own; the shared one is never touched.
describeRedis('Redis unreachable', () => {
  test('before Redis is up, commands fail fast and the log names host:port once, never the password; it connects once Redis is there', async () => {
    const port = await freePort();
    const { logger, lines } = memoryLogger();
    const redis = createRedis(`redis://:hunter2-SECRET@127.0.0.1:${port}`, logger);
    let server: RedisServer | undefined;
    try {
      const history = new RedisHistoryStore(redis, 40, 60_000, testPrefix());
      const { reconnects, result } = await settled(redis, history.load(thread));
      expect(result).toMatchObject({ status: 'rejected', reason: expect.any(StoreUnavailableError) });
      // Given up after one retry (the second attempt to connect), not queued until the 2-s command timeout.
      expect(reconnects).toBeLessThanOrEqual(2);

      await new Promise((resolve) => setTimeout(resolve, 400));
      const unreachable = lines.filter((line) => line.level >= WARN);
      expect(unreachable).toHaveLength(1);
      expect(unreachable[0]!.msg).toContain(`Redis unreachable at 127.0.0.1:${port}`);
      expect(JSON.stringify(lines)).not.toContain('hunter2');

      // The server's default user takes any password: the connection gets through.
      server = await RedisServer.start(port);
      await waitFor(() => redis.status === 'ready');
      expect(await history.load(thread)).toEqual([]);
      expect(lines.filter((line) => line.level === INFO && line.msg.startsWith('Redis reachable again'))).toHaveLength(1);
    } finally {
      redis.disconnect();
      await server?.kill();
    }
  });

  test('once Redis dies, stores fail fast, dedupe fails open and the budget falls back; all recover when it is back', async () => {
    const server = await RedisServer.start();
    const { logger, lines } = memoryLogger();
    const redis = createRedis(server.url, logger);
    const prefix = testPrefix();
    const history = new RedisHistoryStore(redis, 40, 60_000, prefix);
    const dedupe = new RedisEventDedupe(redis, logger, prefix);
    const budget = new RedisEditBudget(redis, 50, prefix, logger);
    const lock = new RedisThreadLock(redis, logger, prefix);
    const inflight = new RedisInflightRegistry(redis, prefix);
    try {
      await history.appendExchange(thread, { question: 'before', answer: 'the outage' });
      for (let i = 0; i < 10; i++) await budget.tryTake('T1', 0);

      await server.kill();
      await waitFor(() => lines.some((line) => line.msg.startsWith('Redis unreachable')));

      const load = await settled(redis, history.load(thread));
      expect(load.result).toMatchObject({ status: 'rejected', reason: expect.any(StoreUnavailableError) });
      // At once: before ioredis even tries to reconnect again (nothing queued for Redis's return).
      expect(load.reconnects).toBe(0);
      await expect(history.appendExchange(thread, { question: 'q', answer: 'a' })).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(lock.acquire('T1:C1:1.1')).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(inflight.heartbeat('instance-a')).rejects.toBeInstanceOf(StoreUnavailableError);

      expect(await dedupe.claim('Ev1')).toBe(true);
      expect(await dedupe.claim('Ev1')).toBe(true);
      expect(lines.filter((line) => line.level === WARN && line.key === 'Ev1')).toHaveLength(2);

      // The fallback is this process's own bucket, full: the 10 edits taken in Redis are not known here.
      expect(await budget.tryTake('T1', 0)).toEqual({ waitMs: 0, remaining: 49 });
      expect(await budget.tryTake('T1', 0)).toMatchObject({ waitMs: 0, remaining: expect.closeTo(48, 1) });
      await budget.pause('T1', 60_000);
      expect((await budget.tryTake('T1', 0)).waitMs).toBeGreaterThan(59_000);
      expect(lines.filter((line) => line.msg.startsWith('edit budget unavailable'))).toHaveLength(1);

      // Several reconnect attempts later, still one line for the outage.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(lines.filter((line) => line.msg.startsWith('Redis unreachable'))).toHaveLength(1);

      await server.restart();
      await waitFor(() => redis.status === 'ready');
      expect(lines.filter((line) => line.level === INFO && line.msg.startsWith('Redis reachable again'))).toHaveLength(1);

      // The restarted server kept nothing on disk: history starts again, the budget is Redis's full bucket.
      await history.appendExchange(thread, { question: 'after', answer: 'the outage' });
      expect(await history.load(thread)).toEqual([
        { question: 'after', answer: 'the outage' },
      ]);
      expect(await budget.tryTake('T1', 0)).toEqual({ waitMs: 0, remaining: 49 });
      expect(await redis.exists(`${prefix}edit-budget:T1`)).toBe(1);
      expect(await dedupe.claim('Ev2')).toBe(true);
      expect(await dedupe.claim('Ev2')).toBe(false);
      const release = await lock.acquire('T1:C1:1.1');
      await release();
    } finally {
      await lock.close();
      redis.disconnect();
      await server.kill();
    }
  });
});
