import { jest } from '@jest/globals';
import { loadConfig } from '../../src/config.js';
import { openLocalStores, type Stores } from '../../src/stores.js';
import { memoryLogger } from '../redis/helpers.js';
import { openSqliteStores, tempDbPath } from './helpers.js';

const DAY = 24 * 60 * 60 * 1000;
const HOUR = 60 * 60 * 1000;
const T0 = Date.UTC(2026, 0, 1);
const stale = { teamId: 'T1', channel: 'C1', threadTs: '1.1' };
const active = { teamId: 'T1', channel: 'C1', threadTs: '2.2' };

/** Opens the stores HISTORY_STORE names with HISTORY_TTL_DAYS `ttlDays`. */
const stores: Record<string, (ttlDays: string, path: string) => Stores> = {
  sqlite: (ttlDays, path) => openSqliteStores(path, { HISTORY_TTL_DAYS: ttlDays }),
  memory: (ttlDays) =>
    openLocalStores(
      loadConfig({ SLACK_BOT_TOKEN: 'xoxb-t', SLACK_SIGNING_SECRET: 'signing-secret', ANTHROPIC_API_KEY: 'k', HISTORY_STORE: 'memory', HISTORY_TTL_DAYS: ttlDays }),
      memoryLogger().logger,
    ),
};

describe('retention: a thread idle for HISTORY_TTL_DAYS is deleted', () => {
  beforeEach(() => {
    jest.useFakeTimers({ now: T0 });
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  test.each(Object.keys(stores))('%s: swept hourly while running; a thread with a recent exchange keeps its older ones', async (kind) => {
    const open = stores[kind]!('90', tempDbPath());
    try {
      await open.history.appendExchange(stale, { question: 'old question', answer: 'old answer' });
      await open.history.appendExchange(active, { question: 'first', answer: 'one' });
      jest.setSystemTime(T0 + 50 * DAY);
      await open.history.appendExchange(active, { question: 'second', answer: 'two' });

      jest.setSystemTime(T0 + 90 * DAY + HOUR);
      jest.advanceTimersByTime(HOUR);
      expect(await open.history.load(stale)).toEqual([]);
      expect(await open.history.load(active)).toHaveLength(2);
    } finally {
      await open.close();
    }
  });

  test('sqlite: swept when the stores open, with the configured HISTORY_TTL_DAYS', async () => {
    const path = tempDbPath();
    const first = stores.sqlite!('1', path);
    await first.history.appendExchange(stale, { question: 'q', answer: 'a' });
    jest.setSystemTime(T0 + DAY / 2);
    await first.history.appendExchange(active, { question: 'q', answer: 'a' });
    await first.close();

    jest.setSystemTime(T0 + DAY + HOUR);
    const { logger, lines } = memoryLogger();
    const reopened = openSqliteStores(path, { HISTORY_TTL_DAYS: '1' }, logger);
    try {
      expect(await reopened.history.load(stale)).toEqual([]);
      expect(await reopened.history.load(active)).toHaveLength(1);
      expect(lines.filter((line) => /HISTORY_TTL_DAYS/.test(line.msg))).toEqual([expect.objectContaining({ deleted: 1, ttlDays: 1 })]);
    } finally {
      await reopened.close();
    }
  });
});
