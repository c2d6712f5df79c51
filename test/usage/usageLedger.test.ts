import Database from 'better-sqlite3';
import type { AnswerUsage } from '../../src/claude/claudeStream.js';
import { MemoryUsageLedger } from '../../src/usage/memoryUsageLedger.js';
import { RedisUsageLedger } from '../../src/usage/redisUsageLedger.js';
import { readSqliteUsage, SqliteUsageLedger } from '../../src/usage/sqliteUsageLedger.js';
import { DAY_MS, type UsageLedger } from '../../src/usage/usageLedger.js';
import { describeRedis, useRedisPair } from '../redis/helpers.js';
import { tempDbPath } from '../stores/helpers.js';

/** 2026-11-30 21:00 UTC: three hours before the daily limits reset. */
const EVENING = Date.UTC(2026, 10, 30, 21);
const MIDNIGHT = Date.UTC(2026, 11, 1);
const RETENTION_MS = 90 * DAY_MS;
const SONNET = 'claude-sonnet-5-5';

function usage(overrides: Partial<AnswerUsage> = {}): AnswerUsage {
  return { inputTokens: 100, cacheCreationInputTokens: 20, cacheReadInputTokens: 300, outputTokens: 50, thinkingTokens: 30, ...overrides };
}

/** A clock the test sets; every ledger under test reads it. */
class Clock {
  constructor(public ms: number) {}
  readonly now = () => this.ms;
}

/**
 * What every ledger promises, whatever keeps it. `open(clock)` gives a ledger; `second(clock)` another one on
 * the same data (another instance's), where the store is shared.
 */
function behavesAsLedger(open: (clock: Clock) => UsageLedger, second?: (clock: Clock) => UsageLedger): void {
  let clock: Clock;
  let ledger: UsageLedger;
  beforeEach(() => {
    clock = new Clock(EVENING);
    ledger = open(clock);
  });
  afterEach(() => ledger.close());

  test('sums answers per (day, team, user, model); the limits count input, cache and output tokens, per user and per workspace', async () => {
    await ledger.record({ teamId: 'T1', userId: 'U1', model: SONNET }, usage());
    await ledger.record({ teamId: 'T1', userId: 'U1', model: SONNET }, usage({ inputTokens: 1, outputTokens: 2, thinkingTokens: 0 }));
    await ledger.record({ teamId: 'T1', userId: 'U1', model: 'claude-opus-5-5' }, usage({ cacheReadInputTokens: 0 }));
    await ledger.record({ teamId: 'T1', userId: 'U2', model: SONNET }, usage({ cacheCreationInputTokens: 0, cacheReadInputTokens: 0 }));
    await ledger.record({ teamId: 'T2', userId: 'U1', model: SONNET }, usage({ inputTokens: 5_000 }));

    // U1 in T1: 470 + 323 + 170; U2: 150; T2's tokens are another workspace's.
    expect(await ledger.usedToday('T1', 'U1')).toEqual({ user: 963, workspace: 1113 });
    expect(await ledger.usedToday('T1', 'U3')).toEqual({ user: 0, workspace: 1113 });
    expect(await ledger.usedToday('T3', 'U1')).toEqual({ user: 0, workspace: 0 });
    expect(await ledger.rowsSince('2026-11-30')).toEqual([
      { day: '2026-11-30', teamId: 'T1', userId: 'U1', model: 'claude-opus-5-5', answers: 1, usage: usage({ cacheReadInputTokens: 0 }) },
      {
        day: '2026-11-30',
        teamId: 'T1',
        userId: 'U1',
        model: SONNET,
        answers: 2,
        usage: { inputTokens: 101, cacheCreationInputTokens: 40, cacheReadInputTokens: 600, outputTokens: 52, thinkingTokens: 30 },
      },
      { day: '2026-11-30', teamId: 'T1', userId: 'U2', model: SONNET, answers: 1, usage: usage({ cacheCreationInputTokens: 0, cacheReadInputTokens: 0 }) },
      { day: '2026-11-30', teamId: 'T2', userId: 'U1', model: SONNET, answers: 1, usage: usage({ inputTokens: 5_000 }) },
    ]);
  });

  test('the day rolls over at 00:00 UTC: tokens of the day before no longer count, and each day keeps its own rows', async () => {
    clock.ms = MIDNIGHT - 1;
    await ledger.record({ teamId: 'T1', userId: 'U1', model: SONNET }, usage());
    expect(await ledger.usedToday('T1', 'U1')).toEqual({ user: 470, workspace: 470 });

    clock.ms = MIDNIGHT;
    expect(await ledger.usedToday('T1', 'U1')).toEqual({ user: 0, workspace: 0 });
    await ledger.record({ teamId: 'T1', userId: 'U1', model: SONNET }, usage({ outputTokens: 10 }));
    expect(await ledger.usedToday('T1', 'U1')).toEqual({ user: 430, workspace: 430 });

    expect((await ledger.rowsSince('2026-11-01')).map((row) => [row.day, row.usage.outputTokens])).toEqual([
      ['2026-11-30', 50],
      ['2026-12-01', 10],
    ]);
    expect((await ledger.rowsSince('2026-12-01')).map((row) => row.day)).toEqual(['2026-12-01']);
    expect(await ledger.rowsSince('2026-12-02')).toEqual([]);
  });

  test('answers recorded at the same time are all counted', async () => {
    const other = second?.(clock) ?? ledger;
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? other : ledger).record({ teamId: 'T1', userId: `U${i % 3}`, model: SONNET }, usage())),
    );
    expect(await other.usedToday('T1', 'U0')).toEqual({ user: 7 * 470, workspace: 20 * 470 });
    const rows = await ledger.rowsSince('2026-11-30');
    expect(rows.map((row) => row.answers)).toEqual([7, 7, 6]);
    if (other !== ledger) await other.close();
  });
}

