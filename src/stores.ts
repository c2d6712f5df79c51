import type { Config } from './config.js';
import { LocalStopRelay, type StopRelay } from './coordination/stopRelay.js';
import { LocalThreadLock, type ThreadLock } from './coordination/threadLock.js';
import { FileLease } from './coordination/fileLease.js';
import type { HistoryStore } from './history/historyStore.js';
import { MemoryHistoryStore } from './history/memoryHistoryStore.js';
import { openSqliteFile } from './history/sqliteFile.js';
import { SqliteHistoryStore } from './history/sqliteHistoryStore.js';
import type { InflightRegistry } from './inflight/inflightRegistry.js';
import { MemoryInflightRegistry } from './inflight/memoryInflightRegistry.js';
import { SqliteInflightRegistry } from './inflight/sqliteInflightRegistry.js';
import type { Logger } from './logger.js';
import { reusedCheck } from './readiness.js';
import { memoryBudgets, type SlackBudgets } from './slack/editBudget.js';
import { MemoryEventDedupe, SqliteEventDedupe, type EventDedupe } from './slack/eventDedupe.js';
import { MemoryUsageLedger } from './usage/memoryUsageLedger.js';
import { SqliteUsageLedger } from './usage/sqliteUsageLedger.js';
import type { UsageLedger } from './usage/usageLedger.js';

/** Everything the bot keeps between events. With Redis all of it is shared, so several instances can run. */
export interface Stores {
  history: HistoryStore;
  dedupe: EventDedupe;
  /** Each paced Slack method's workspace budget (chat.update: SLACK_EDITS_PER_MINUTE; streams: their tiers). */
  budgets: SlackBudgets;
  lock: ThreadLock;
  inflight: InflightRegistry;
  /** Carries a user's Stop to the instance running the answer. */
  stops: StopRelay;
  /** Tokens per UTC day, team, user and model: the daily limits and `npm run usage` read it. */
  usage: UsageLedger;
  /**
   * True when the store can be written now (for `GET /readyz`): sqlite, a tiny write in a transaction through
   * a fresh connection (a file corrupted on disk, full or taken over by another process gives false); Redis,
   * a SET with expiry; memory, always. At most one check runs at a time and its answer is reused for a second.
   * Never rejects.
   */
  ready(): Promise<boolean>;
  /**
   * The start-up check of settings only a live connection can judge (opening the stores already checked the
   * sqlite file). Redis: throws ConfigError naming REDIS_URL when Redis refuses them (wrong password, database
   * out of range, read-only); logs a warning and resolves when Redis is unreachable, since the connection
   * recovers by itself once it is back (refusing to start would crash-loop every instance while Redis restarts).
   */
  verify(): Promise<void>;
  close(): Promise<void>;
}

const DAY_MS = 24 * 60 * 60 * 1000;
/** How often stores that cannot expire rows themselves (sqlite, memory) delete threads past HISTORY_TTL_DAYS. */
const SWEEP_INTERVAL_MS = 60 * 60 * 1000;

/**
 * Opens the stores HISTORY_STORE names; `keyPrefix` namespaces Redis keys (tests give each their own).
 * Rejects with ConfigError (one line naming HISTORY_DB_PATH) when the sqlite file cannot be used: unwritable,
 * corrupt, a directory, or held by another running process.
 */
export async function openStores(config: Config, logger: Logger, keyPrefix = 'claude-bot:'): Promise<Stores> {
  if (config.HISTORY_STORE !== 'redis') return openLocalStores(config, logger);
  // Loaded only here: a bot on sqlite or memory never loads ioredis (about 4 MB of RSS, bench "start-up").
  const { openRedisStores } = await import('./redisStores.js');
  return openRedisStores(config, logger, keyPrefix, config.HISTORY_TTL_DAYS * DAY_MS);
}

/** The stores of HISTORY_STORE=sqlite or memory, owned by this one process (see openStores); throws as openStores rejects. */
export function openLocalStores(config: Config, logger: Logger): Stores {
  const retentionMs = config.HISTORY_TTL_DAYS * DAY_MS;
  switch (config.HISTORY_STORE) {
    case 'redis':
      throw new TypeError('HISTORY_STORE=redis is shared by several processes: open it with openStores');
    case 'memory': {
      const history = new MemoryHistoryStore(config.HISTORY_MAX_MESSAGES, retentionMs);
      return local(config, logger, {
        history,
        inflight: new MemoryInflightRegistry(),
        dedupe: new MemoryEventDedupe(),
        usage: new MemoryUsageLedger(retentionMs),
        deleteExpired: () => history.deleteExpired(),
        ready: () => true,
        close: () => {},
      });
    }
    case 'sqlite':
      return openSqliteFile(config.HISTORY_DB_PATH, logger, (db) => {
        const history = new SqliteHistoryStore(db, config.HISTORY_MAX_MESSAGES, retentionMs);
        const dedupe = new SqliteEventDedupe(db, logger);
        // The first write to the file: taken once its tables are known to be readable.
        const lease = FileLease.acquire(db, logger);
        return local(config, logger, {
          history,
          dedupe,
          inflight: new SqliteInflightRegistry(db, lease),
          usage: new SqliteUsageLedger(db, retentionMs),
          deleteExpired: () => history.deleteExpired(),
          ready: () => lease.probe(),
          close: () => {
            lease.release();
            db.close();
          },
        });
      });
  }
}

/** What a single-process store provides; `deleteExpired` applies the retention rule (see HistoryStore). */
interface LocalParts {
  history: HistoryStore;
  inflight: InflightRegistry;
  dedupe: EventDedupe;
  usage: UsageLedger;
  deleteExpired: () => number;
  ready: () => boolean;
  close: () => void;
}

/** One process owns the data: the budget and thread order can live in its memory. Sweeps expired history at open and hourly. */
function local(config: Config, logger: Logger, parts: LocalParts): Stores {
  const sweep = () => {
    try {
      const deleted = parts.deleteExpired();
      if (deleted > 0) logger.info({ deleted, ttlDays: config.HISTORY_TTL_DAYS }, 'deleted history older than HISTORY_TTL_DAYS');
    } catch (error) {
      logger.error({ err: error }, 'could not delete expired history');
    }
  };
  sweep();
  const sweeper = setInterval(sweep, SWEEP_INTERVAL_MS);
  sweeper.unref();
  const { history, inflight, dedupe, usage } = parts;
  return {
    history,
    inflight,
    dedupe,
    usage,
    budgets: memoryBudgets(config.SLACK_EDITS_PER_MINUTE),
    lock: new LocalThreadLock(),
    stops: new LocalStopRelay(),
    ready: reusedCheck(async () => parts.ready()),
    verify: async () => {},
    async close() {
      clearInterval(sweeper);
      await Promise.all([history.close(), inflight.close(), dedupe.close(), usage.close()]);
      parts.close();
    },
  };
}
