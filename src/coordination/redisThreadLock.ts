import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import { LuaScript, reachRedis } from '../redis/connection.js';
import type { ReleaseLock, ThreadLock } from './threadLock.js';

/** Extends the lock's expiry only while it is still ours (it may have expired and been taken by another). */
const RENEW = new LuaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
`);

/** Deletes the lock only while it is still ours. */
const RELEASE = new LuaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`);

const FIRST_POLL_MS = 50;
const MAX_POLL_MS = 500;

/**
 * A lock per thread in Redis, shared by every instance: a key holding the holder's random token, with an
 * expiry renewed every third of `ttlMs` while held, so a crashed holder blocks its thread for at most `ttlMs`.
 * Waiters poll (50 ms doubling to 500 ms). Acquire rejects with StoreUnavailableError while Redis is down.
 */
export class RedisThreadLock implements ThreadLock {
  private readonly held = new Set<ReleaseLock>();

  constructor(
    private readonly redis: Redis,
    private readonly logger: Logger,
    private readonly keyPrefix = 'claude-bot:',
    private readonly ttlMs = 30_000,
  ) {
    if (!(Number.isInteger(ttlMs) && ttlMs > 0)) throw new TypeError('ttlMs must be a positive integer');
  }

  async acquire(threadId: string, signal?: AbortSignal): Promise<ReleaseLock> {
    const key = `${this.keyPrefix}lock:${threadId}`;
    const token = randomUUID();
    for (let delay = FIRST_POLL_MS; ; delay = Math.min(delay * 2, MAX_POLL_MS)) {
      signal?.throwIfAborted();
      if ((await reachRedis(this.redis.set(key, token, 'PX', this.ttlMs, 'NX'))) === 'OK') break;
      await sleep(delay, signal);
    }
    if (signal?.aborted) {
      // Aborted while the SET was on its way: hand the lock straight back.
      await this.release(key, token);
      throw signal.reason;
    }
    return this.hold(key, token);
  }

  /** Releases every lock this instance still holds. */
  async close(): Promise<void> {
    await Promise.all([...this.held].map((release) => release()));
  }

  private hold(key: string, token: string): ReleaseLock {
    const renewal = setInterval(() => {
      RENEW.run(this.redis, [key], [token, this.ttlMs]).then(
        (renewed) => {
          if (renewed) return;
          clearInterval(renewal);
          this.logger.warn({ key }, 'thread lock expired while held: another instance may answer in this thread at the same time');
        },
        // The next tick tries again; if Redis stays away the lock expires, which is all one can do.
        (error: unknown) => this.logger.debug({ err: error, key }, 'thread lock renewal failed'),
      );
    }, this.ttlMs / 3);
    renewal.unref();
    let released: Promise<void> | undefined;
    const release: ReleaseLock = () => {
      released ??= (async () => {
        clearInterval(renewal);
        this.held.delete(release);
        await this.release(key, token);
      })();
      return released;
    };
    this.held.add(release);
    return release;
  }

  private async release(key: string, token: string): Promise<void> {
    try {
      await RELEASE.run(this.redis, [key], [token]);
    } catch (error) {
      // The key expires within ttlMs anyway; failing the caller's cleanup would help no one.
      this.logger.warn({ err: error, key }, 'thread lock release failed: the thread waits for its expiry');
    }
  }
}

/** Waits `ms`, or rejects with `signal.reason` as soon as `signal` aborts. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