describe('MemoryUsageLedger', () => {
  behavesAsLedger((clock) => new MemoryUsageLedger(RETENTION_MS, clock.now));

  test('days older than the retention time are deleted at the first record of a new day', async () => {
    const clock = new Clock(EVENING);
    const ledger = new MemoryUsageLedger(RETENTION_MS, clock.now);
    await ledger.record({ teamId: 'T1', userId: 'U1', model: SONNET }, usage());
    clock.ms = EVENING + RETENTION_MS + DAY_MS;
    await ledger.record({ teamId: 'T1', userId: 'U1', model: SONNET }, usage());
    expect((await ledger.rowsSince('2000-01-01')).map((row) => row.day)).toEqual(['2027-03-01']);
  });
});

describe('SqliteUsageLedger', () => {
  const opened: Database.Database[] = [];
  const connect = (path: string) => {
    const db = new Database(path);
    opened.push(db);
    return db;
  };
  afterEach(() => {
    for (const db of opened.splice(0)) db.close();
  });

  behavesAsLedger((clock) => new SqliteUsageLedger(connect(tempDbPath()), RETENTION_MS, clock.now));

  test('rows survive a restart; days older than the retention time are deleted when the ledger opens', async () => {
    const path = tempDbPath();
    const clock = new Clock(EVENING);
    await new SqliteUsageLedger(connect(path), RETENTION_MS, clock.now).record({ teamId: 'T1', userId: 'U1', model: SONNET }, usage());
    clock.ms = EVENING + DAY_MS;
    await new SqliteUsageLedger(connect(path), RETENTION_MS, clock.now).record({ teamId: 'T1', userId: 'U1', model: SONNET }, usage());

    clock.ms = EVENING + RETENTION_MS + DAY_MS / 2;
    const reopened = new SqliteUsageLedger(connect(path), RETENTION_MS, clock.now);
    expect((await reopened.rowsSince('2000-01-01')).map((row) => row.day)).toEqual(['2026-12-01']);
  });

  test('a file without a ledger (an older release) reads as no rows, through a read-only connection', () => {
    const path = tempDbPath();
    connect(path).exec('CREATE TABLE exchanges (id INTEGER)');
    const readOnly = new Database(path, { readonly: true, fileMustExist: true });
    opened.push(readOnly);
    expect(readSqliteUsage(readOnly, '2000-01-01')).toEqual([]);
  });
});

describeRedis('RedisUsageLedger', () => {
  const redis = useRedisPair();

  behavesAsLedger(
    (clock) => new RedisUsageLedger(redis.a(), RETENTION_MS, redis.prefix(), clock.now),
    (clock) => new RedisUsageLedger(redis.b(), RETENTION_MS, redis.prefix(), clock.now),
  );

  test("a day's key expires the retention time after that day ends", async () => {
    const clock = new Clock(EVENING);
    await new RedisUsageLedger(redis.a(), RETENTION_MS, redis.prefix(), clock.now).record({ teamId: 'T1', userId: 'U1', model: SONNET }, usage());
    const ttl = await redis.a().pttl(`${redis.prefix()}usage:2026-11-30`);
    // The three hours left in the day, then the retention time (the expiry is relative: Redis's clock is not the test's).
    expect(ttl).toBeGreaterThan(RETENTION_MS + 2 * 60 * 60 * 1000);
    expect(ttl).toBeLessThanOrEqual(RETENTION_MS + 3 * 60 * 60 * 1000);
  });

  test('fields written by hand are skipped; reports read only the days still kept', async () => {
    const clock = new Clock(EVENING);
    const ledger = new RedisUsageLedger(redis.a(), RETENTION_MS, redis.prefix(), clock.now);
    await ledger.record({ teamId: 'T1', userId: 'U1', model: SONNET }, usage());
    await redis.a().hset(`${redis.prefix()}usage:2026-11-30`, 'not json', '5', '["T1","U1","m","bogus"]', '7');
    expect((await ledger.rowsSince('1970-01-01')).map((row) => [row.day, row.answers, row.usage])).toEqual([['2026-11-30', 1, usage()]]);
  });
});
