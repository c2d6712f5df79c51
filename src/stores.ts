import type { Redis } from 'ioredis';
import type { Config } from './config.js';
import { LocalThreadLock, RedisThreadLock, type ThreadLock } from './coordination/threadLock.js';
import type { HistoryStore } from './history/historyStore.js';
import { MemoryHistoryStore } from './history/memoryHistoryStore.js';
import { RedisHistoryStore } from './history/redisHistoryStore.js';
import { SqliteHistoryStore } from './history/sqliteHistoryStore.js';
import type { InflightRegistry } from './inflight/inflightRegistry.js';
import { MemoryInflightRegistry } from './inflight/memoryInflightRegistry.js';
import { RedisInflightRegistry } from './inflight/redisInflightRegistry.js';
import { SqliteInflightRegistry } from './inflight/sqliteInflightRegistry.js';
import type { Logger } from './logger.js';
import { createRedis } from './redis/connection.js';
import { MemoryEditBudget, type EditBudget } from './slack/editBudget.js';
import { MemoryEventDedupe, RedisEventDedupe, type EventDedupe } from './slack/eventDedupe.js';
import { RedisEditBudget } from './slack/redisEditBudget.js';

/** Everything the bot keeps between events. With Redis all of it is shared, so several instances can run. */
export interface Stores {
  history: HistoryStore;
  dedupe: EventDedupe;
  budget: EditBudget;
  lock: ThreadLock;
  inflight: InflightRegistry;
  close(): Promise<void>;
}

/** Opens the stores HISTORY_STORE names; `keyPrefix` namespaces Redis keys (tests give each their own). */
export function openStores(config: Config, logger: Logger, keyPrefix = 'claude-bot:'): Stores {
  switch (config.HISTORY_STORE) {
    case 'memory':
      return local(new MemoryHistoryStore(config.HISTORY_MAX_MESSAGES), new MemoryInflightRegistry(), config);
    case 'sqlite':
      return local(
        new SqliteHistoryStore(config.HISTORY_DB_PATH, config.HISTORY_MAX_MESSAGES),
        new SqliteInflightRegistry(config.HISTORY_DB_PATH),
        config,
      );
    case 'redis':
      return shared(createRedis(config.REDIS_URL!, logger), config, logger, keyPrefix);
  }
}

/** One process owns the data: event ids, budget and thread order can live in its memory. */
function local(history: HistoryStore, inflight: InflightRegistry, config: Config): Stores {
  const dedupe = new MemoryEventDedupe();
  return {
    history,
    inflight,
    dedupe,
    budget: new MemoryEditBudget(config.SLACK_EDITS_PER_MINUTE),
    lock: new LocalThreadLock(),
    async close() {
      await Promise.all([history.close(), inflight.close(), dedupe.close()]);
    },
  };
}

function shared(redis: Redis, config: Config, logger: Logger, keyPrefix: string): Stores {
  const stores = {
    history: new RedisHistoryStore(redis, config.HISTORY_MAX_MESSAGES, keyPrefix),
    dedupe: new RedisEventDedupe(redis, logger, keyPrefix),
    budget: new RedisEditBudget(redis, config.SLACK_EDITS_PER_MINUTE, keyPrefix, logger),
    lock: new RedisThreadLock(redis, logger, keyPrefix),
    inflight: new RedisInflightRegistry(redis, keyPrefix),
  };
  return {
    ...stores,
    async close() {
      await Promise.all([stores.lock.close(), stores.history.close(), stores.dedupe.close(), stores.inflight.close()]);
      redis.disconnect();
    },
  };
}
