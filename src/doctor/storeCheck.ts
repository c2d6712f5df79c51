import Database from 'better-sqlite3';
import { Redis, ReplyError } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { accessSync, constants, existsSync, lstatSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Config } from '../config.js';
import { networkReason } from '../slack/botIdentity.js';
import { messageOf, NETWORK_TIMEOUT_MS, noAnswer, withDeadline, type CheckRow } from './checkRow.js';

const NAME = 'history store';
const NOTHING_TO_CHECK = 'nothing to check (history is lost on restart)';
/** The probe key lives at most this long, should its DEL never arrive. */
const PROBE_TTL_MS = 10_000;

/** The store HISTORY_STORE names: sqlite file permissions and format, Redis PING + version + a write, or nothing for memory. */
export async function checkStore(config: Config): Promise<CheckRow> {
  switch (config.HISTORY_STORE) {
    case 'memory':
      return { name: NAME, status: 'pass', detail: `memory: ${NOTHING_TO_CHECK}` };
    case 'sqlite':
      return checkSqlite(config.HISTORY_DB_PATH);
    case 'redis':
      return checkRedisStore(config.REDIS_URL!);
  }
}

/**
 * HISTORY_DB_PATH as the bot will open it (src/history/sqliteFile.ts), judged for this user without writing
 * anything: a missing file needs a writable directory (the bot creates both); an existing one must be a
 * readable and writable sqlite database in a writable directory (sqlite writes its -wal and -shm beside it).
 * The database is opened read-only and its file lease (src/coordination/fileLease.ts) only read, so a running
 * bot keeps its file, and the row says who holds it.
 */
function checkSqlite(path: string): CheckRow {
  if (path === ':memory:') return { name: NAME, status: 'pass', detail: `sqlite in memory: ${NOTHING_TO_CHECK}` };
  const fail = (detail: string, fix: string): CheckRow => ({ name: NAME, status: 'fail', detail: `sqlite ${path}: ${detail}`, fix });
  const writableDirFix = (dir: string) => `make ${dir} writable for the bot's user (chown/chmod), or set HISTORY_DB_PATH to a writable place`;
  if (!existsSync(path)) {
    const dir = nearestExisting(dirname(resolve(path)));
    if (!statSync(dir).isDirectory()) return fail(`${dir} is a file where a directory is expected`, 'set HISTORY_DB_PATH to a path inside a directory');
    if (!accessible(dir, constants.W_OK | constants.X_OK)) return fail(`does not exist, and ${dir} is not writable for this user`, writableDirFix(dir));
    return { name: NAME, status: 'pass', detail: `sqlite ${path}: does not exist yet; the bot creates it (${dir} is writable)` };
  }
  const stat = lstatSync(path);
  if (stat.isDirectory()) return fail('is a directory', 'set HISTORY_DB_PATH to the path of a file inside it');
  if (!stat.isFile()) return fail('is not a regular file (a device, link or socket)', 'set HISTORY_DB_PATH to the path of a sqlite file');
  if (!accessible(path, constants.R_OK | constants.W_OK)) {
    return fail('is not readable and writable for this user', `chown the file to the bot's user and chmod 600 it`);
  }
  const dir = dirname(resolve(path));
  if (!accessible(dir, constants.W_OK | constants.X_OK)) return fail(`its directory ${dir} is not writable (sqlite writes -wal and -shm there)`, writableDirFix(dir));
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true, timeout: 1_000 });
    db.prepare('SELECT count(*) FROM sqlite_master').get();
    return { name: NAME, status: 'pass', detail: `sqlite ${path}: a sqlite database, readable and writable; ${holderOf(db)}` };
  } catch (error) {
    const code = String((error as { code?: unknown }).code ?? '');
    if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) {
      return fail('is not a sqlite database, or is corrupt', 'set HISTORY_DB_PATH to another file (the bot creates a new one), or restore a backup');
    }
    return fail(`cannot be read: ${messageOf(error)}`, 'check the file and its directory (permissions, disk), then run doctor again');
  } finally {
    db?.close();
  }
}

/** Who the file's lease names (the running bot, if any), read without taking it. */
function holderOf(db: Database.Database): string {
  if (!db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'file_owner'`).get()) return 'no bot has held it yet';
  const holder = db.prepare('SELECT host, pid, heartbeat_at FROM file_owner WHERE id = 1').get() as { host: string; pid: number; heartbeat_at: number } | undefined;
  if (!holder) return 'no bot holds it';
  return `last held by pid ${holder.pid} on ${holder.host} (heartbeat ${Math.round((Date.now() - holder.heartbeat_at) / 1000)} s ago)`;
}

/** `dir`, or its closest ancestor that exists. */
function nearestExisting(dir: string): string {
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

/** Whether this process may access `path` in `mode` (fs.constants R_OK, W_OK, X_OK). */
function accessible(path: string, mode: number): boolean {
  try {
    accessSync(path, mode);
    return true;
  } catch {
    return false;
  }
}

/**
 * REDIS_URL as the bot uses it (src/redis/connection.ts checkRedis): PING (the password), SELECT of the URL's
 * database, INFO server for the version, and a SET with expiry then DEL of a key of the doctor's own. One
 * connection, no reconnects, every step within the network timeout; the row names host and port, never the URL.
 */
async function checkRedisStore(url: string): Promise<CheckRow> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: NETWORK_TIMEOUT_MS,
    commandTimeout: NETWORK_TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  // Failures reach the awaited commands; without a listener ioredis would print them.
  redis.on('error', () => {});
  const database = redis.options.db ?? 0;
  const address = `${redis.options.path ?? `${redis.options.host}:${redis.options.port}`} (database ${database})`;
  const check = async (): Promise<CheckRow> => {
    await redis.connect();
    await redis.ping();
    await redis.select(database);
    const version = /^redis_version:(\S+)/m.exec(await redis.info('server'))?.[1] ?? 'of unknown version';
    const key = `claude-bot:doctor:${randomUUID()}`;
    await redis.set(key, '1', 'PX', PROBE_TTL_MS);
    await redis.del(key);
    return { name: NAME, status: 'pass', detail: `Redis ${version} at ${address}: PING, SET with expiry and DEL answered` };
  };
  const fix = 'start Redis, or set REDIS_URL to the host and port it listens on';
  const row = check().catch((error: unknown): CheckRow => {
    if (error instanceof ReplyError) {
      return {
        name: NAME,
        status: 'fail',
        detail: `Redis at ${address} refused: ${messageOf(error)}`,
        fix: 'check REDIS_URL (password, ACL user with write access, database number) and that the server is not a read-only replica',
      };
    }
    return { name: NAME, status: 'fail', detail: `could not reach Redis at ${address}: ${error instanceof Error ? networkReason(error) : String(error)}`, fix };
  });
  try {
    return await withDeadline(row, () => noAnswer(NAME, `Redis at ${address}`, fix));
  } finally {
    redis.disconnect();
  }
}
