import Database from 'better-sqlite3';
import { chmodSync, closeSync, existsSync, lstatSync, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConfigError } from '../config.js';
import type { Logger } from '../logger.js';

/** Owner only: the file holds every question and answer, and its directory names them. */
const FILE_MODE = 0o600;
const DIR_MODE = 0o700;
/**
 * How long a write waits for a lock another process holds on the file (sqlite's busy timeout; its default is
 * 5 s). sqlite waits synchronously, so every answer in flight and `/healthz` wait with it: an outside writer
 * (a sqlite3 shell, a backup tool) must cost a failed write, never a frozen process. This process's own
 * connections never wait on each other: they run on one thread.
 */
const BUSY_TIMEOUT_MS = 250;
/** The first 16 bytes of every sqlite database file (https://www.sqlite.org/fileformat.html#the_database_header). */
const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');

/**
 * Opens the history file (HISTORY_DB_PATH) with the one connection every table in it shares, then runs
 * `setup` on it (creating tables, taking the file's lease).
 *
 * Privacy: a missing directory is created 0700; the database is created 0600 before sqlite touches it, so
 * sqlite gives its -wal and -shm the same mode; an existing database, -wal or -shm with a looser mode is
 * tightened to 0600 with a log line. An existing directory keeps its mode (it may be shared, e.g. /var/lib).
 *
 * Throws ConfigError, one line naming HISTORY_DB_PATH and the reason (read-only, corrupt, a directory, in
 * use by another process…), whatever step failed; the connection is closed then.
 */
export function openSqliteFile<T>(path: string, logger: Logger, setup: (db: Database.Database) => T): T {
  let db: Database.Database | undefined;
  try {
    const options = { timeout: BUSY_TIMEOUT_MS };
    db = path === ':memory:' ? new Database(path, options) : new Database(preparePrivateFile(path, logger), options);
    // No fsync per commit: better-sqlite3 blocks the event loop for it (~0.4 ms here, every event's de-duplication
    // claim included). In WAL mode a commit still survives any crash of the process; only an OS crash or power
    // loss may roll back the last ones (https://www.sqlite.org/pragma.html#pragma_synchronous). Without WAL (a
    // file system without shared memory) NORMAL could corrupt the file on power loss: it keeps FULL there.
    if (db.pragma('journal_mode = WAL', { simple: true }) === 'wal') db.pragma('synchronous = NORMAL');
    return setup(db);
  } catch (error) {
    db?.close();
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(`HISTORY_DB_PATH (${path}) ${openFailureReason(error)}`);
  }
}

/**
 * Creates the directory and the file with private modes, or tightens an existing file's; returns `path`.
 * An existing path is touched only once it is known to be a sqlite database (or empty): a mistyped path to
 * some other file (`/dev/null`, a config file) is refused as it is, never chmodded.
 */
function preparePrivateFile(path: string, logger: Logger): string {
  if (existsSync(path)) assertSqliteFile(path);
  mkdirSync(dirname(path), { recursive: true, mode: DIR_MODE });
  // 'a' creates the file if missing and never truncates it; fails with EISDIR on a directory.
  closeSync(openSync(path, 'a', FILE_MODE));
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    if (!existsSync(file)) continue;
    const mode = statSync(file).mode & 0o777;
    if ((mode & ~FILE_MODE) === 0) continue;
    chmodSync(file, FILE_MODE);
    logger.warn({ file, from: mode.toString(8), to: FILE_MODE.toString(8) }, 'history file was readable by others: permissions tightened');
  }
  return path;
}

/** Throws ConfigError unless `path` is a regular file that is empty or starts with sqlite's header. */
function assertSqliteFile(path: string): void {
  const stat = lstatSync(path);
  if (stat.isDirectory()) return; // opening it reports EISDIR, in the words below
  if (!stat.isFile()) throw new ConfigError(`HISTORY_DB_PATH (${path}) is not a regular file (a device, link or socket): give the path of a sqlite file`);
  if (stat.size === 0) return;
  const header = Buffer.alloc(SQLITE_HEADER.length);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, header, 0, header.length, 0);
  } finally {
    closeSync(fd);
  }
  if (!header.equals(SQLITE_HEADER)) throw new ConfigError(`HISTORY_DB_PATH (${path}) ${openFailureReason({ code: 'SQLITE_NOTADB' })}`);
}

/** What went wrong, in words an operator can act on (sqlite's result codes and Node's errno codes). */
function openFailureReason(error: unknown): string {
  const code = String((error as { code?: unknown }).code ?? '');
  if (/^(SQLITE_READONLY|SQLITE_PERM|EROFS$|EACCES$|EPERM$)/.test(code)) {
    return 'is read-only for the bot (permission denied or a read-only file system): it must be able to write the file and its directory';
  }
  if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) return 'is not a sqlite database, or is corrupt';
  if (code === 'EISDIR') return 'is a directory: give the path of a file inside it';
  // mkdir reports EEXIST when a part of the path is a file.
  if (code === 'ENOTDIR' || code === 'EEXIST') return 'has a file where a directory is expected';
  if (code === 'ENOSPC' || code === 'SQLITE_FULL') return 'cannot be written: the disk is full';
  if (code.startsWith('SQLITE_CANTOPEN')) return 'cannot be opened (is its directory missing or not writable?)';
  const message = error instanceof Error ? error.message : String(error);
  return `cannot be opened: ${message.split('\n')[0]}`;
}
