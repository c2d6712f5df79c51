import { createHash } from 'node:crypto';
import { Redis, ReplyError, type ChainableCommander } from 'ioredis';
import { ConfigError } from '../config.js';
import type { Logger } from '../logger.js';

/** Redis could not be reached; callers tell the user the feature is temporarily unavailable. */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
  constructor(message: string, options: { cause: unknown }) {
    super(message, options);
  }
}

/** Every command here is a sub-millisecond key lookup: two seconds without a reply means Redis is not there. */
const COMMAND_TIMEOUT_MS = 2_000;
const CONNECT_TIMEOUT_MS = 2_000;
const MAX_RECONNECT_DELAY_MS = 1_000;

/**
 * A Redis connection that fails commands fast while Redis is unreachable (rather than queueing them until
 * it is back), reconnects forever with capped backoff, and logs one line when Redis is lost and one when
 * it is back. The caller owns it and quits it on shutdown.
 */
export function createRedis(url: string, logger: Logger): Redis {
  const redis = new Redis(url, {
    connectTimeout: CONNECT_TIMEOUT_MS,
    commandTimeout: COMMAND_TIMEOUT_MS,
    // Commands waiting for a lost connection fail after one reconnect attempt.
    maxRetriesPerRequest: 1,
    // A command cut off by a dropped connection fails (by the timeout) and is never re-sent later behind
    // its caller's back: an RPUSH the caller saw fail must not be applied after all.
    autoResendUnfulfilledCommands: false,
    retryStrategy: (attempt) => Math.min(50 * 2 ** (attempt - 1), MAX_RECONNECT_DELAY_MS),
  });
  // Host and port only: the URL may carry a password.
  const address = redis.options.path ?? `${redis.options.host}:${redis.options.port}`;
  const log = logger.child({ component: 'redis', address });
  let reachable: boolean | undefined;
  let lastError: string | undefined;

  redis.on('error', (error: Error) => {
    lastError = error.message;
    log.debug({ reason: error.message }, 'Redis connection error');
  });
  redis.on('reconnecting', () => {
    if (reachable === false) return;
    reachable = false;
    log.warn({ reason: lastError }, `Redis unreachable at ${address}: reconnecting; what needs Redis fails until then`);
  });
  redis.on('ready', () => {
    // Queue commands only while the first connection is being made, so start-up need not wait for it;
    // afterwards a command sent while Redis is down fails at once.
    redis.options.enableOfflineQueue = false;
    if (reachable === false) log.info(`Redis reachable again at ${address}`);
    reachable = true;
    lastError = undefined;
  });
  return redis;
}

/** The longest start-up check: a blackholed host takes a connect time-out and one retry. */
const CHECK_TIMEOUT_MS = 5_000;

/**
 * The start-up check of REDIS_URL through `redis` itself: PING (the password), SELECT of the URL's database
 * (ioredis ignores a refused SELECT on connect and silently stays on database 0) and a SET with expiry of
 * `probeKey` (a read-only replica, an ACL without write access, a full memory), within 5 s. Throws
 * ConfigError naming REDIS_URL when Redis refuses (its reply, which never carries the password); resolves
 * false when Redis cannot be reached (the connection keeps reconnecting, so the bot may start), else true.
 */
export async function checkRedis(redis: Redis, probeKey: string): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), CHECK_TIMEOUT_MS)));
  const check = async () => {
    await redis.ping();
    await redis.select(redis.options.db ?? 0);
    await redis.set(probeKey, '1', 'PX', CHECK_TIMEOUT_MS);
    return true;
  };
  try {
    return await Promise.race([check(), timeout]);
  } catch (error) {
    if (error instanceof ReplyError) throw new ConfigError(`REDIS_URL was refused by Redis: ${(error as Error).message.split('\n')[0]}`);
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/** Awaits a Redis call, turning a failure to reach Redis (anything but Redis's own error reply) into StoreUnavailableError. */
export async function reachRedis<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (error) {
    if (error instanceof ReplyError) throw error;
    throw new StoreUnavailableError('Redis is unreachable', { cause: error });
  }
}

/** Runs a MULTI transaction; rejects like reachRedis, or with the first command's error reply. */
export async function runTransaction(transaction: ChainableCommander): Promise<void> {
  const results = await reachRedis(transaction.exec());
  const failure = results?.find(([error]) => error)?.[0];
  if (failure) throw failure;
}

/**
 * A Lua script run with EVALSHA, sent in full only when the server does not know it yet (first use, restart).
 * ioredis's `defineCommand` does the same, but per connection and untyped; this is one typed object that
 * any connection can run.
 */
export class LuaScript {
  private readonly sha: string;

  constructor(private readonly lua: string) {
    this.sha = createHash('sha1').update(lua).digest('hex');
  }

  /** Runs the script atomically on `redis`; rejects like the command would (see reachRedis). */
  async run(redis: Redis, keys: string[], args: (string | number)[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof ReplyError && (error as Error).message.startsWith('NOSCRIPT'))) throw error;
      return redis.eval(this.lua, keys.length, ...keys, ...args);
    }
  }
}
