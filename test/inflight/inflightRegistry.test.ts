import Database from 'better-sqlite3';
import type { InflightAnswer, InflightRegistry } from '../../src/inflight/inflightRegistry.js';
import { MemoryInflightRegistry } from '../../src/inflight/memoryInflightRegistry.js';
import { RedisInflightRegistry } from '../../src/inflight/redisInflightRegistry.js';
import { describeRedis, useRedisPair } from '../redis/helpers.js';
import { tempDbPath, useSqliteStores } from '../stores/helpers.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let counter = 0;
function answer(overrides: Partial<InflightAnswer> = {}): InflightAnswer {
  counter += 1;
  return {
    teamId: 'T1',
    channel: 'C1',
    threadTs: '1700000000.000100',
    replyTs: `1700000000.${String(counter).padStart(6, '0')}`,
    userId: 'U1',
    question: `question ${counter} with "quotes", ünïcödé and\nnewlines`,
    startedAt: 1_767_225_600_123 + counter,
    owner: 'instance-a',
    ...overrides,
  };
}

/** The answer as recorded before its placeholder was posted. */
function withoutReply({ replyTs: _replyTs, ...rest }: InflightAnswer): InflightAnswer {
  return rest;
}

const byReplyTs = (answers: InflightAnswer[]) => [...answers].sort((x, y) => x.replyTs!.localeCompare(y.replyTs!));

/** What every registry promises, whatever it keeps entries in; `ownerDies` ends instance-a's liveness where it has one. */
function behavesAsRegistry(open: () => InflightRegistry, ownerDies: () => Promise<unknown> = async () => {}): void {
  let registry: InflightRegistry;
  beforeEach(() => {
    registry = open();
  });
  afterEach(() => registry.close());

  test('removed answers are gone; the rest are handed over with every field intact', async () => {
    const kept = answer();
    const finished = answer();
    await registry.add(kept);
    await registry.add(finished);
    await registry.remove(finished.channel, finished.replyTs!);
    await registry.remove('C-unknown', '1.2');
    await ownerDies();

    expect(await registry.claimOrphans('instance-b')).toEqual([{ ...kept, owner: 'instance-b' }]);
    // Handed over: they are now instance-b's own.
    expect(await registry.claimOrphans('instance-b')).toEqual([]);
  });

  test('an answer recorded before its placeholder was posted is handed over with no reply, and removed by its thread', async () => {
    const held = withoutReply(answer({ threadTs: '1700000000.000400', postId: 'post-400', questionTs: '1700000000.000401' }));
    const removed = withoutReply(answer({ threadTs: '1700000000.000500' }));
    await registry.add(held);
    await registry.add(removed);
    await registry.remove(removed.channel, removed.threadTs);
    await ownerDies();

    const claimed = await registry.claimOrphans('instance-b');
    expect(claimed).toEqual([{ ...held, owner: 'instance-b' }]);
    expect(claimed[0]).not.toHaveProperty('replyTs');
  });

  test('recording the posted placeholder replaces the record made before it: the question is recorded once', async () => {
    const posted = answer({ threadTs: '1700000000.000600' });
    await registry.add(withoutReply(posted));
    await registry.add(posted);
    await ownerDies();

    expect(await registry.claimOrphans('instance-b')).toEqual([{ ...posted, owner: 'instance-b' }]);
  });

  test("an owner's own answers are never its orphans", async () => {
    await registry.add(answer({ owner: 'instance-b' }));
    expect(await registry.claimOrphans('instance-b')).toEqual([]);
  });
}

describe('MemoryInflightRegistry', () => {
  behavesAsRegistry(() => new MemoryInflightRegistry());

  test('heartbeat is a no-op: entries of other owners are claimable at once', async () => {
    const registry = new MemoryInflightRegistry();
    const entry = answer();
    await registry.add(entry);
    await registry.heartbeat('instance-a');
    expect(await registry.claimOrphans('instance-b')).toEqual([{ ...entry, owner: 'instance-b' }]);
  });
});

