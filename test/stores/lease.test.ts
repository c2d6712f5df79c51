import Database from 'better-sqlite3';
import { ConfigError } from '../../src/config.js';
import { FileLease, LEASE_TTL_MS, thisProcess, type ProcessIdentity } from '../../src/coordination/fileLease.js';
import type { InflightAnswer } from '../../src/inflight/inflightRegistry.js';
import { memoryLogger, waitFor } from '../redis/helpers.js';
import { openSqliteStores, tempDbPath } from './helpers.js';

const { logger } = memoryLogger();
const elsewhere: ProcessIdentity = { host: 'another-host', pidNamespace: 'pid:[1]', pid: 4242 };

const inflightAnswer: InflightAnswer = {
  teamId: 'T1',
  channel: 'C1',
  threadTs: '1.1',
  replyTs: '1.2',
  userId: 'U1',
  question: 'q',
  startedAt: 1,
  owner: 'instance-a',
};

/** Another process's view of the file: its own connection, and a lease taken as `identity` at `now`. */
function otherProcess(path: string, identity: ProcessIdentity, now: () => number) {
  const db = new Database(path);
  try {
    return { db, lease: FileLease.acquire(db, logger, { identity, now }) };
  } catch (error) {
    db.close();
    throw error;
  }
}

describe('one process per sqlite file', () => {
  test('while the stores are open in this process, opening them again is refused with one line naming HISTORY_DB_PATH', async () => {
    const path = tempDbPath();
    const first = openSqliteStores(path);
    expect(() => openSqliteStores(path)).toThrow(ConfigError);
    expect(() => openSqliteStores(path)).toThrow(/^HISTORY_DB_PATH \(.*\) is in use by another running bot \(pid \d+ on .*\): run one process per sqlite file/);
    await first.close();

    // Closed (a graceful stop): the file is free at once.
    const second = openSqliteStores(path);
    await second.close();
  });

  test('a live holder on another host is refused; once its heartbeat is older than the TTL the file is taken over', async () => {
    const path = tempDbPath();
    await openSqliteStores(path).close();
    const start = Date.now();
    const holder = otherProcess(path, elsewhere, () => start);
    try {
      const later = (ms: number) => () => start + ms;
      expect(() => otherProcess(path, { ...elsewhere, host: 'third-host' }, later(LEASE_TTL_MS - 1_000))).toThrow(/is in use by another running bot \(pid 4242 on another-host/);

      const taker = otherProcess(path, { ...elsewhere, host: 'third-host' }, later(LEASE_TTL_MS + 1_000));
      expect(taker.lease.held()).toBe(true);
      expect(holder.lease.held()).toBe(false);
      taker.lease.release();
      taker.db.close();
    } finally {
      holder.lease.release();
      holder.db.close();
    }
  });

  test('a holder on this host whose process is gone (kill -9) is taken over at once, heartbeat fresh or not', async () => {
    const path = tempDbPath();
    await openSqliteStores(path).close();
    const crashed = otherProcess(path, { ...thisProcess(), pid: 2 ** 22 + 12345 }, Date.now);
    // Like kill -9: the holder leaves its row behind.
    crashed.db.close();

    const stores = openSqliteStores(path);
    await stores.close();
  });

  test('stores whose file was taken over are not ready and claim no orphans', async () => {
    const path = tempDbPath();
    const stores = openSqliteStores(path);
    try {
      await stores.inflight.add(inflightAnswer);
      expect(await stores.ready()).toBe(true);

      // This process stalled past the TTL, and another process took the file over meanwhile.
      const taker = otherProcess(path, elsewhere, () => Date.now() + LEASE_TTL_MS + 1_000);
      // A readiness answer is reused for a second: the change shows within it.
      await waitFor(async () => !(await stores.ready()));
      expect(await stores.inflight.claimOrphans('instance-b')).toEqual([]);
      taker.lease.release();
      taker.db.close();
    } finally {
      await stores.close();
    }
  });
});
