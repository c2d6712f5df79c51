import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { ConfigError } from '../config.js';
import type { Logger } from '../logger.js';

/** How often the holder writes its heartbeat into the file. */
const HEARTBEAT_MS = 5_000;
/** A holder whose heartbeat is older than this is gone (three missed heartbeats, as with Redis's heartbeat keys). */
export const LEASE_TTL_MS = 15_000;

/** Where a process runs: a pid means something only within the same host and pid namespace (container). */
export interface ProcessIdentity {
  host: string;
  pidNamespace: string;
  pid: number;
}

interface OwnerRow {
  instance: string;
  host: string;
  pid_namespace: string;
  pid: number;
  heartbeat_at: number;
}

/** Leases held by this process, so a second opener in the same process can tell a live holder from a dead one. */
const heldHere = new Set<string>();

/**
 * One process at a time per sqlite file: a row in the file names the holder (host, pid namespace, pid) and
 * carries its heartbeat (every 5 s). A second process refuses to start while the holder is alive, rather
 * than wait: in a rolling deploy the old process is stopped only once the new one is up, so waiting would
 * hang silently where a refusal says what is wrong. The holder counts as gone (and the lease is taken over)
 * when it is provably so: its pid no longer runs on this host and namespace (kill -9: no wait at all), or
 * its heartbeat is older than LEASE_TTL_MS (another machine: at most 15 s).
 */
export class FileLease {
  private readonly timer: NodeJS.Timeout;
  private lastProblem: string | undefined;

  private constructor(
    private readonly db: Database.Database,
    private readonly instance: string,
    private readonly logger: Logger,
    private readonly now: () => number,
  ) {
    heldHere.add(this.instance);
    this.timer = setInterval(() => this.heartbeat(), HEARTBEAT_MS);
    this.timer.unref();
  }

  /**
   * Takes the file's lease for this process; throws ConfigError naming HISTORY_DB_PATH while a live process
   * holds it. `identity` and `now` are for tests (another host, a later time).
   */
  static acquire(
    db: Database.Database,
    logger: Logger,
    { identity = thisProcess(), now = Date.now }: { identity?: ProcessIdentity; now?: () => number } = {},
  ): FileLease {
    db.exec(`CREATE TABLE IF NOT EXISTS file_owner (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      instance TEXT NOT NULL, host TEXT NOT NULL, pid_namespace TEXT NOT NULL, pid INTEGER NOT NULL,
      heartbeat_at INTEGER NOT NULL
    )`);
    const instance = randomUUID();
    db.transaction(() => {
      const holder = db.prepare('SELECT * FROM file_owner WHERE id = 1').get() as OwnerRow | undefined;
      if (holder && isAlive(holder, identity, now())) {
        const seconds = Math.round((now() - holder.heartbeat_at) / 1000);
        throw new ConfigError(
          `HISTORY_DB_PATH (${db.name}) is in use by another running bot (pid ${holder.pid} on ${holder.host}, last heartbeat ${seconds} s ago): ` +
            'run one process per sqlite file (stop the other first), or HISTORY_STORE=redis for several instances',
        );
      }
      db.prepare(
        `INSERT OR REPLACE INTO file_owner (id, instance, host, pid_namespace, pid, heartbeat_at) VALUES (1, ?, ?, ?, ?, ?)`,
      ).run(instance, identity.host, identity.pidNamespace, identity.pid, now());
    }).immediate();
    return new FileLease(db, instance, logger, now);
  }

  /** True while the file still names this process as its holder. */
  held(): boolean {
    const row = this.db.prepare('SELECT instance FROM file_owner WHERE id = 1').get() as { instance: string } | undefined;
    return row?.instance === this.instance;
  }

  /**
   * True when the file can be written now: through a fresh connection (so a file broken on disk is seen even
   * while this process's cache still serves it), renews the heartbeat in a transaction. False on any error, when
   * another process has taken the lease over, or while another process holds the write lock: the probe does not
   * wait for it (no busy timeout), because sqlite waits synchronously, on the event loop.
   */
  probe(): boolean {
    let probe: Database.Database | undefined;
    try {
      probe = this.db.memory ? this.db : new Database(this.db.name, { fileMustExist: true, timeout: 0 });
      return this.renew(probe);
    } catch {
      return false;
    } finally {
      if (probe !== this.db) probe?.close();
    }
  }

  /** Gives the file back (graceful shutdown), so the next process starts at once. Never throws. */
  release(): void {
    clearInterval(this.timer);
    heldHere.delete(this.instance);
    try {
      this.db.prepare('DELETE FROM file_owner WHERE instance = ?').run(this.instance);
    } catch (error) {
      // The heartbeat stops anyway: the next process waits for it to go stale, or sees this pid gone.
      this.logger.warn({ err: error, file: this.db.name }, 'could not release the history file');
    }
  }

  private renew(db: Database.Database): boolean {
    return db.transaction(() => db.prepare('UPDATE file_owner SET heartbeat_at = ? WHERE instance = ?').run(this.now(), this.instance).changes === 1)();
  }

  /** One log line per kind of problem, not one every 5 s. */
  private heartbeat(): void {
    let problem: string | undefined;
    try {
      if (!this.renew(this.db)) problem = 'another process took the history file over: this one no longer answers orphaned questions; stop one of them';
    } catch (error) {
      problem = `could not write the history file's heartbeat: ${(error as Error).message}`;
    }
    if (problem !== undefined && problem !== this.lastProblem) this.logger.error({ file: this.db.name }, problem);
    if (problem === undefined && this.lastProblem !== undefined) this.logger.info({ file: this.db.name }, 'history file heartbeat written again');
    this.lastProblem = problem;
  }
}

/** Whether the recorded holder may still be running (see FileLease). */
function isAlive(holder: OwnerRow, self: ProcessIdentity, now: number): boolean {
  if (now - holder.heartbeat_at >= LEASE_TTL_MS) return false;
  if (holder.host !== self.host || holder.pid_namespace !== self.pidNamespace) return true;
  if (holder.pid === self.pid) return heldHere.has(holder.instance);
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (error) {
    // EPERM: the pid runs, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** This process's host, pid namespace and pid. */
export function thisProcess(): ProcessIdentity {
  let pidNamespace = '';
  try {
    pidNamespace = readlinkSync('/proc/self/ns/pid');
  } catch {
    // Not Linux: the host name alone tells machines apart.
  }
  return { host: hostname(), pidNamespace, pid: process.pid };
}