describe('SqliteInflightRegistry', () => {
  const { open } = useSqliteStores();

  behavesAsRegistry(() => open(tempDbPath()).inflight);

  test('answers survive a restart and are orphans of the next owner (directory created if missing)', async () => {
    const path = tempDbPath('nested', 'data');
    const before = open(path);
    const entries = [answer(), answer()];
    for (const entry of entries) await before.inflight.add(entry);
    await before.close();

    const after = open(path);
    expect(byReplyTs(await after.inflight.claimOrphans('instance-b'))).toEqual(entries.map((entry) => ({ ...entry, owner: 'instance-b' })));
    await after.close();

    // instance-b stopped too before finishing: the next owner gets them again.
    const third = open(path);
    expect(await third.inflight.claimOrphans('instance-c')).toHaveLength(2);
  });

  test('a file written before post ids were recorded is upgraded: its answers are still handed over, new ones keep their post id', async () => {
    const path = tempDbPath();
    const db = new Database(path);
    db.exec(`CREATE TABLE inflight (
      channel TEXT NOT NULL, reply_ts TEXT NOT NULL,
      team_id TEXT NOT NULL, thread_ts TEXT NOT NULL, user_id TEXT NOT NULL,
      question TEXT NOT NULL, started_at INTEGER NOT NULL, owner TEXT NOT NULL,
      PRIMARY KEY (channel, reply_ts)
    )`);
    const old = answer();
    db.prepare('INSERT INTO inflight VALUES (?, ?, ?, ?, ?, ?, ?, ?)').run(old.channel, old.replyTs, old.teamId, old.threadTs, old.userId, old.question, old.startedAt, old.owner);
    db.close();

    const stores = open(path);
    const held = withoutReply(answer({ threadTs: '1700000000.000700', postId: 'post-700', questionTs: '1700000000.000701' }));
    await stores.inflight.add(held);
    expect(await stores.inflight.claimOrphans('instance-b')).toEqual([
      { ...old, owner: 'instance-b' },
      { ...held, owner: 'instance-b' },
    ]);
  });

  test('shares the history file with the history store', async () => {
    const stores = open(tempDbPath());
    const thread = { teamId: 'T1', channel: 'C1', threadTs: '1.1' };
    await stores.history.appendExchange(thread, { question: 'q', answer: 'a' });
    await stores.inflight.add(answer());

    expect(await stores.history.load(thread)).toHaveLength(1);
    expect(await stores.inflight.claimOrphans('instance-b')).toHaveLength(1);
  });
});

describeRedis('RedisInflightRegistry', () => {
  const { a, b, prefix } = useRedisPair();

  describe('contract', () => {
    behavesAsRegistry(
      () => new RedisInflightRegistry(a(), prefix()),
      () => a().del(`${prefix()}instance:instance-a`),
    );
  });

  test("an answer is an orphan only once its owner's heartbeat has expired", async () => {
    const owner = new RedisInflightRegistry(a(), prefix(), 400);
    const other = new RedisInflightRegistry(b(), prefix(), 400);
    const entry = answer();
    await owner.add(entry);
    // Adding marks the owner alive, so a new answer is not an orphan before the first heartbeat.
    expect(await other.claimOrphans('instance-b')).toEqual([]);

    for (let i = 0; i < 4; i++) {
      await sleep(100);
      await owner.heartbeat('instance-a');
    }
    expect(await other.claimOrphans('instance-b')).toEqual([]);

    await sleep(500);
    expect(await other.claimOrphans('instance-b')).toEqual([{ ...entry, owner: 'instance-b' }]);
  });

  test('each orphan is claimed by exactly one of two concurrent claimers', async () => {
    const dead = new RedisInflightRegistry(a(), prefix(), 50);
    const entries = Array.from({ length: 10 }, () => answer());
    for (const entry of entries) await dead.add(entry);
    await sleep(100);

    const claimers = [new RedisInflightRegistry(a(), prefix()), new RedisInflightRegistry(b(), prefix())];
    await Promise.all([claimers[0]!.heartbeat('instance-b'), claimers[1]!.heartbeat('instance-c')]);
    const [toB, toC] = await Promise.all([claimers[0]!.claimOrphans('instance-b'), claimers[1]!.claimOrphans('instance-c')]);

    expect(byReplyTs([...toB!, ...toC!]).map((entry) => entry.replyTs)).toEqual(entries.map((entry) => entry.replyTs));
    // The claimers are alive, so neither's answers are orphans for the other.
    expect(await claimers[0]!.claimOrphans('instance-b')).toEqual([]);
    expect(await claimers[1]!.claimOrphans('instance-c')).toEqual([]);
  });

  test('heartbeat keys expire with the ttl', async () => {
    await new RedisInflightRegistry(a(), prefix()).heartbeat('instance-a');
    const ttl = await a().pttl(`${prefix()}instance:instance-a`);
    expect(ttl).toBeGreaterThan(14_000);
    expect(ttl).toBeLessThanOrEqual(15_000);
  });
});
