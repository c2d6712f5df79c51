import { jest } from '@jest/globals';
import type { Redis } from 'ioredis';
import { RedisThreadLock } from '../../src/coordination/redisThreadLock.js';
import { LocalThreadLock } from '../../src/coordination/threadLock.js';
import { describeRedis, memoryLogger, useRedisPair, waitFor } from './helpers.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Counts the tries (SET NX) of the acquires on `redis` from now on: how long an acquire waited, told in tries
 * rather than milliseconds, which a loaded machine stretches. `restore` puts the plain connection back.
 */
function countTries(redis: Redis): { tries: () => number; restore: () => void } {
  const set = jest.spyOn(redis, 'set');
  return { tries: () => set.mock.calls.length, restore: () => set.mockRestore() };
}

/**
 * Aborts `controller` once `tries()` has grown by two from now on: an acquire refused again gives up at once
 * (rather than poll until the holder's 30-s ttl). Returns the function that ends the watch.
 */
function abortOnSecondTry(tries: () => number, controller: AbortController): () => void {
  const from = tries();
  const watch = setInterval(() => {
    if (tries() - from >= 2) controller.abort(new Error('refused, and tried again'));
  }, 5);
  return () => clearInterval(watch);
}

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

  test('other threads are not blocked: the first try takes the lock', async () => {
    const lock = lockOn(a());
    await lock.acquire('T:C:1');
    const { tries, restore } = countTries(b());
    const gaveUp = new AbortController();
    const stop = abortOnSecondTry(tries, gaveUp);
    try {
      await expect(lockOn(b()).acquire('T:C:2', gaveUp.signal)).resolves.toEqual(expect.any(Function));
      expect(tries()).toBe(1);
    } finally {
      stop();
      restore();
    }
  });

  test('renewal keeps a lock held well past its ttl', async () => {
    // Renewed every 300 ms, a 900-ms ttl outlives a loaded machine's timer delays (a 150-ms one expired under them).
    const holder = lockOn(a(), 900);
    const release = await holder.acquire('T:C:1');
    const started = Date.now();
    await expect(lockOn(b(), 900).acquire('T:C:1', AbortSignal.timeout(2_000))).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_950);
    await release();
  });

  test('release lets the next waiter in: its first try after the release takes the lock', async () => {
    const release = await lockOn(a()).acquire('T:C:1');
    const { tries, restore } = countTries(b());
    const gaveUp = new AbortController();
    let stop = () => {};
    try {
      const waiting = lockOn(b()).acquire('T:C:1', gaveUp.signal);
      // Refused at least once: it waits.
      await waitFor(() => tries() >= 2);
      await release();
      const triesBefore = tries();
      stop = abortOnSecondTry(tries, gaveUp);
      await waiting;
      expect(tries() - triesBefore).toBeLessThanOrEqual(1);
    } finally {
      stop();
      restore();
    }
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
