import type { Config } from './config.js';
import { RedisStopRelay } from './coordination/stopRelay.js';
import { RedisThreadLock } from './coordination/redisThreadLock.js';
import { RedisHistoryStore } from './history/redisHistoryStore.js';
import { RedisInflightRegistry } from './inflight/redisInflightRegistry.js';
import type { Logger } from './logger.js';
import { reusedCheck } from './readiness.js';
import { checkRedis, createRedis, reachRedis } from './redis/connection.js';
import { RedisEventDedupe } from './slack/eventDedupe.js';
import { redisBudgets } from './slack/redisEditBudget.js';
import type { Stores } from './stores.js';
import { RedisUsageLedger } from './usage/redisUsageLedger.js';

/** The key ready() writes in Redis lives this long: long enough to see, short enough to leave nothing behind. */
const READY_KEY_TTL_MS = 10_000;

/** The stores of HISTORY_STORE=redis (see openStores), on one connection to REDIS_URL, keys under `keyPrefix`. */
export function openRedisStores(config: Config, logger: Logger, keyPrefix: string, retentionMs: number): Stores {
  const redis = createRedis(config.REDIS_URL!, logger);
  const stores = {
    history: new RedisHistoryStore(redis, config.HISTORY_MAX_MESSAGES, retentionMs, keyPrefix),
    dedupe: new RedisEventDedupe(redis, logger, keyPrefix),
    budgets: redisBudgets(redis, config.SLACK_EDITS_PER_MINUTE, keyPrefix, logger),
    lock: new RedisThreadLock(redis, logger, keyPrefix),
    inflight: new RedisInflightRegistry(redis, keyPrefix),
    stops: new RedisStopRelay(redis, logger, keyPrefix),
    usage: new RedisUsageLedger(redis, retentionMs, keyPrefix),
  };
  return {
    ...stores,
    ready: reusedCheck(async () => (await reachRedis(redis.set(`${keyPrefix}ready`, '1', 'PX', READY_KEY_TTL_MS))) === 'OK'),
    async verify() {
      if (await checkRedis(redis, `${keyPrefix}ready`)) return;
      logger.warn('Redis is unreachable at start-up (REDIS_URL): starting anyway; not ready, and questions get "temporarily unavailable", until it is back');
    },
    async close() {
      await Promise.all([stores.lock.close(), stores.history.close(), stores.dedupe.close(), stores.inflight.close(), stores.stops.close(), stores.usage.close()]);
      redis.disconnect();
    },
  };
}
