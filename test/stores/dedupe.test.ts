import Database from 'better-sqlite3';
import { EVENT_RETENTION_MS, MemoryEventDedupe, RedisEventDedupe, SqliteEventDedupe, type EventDedupe } from '../../src/slack/eventDedupe.js';
import { describeRedis, memoryLogger, useRedisPair } from '../redis/helpers.js';
import { tempDbPath, useSqliteStores } from './helpers.js';

/** Keys of every shape the listeners claim: event ids, message identities, slash-command trigger ids, and worse. */
const KEYS = [
  'Ev0123ABCD',
  'msg:C123:1700000000.000100',
  'cmd:13345224609.738474920.8088930838d88f008e0',
  'with spaces, "quotes", \'apostrophes\', %, *, ?, [brackets] and \\backslashes',
  'ünïcödé 🙂 中文',
  'line\nbreaks\ttabs',
  'x'.repeat(5_000),
];

function behavesAsDedupe(open: () => EventDedupe): void {
  test('the first claim of any string key wins, later ones lose, keys are independent', async () => {
    const dedupe = open();
    for (const key of KEYS) expect([key, await dedupe.claim(key)]).toEqual([key, true]);
    for (const key of KEYS) expect([key, await dedupe.claim(key)]).toEqual([key, false]);
    // A key is not a pattern: a prefix or a near-match of a claimed key is a different key.
    expect(await dedupe.claim('msg:C123:1700000000.00010')).toBe(true);
    expect(await dedupe.claim('msg:C123:*')).toBe(true);
  });
}

describe('MemoryEventDedupe', () => {
  behavesAsDedupe(() => new MemoryEventDedupe());
});

describe('SqliteEventDedupe (the history file)', () => {
  const { open } = useSqliteStores();

  behavesAsDedupe(() => open(tempDbPath()).dedupe);

  test('claims survive a restart on the same file', async () => {
    const path = tempDbPath();
    const before = open(path);
    expect(await before.dedupe.claim('Ev1')).toBe(true);
    await before.close();

    const after = open(path);
    expect(await after.dedupe.claim('Ev1')).toBe(false);
    expect(await after.dedupe.claim('Ev2')).toBe(true);
  });

  test('a key is kept for the retention time, then claimable again; expired rows are deleted from the file', async () => {
    const path = tempDbPath();
    const db = new Database(path);
    let now = 1_800_000_000_000;
    const dedupe = new SqliteEventDedupe(db, memoryLogger().logger, EVENT_RETENTION_MS, () => now);
    try {
      for (let i = 0; i < 50; i++) await dedupe.claim(`old-${i}`);
      now += EVENT_RETENTION_MS - 1;
      expect(await dedupe.claim('old-0')).toBe(false);
      now += 1;
      expect(await dedupe.claim('old-0')).toBe(true);
      expect(await dedupe.claim('new')).toBe(true);
      // Nothing older than the retention time stays in the file: only the two keys claimed since.
      expect(db.prepare('SELECT count(*) AS n FROM event_claims').get()).toEqual({ n: 2 });
    } finally {
      db.close();
    }
  });

  test('fails open with a log line when the file cannot be written', async () => {
    const db = new Database(tempDbPath());
    const { logger, lines } = memoryLogger();
    const dedupe = new SqliteEventDedupe(db, logger);
    db.close();
    expect(await dedupe.claim('Ev1')).toBe(true);
    expect(lines.filter((line) => line.level === 40 && line.key === 'Ev1')).toHaveLength(1);
  });
});

describeRedis('RedisEventDedupe', () => {
  const { a, prefix } = useRedisPair();
  behavesAsDedupe(() => new RedisEventDedupe(a(), memoryLogger().logger, prefix()));
});
