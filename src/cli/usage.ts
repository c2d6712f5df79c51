import 'dotenv/config';
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { priceTable } from '../claude/prices.js';
import { ConfigError, loadConfig, secretsOf, type Config } from '../config.js';
import { createLogger, scrubber } from '../logger.js';
import { createRedis, StoreUnavailableError } from '../redis/connection.js';
import { RedisUsageLedger } from '../usage/redisUsageLedger.js';
import { readSqliteUsage } from '../usage/sqliteUsageLedger.js';
import { DAY_MS, utcDay, type UsageRow } from '../usage/usageLedger.js';
import { usageReport } from '../usage/usageReport.js';

/**
 * `npm run usage -- --since 7d` (or `--since 2026-11-01`; default 7d): prints tokens and estimated cost per UTC
 * day, user and model from the ledger in the store HISTORY_STORE names, then the totals. Safe while the bot
 * runs: it only reads (sqlite through a read-only connection, which neither takes the file's lease nor waits
 * for the bot's writes).
 *
 * It requires the bot's whole configuration, read like the bot reads it (.env, then loadConfig): it runs where
 * the bot runs, with the same environment, and one validation path means the report reads exactly the store the
 * bot writes (a partial schema could drift from the bot's). Exits 1 with one line on a bad argument, a bad
 * configuration or a store it cannot read; never prints a secret.
 */

/** A bad command-line argument; its message is the one line printed. */
class ArgumentError extends Error {}

/** The largest `--since Nd`: the longest history a store keeps (HISTORY_TTL_DAYS' maximum). */
const MAX_DAYS = 36_500;

/** The first UTC day to report from `--since`: `Nd` is today and the N − 1 days before it; a date is that day. */
function sinceDay(since: string, now: number): string {
  const days = /^(\d{1,5})d$/.exec(since);
  if (days) {
    const n = Number(days[1]);
    if (n >= 1 && n <= MAX_DAYS) return utcDay(now - (n - 1) * DAY_MS);
  }
  // A calendar date that exists: 2026-02-30 parses (as March 2) but does not read back the same.
  const date = Date.parse(`${since}T00:00:00Z`);
  if (/^\d{4}-\d{2}-\d{2}$/.test(since) && !Number.isNaN(date) && utcDay(date) === since) return since;
  throw new ArgumentError(`--since must be a number of days from 1d to ${MAX_DAYS}d (such as 7d) or a date such as 2026-11-01`);
}

/** The value of `--since` in `args`; throws ArgumentError on anything else on the command line. */
function sinceArgument(args: string[]): string {
  try {
    return parseArgs({ args, options: { since: { type: 'string', default: '7d' } }, strict: true, allowPositionals: false }).values.since;
  } catch (error) {
    throw new ArgumentError(`${(error as Error).message.split('\n')[0]} (usage: npm run usage -- --since 7d)`);
  }
}

/** The ledger's rows from `since` on, read from the configured store without writing to it. */
async function readUsage(config: Config, since: string): Promise<UsageRow[]> {
  switch (config.HISTORY_STORE) {
    case 'memory':
      throw new ConfigError("HISTORY_STORE=memory keeps token usage inside the bot's process only: there is no store to report from");
    case 'sqlite': {
      // Before the bot's first start there is no file, and so no usage yet: an empty report, not an error.
      if (!existsSync(config.HISTORY_DB_PATH)) return [];
      const db = openReadOnly(config.HISTORY_DB_PATH);
      try {
        return readSqliteUsage(db, since);
      } finally {
        db.close();
      }
    }
    case 'redis': {
      // Silent: a connection problem is reported by the one error line, not by the connection's log lines.
      const redis = createRedis(config.REDIS_URL!, createLogger('silent'));
      try {
        return await new RedisUsageLedger(redis, config.HISTORY_TTL_DAYS * DAY_MS).rowsSince(since);
      } catch (error) {
        if (error instanceof StoreUnavailableError) throw new Error('Redis is unreachable (REDIS_URL)', { cause: error });
        throw error;
      } finally {
        redis.disconnect();
      }
    }
  }
}

/** The history file, read-only: never created, never chmodded, no lease taken. */
function openReadOnly(path: string): Database.Database {
  try {
    return new Database(path, { readonly: true, fileMustExist: true });
  } catch (error) {
    throw new ConfigError(`HISTORY_DB_PATH (${path}) cannot be read: ${(error as Error).message.split('\n')[0]}`);
  }
}

async function main(): Promise<void> {
  const since = sinceDay(sinceArgument(process.argv.slice(2)), Date.now());
  const config = loadConfig();
  scrub = scrubber(secretsOf(config));
  const rows = await readUsage(config, since);
  process.stdout.write(usageReport(rows, priceTable(config.CLAUDE_PRICES), since));
}

/** Replaces configured secrets in the error line; identity until the configuration is read. */
let scrub = (text: string) => text;

main().catch((error: unknown) => {
  const line =
    error instanceof ArgumentError
      ? `Bad argument: ${error.message}`
      : error instanceof ConfigError
        ? `Configuration error: ${error.message}`
        : `Could not read token usage: ${error instanceof Error ? error.message : String(error)}`;
  console.error(scrub(line.replace(/\s+/g, ' ')));
  process.exitCode = 1;
});
