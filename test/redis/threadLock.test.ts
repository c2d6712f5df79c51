import type { Redis } from 'ioredis';
import { RedisThreadLock } from '../../src/coordination/redisThreadLock.js';
import { LocalThreadLock } from '../../src/coordination/threadLock.js';
import { describeRedis, memoryLogger, useRedisPair } from './helpers.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('LocalThreadLock', () => {
  test('acquire resolves at once, even for a thread already held', async () => {
    const lock = new LocalThreadLock();
    const first = await lock.acquire('T:C:1');
    await expect(lock.acquire('T:C:1')).resolves.toEqual(expect.any(Function));
    await first();
  });

  test('an aborted signal rejects with its reason', async () => {
    const reason = new Error('stopped');
    await expect(new LocalThreadLock().acquire('T:C:1', AbortSignal.abort(reason))).rejects.toBe(reason);
  });
});

describeRedis('RedisThreadLock', () => {
  const { logger } = memoryLogger();
  const locks: RedisThreadLock[] = [];
  const { a, b, prefix } = useRedisPair({ cleanUp: () => Promise.all(locks.splice(0).map((lock) => lock.close())) });
  const lockOn = (redis: Redis, ttlMs?: number) => {
    const lock = new RedisThreadLock(redis, logger, prefix(), ttlMs);
    locks.push(lock);
    return lock;
  };

  test('two holders never overlap, across instances on two connections', async () => {
    const instances = [lockOn(a()), lockOn(b())];
    const events: string[] = [];
    await Promise.all(
      Array.from({ length: 4 }, async (_, task) => {
        const release = await instances[task % 2]!.acquire('T:C:1');
        events.push(`enter ${task}`);
        await sleep(20);
        events.push(`exit ${task}`);
        await release();
      }),
    );

    expect(events).toHaveLength(8);
    for (let i = 0; i < events.length; i += 2) {
      const task = events[i]!.split(' ')[1];
      expect([events[i], events[i + 1]]).toEqual([`enter ${task}`, `exit ${task}`]);
    }
  });

  test('other threads are not blocked', async () => {
    const lock = lockOn(a());
    await lock.acquire('T:C:1');
    await expect(lockOn(b()).acquire('T:C:2', AbortSignal.timeout(200))).resolves.toEqual(expect.any(Function));
  });

  test('renewal keeps a lock held well past its ttl', async () => {
    const holder = lockOn(a(), 150);
    const release = await holder.acquire('T:C:1');
    const started = Date.now();
    await expect(lockOn(b(), 150).acquire('T:C:1', AbortSignal.timeout(700))).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(650);
    await release();
  });

  test('release lets the next waiter in', async () => {
    const release = await lockOn(a()).acquire('T:C:1');
    const waiting = lockOn(b()).acquire('T:C:1');
    await sleep(100);
    const releasedAt = Date.now();
    await release();
    await waiting;
    expect(Date.now() - releasedAt).toBeLessThan(600);
  });

  test('abort rejects a waiting acquire with the signal reason, and leaves the lock to its holder', async () => {
    await lockOn(a()).acquire('T:C:1');
    const controller = new AbortController();
    const reason = new Error('user pressed stop');
    const waiting = lockOn(b()).acquire('T:C:1', controller.signal);
    setTimeout(() => controller.abort(reason), 100);
    await expect(waiting).rejects.toBe(reason);
    await expect(lockOn(b()).acquire('T:C:1', AbortSignal.abort(reason))).rejects.toBe(reason);
  });

  test('a holder whose lock expired and was taken does not release the new holder', async () => {
    const first = await lockOn(a()).acquire('T:C:1');
    await a().del(`${prefix()}lock:T:C:1`);
    await lockOn(b()).acquire('T:C:1');
    await first();
    await first();
    await expect(lockOn(a()).acquire('T:C:1', AbortSignal.timeout(200))).rejects.toMatchObject({ name: 'TimeoutError' });
  });

  test('close releases the locks the instance holds', async () => {
    const lock = new RedisThreadLock(a(), logger, prefix());
    await lock.acquire('T:C:1');
    await lock.close();
    expect(await a().exists(`${prefix()}lock:T:C:1`)).toBe(0);
  });
});
