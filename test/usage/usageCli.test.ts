import Database from 'better-sqlite3';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import type { AnswerUsage } from '../../src/claude/claudeStream.js';
import { RedisUsageLedger } from '../../src/usage/redisUsageLedger.js';
import { SqliteUsageLedger } from '../../src/usage/sqliteUsageLedger.js';
import { DAY_MS, utcDay, type UsageLedger } from '../../src/usage/usageLedger.js';
import { describeRedis, RedisServer } from '../redis/helpers.js';
import { openSqliteStores, tempDbPath } from '../stores/helpers.js';

const root = resolve(import.meta.dirname, '../..');
const tsxLoader = pathToFileURL(join(root, 'node_modules/tsx/dist/loader.mjs')).href;
const BOT_TOKEN = 'xoxb-usage-cli-SECRET';
const REDIS_PASSWORD = 'redis-pass-SECRET';

/** Runs `npm run usage`'s entry point (as the script does: node --import tsx) in an empty directory, with only `env`. */
function runUsage(env: Record<string, string>, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['--import', tsxLoader, join(root, 'src/cli/usage.ts'), ...args],
      {
        cwd: mkdtempSync(join(tmpdir(), 'usage-cli-')),
        env: { PATH: process.env.PATH, SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_SIGNING_SECRET: 'signing-secret', ANTHROPIC_API_KEY: 'sk-ant-SECRET', ...env },
      },
      (error, stdout, stderr) => done({ code: error ? Number(error.code) : 0, stdout, stderr }),
    );
  });
}

function usage(overrides: Partial<AnswerUsage>): AnswerUsage {
  return { inputTokens: 0, cacheCreationInputTokens: 0, cacheReadInputTokens: 0, outputTokens: 0, thinkingTokens: 0, ...overrides };
}

const today = utcDay(Date.now());
const yesterday = utcDay(Date.now() - DAY_MS);

/** Records the same answers into a ledger `open`ed on a clock: yesterday's, today's, and one too old for 7d. */
async function prepare(open: (now: () => number) => UsageLedger): Promise<void> {
  const at = (daysAgo: number) => open(() => Date.now() - daysAgo * DAY_MS);
  await at(8).record({ teamId: 'T1', userId: 'U1', model: 'claude-sonnet-5-5' }, usage({ inputTokens: 999 }));
  await at(1).record(
    { teamId: 'T1', userId: 'U1', model: 'claude-sonnet-5-5' },
    usage({ inputTokens: 1_000_000, outputTokens: 100_000, thinkingTokens: 40_000, cacheCreationInputTokens: 200_000, cacheReadInputTokens: 1_000_000 }),
  );
  const now = at(0);
  await now.record({ teamId: 'T1', userId: 'U1', model: 'claude-sonnet-5-5' }, usage({ inputTokens: 4_000, outputTokens: 500, thinkingTokens: 500 }));
  await now.record({ teamId: 'T1', userId: 'U1', model: 'claude-sonnet-5-5' }, usage({ inputTokens: 6_000, outputTokens: 1_500 }));
  await now.record({ teamId: 'T1', userId: 'U2', model: 'claude-mystery-1' }, usage({ inputTokens: 70, outputTokens: 30 }));
}

/**
 * The table for `prepare`'s answers. Sonnet 5.5 at $2 in, $10 out, $2.50 cache write, $0.10 cache read per
 * million: yesterday 2 + 1 + 0.5 + 0.1; today 0.02 + 0.02. The unknown model has no price.
 */
const expected = (since: string) =>
  [
    `Token usage since ${since} (UTC days); cost estimated at list prices.`,
    '',
    'day         team  user  model              answers      input  output (thinking)  cache write  cache read   cost USD',
    '----------  ----  ----  -----------------  -------  ---------  -----------------  -----------  ----------  ---------',
    `${yesterday}  T1    U1    claude-sonnet-5-5        1  1,000,000   100,000 (40,000)      200,000   1,000,000    $3.6000`,
    `${today}  T1    U1    claude-sonnet-5-5        2     10,000        2,000 (500)            0           0    $0.0400`,
    `${today}  T1    U2    claude-mystery-1         1         70             30 (0)            0           0        n/a`,
    '----------  ----  ----  -----------------  -------  ---------  -----------------  -----------  ----------  ---------',
    'total                                            4  1,010,070   102,030 (40,500)      200,000   1,000,000  $3.6400 *',
    '',
    'n/a: no price for claude-mystery-1 (add it to CLAUDE_PRICES); * the total cost leaves it out.',
    '',
  ].join('\n');

describe('npm run usage', () => {
  test('sqlite: prints the table per day, user and model with totals, read-only while a bot holds the file', async () => {
    const path = tempDbPath();
    const bot = openSqliteStores(path);
    const connections: Database.Database[] = [];
    try {
      await prepare((now) => {
        const db = new Database(path);
        connections.push(db);
        return new SqliteUsageLedger(db, 90 * DAY_MS, now);
      });
      const env = { HISTORY_STORE: 'sqlite', HISTORY_DB_PATH: path };
      expect(await runUsage(env, ['--since', '7d'])).toEqual({ code: 0, stdout: expected(utcDay(Date.now() - 6 * DAY_MS)), stderr: '' });
      expect(await runUsage(env, [`--since=${yesterday}`])).toEqual({ code: 0, stdout: expected(yesterday), stderr: '' });
      // The running bot still holds its file.
      expect(await bot.ready()).toBe(true);
    } finally {
      for (const db of connections) db.close();
      await bot.close();
    }
  });

  test('an empty store says so', async () => {
    const path = tempDbPath();
    const bot = openSqliteStores(path);
    await bot.close();
    expect(await runUsage({ HISTORY_STORE: 'sqlite', HISTORY_DB_PATH: path }, [])).toEqual({
      code: 0,
      stdout: `No token usage recorded since ${utcDay(Date.now() - 6 * DAY_MS)} (UTC).\n`,
      stderr: '',
    });
  });

  test('before the bot ever started (no sqlite file yet) there is simply no usage, and no file is created', async () => {
    const path = tempDbPath();
    expect(await runUsage({ HISTORY_STORE: 'sqlite', HISTORY_DB_PATH: path }, [])).toEqual({
      code: 0,
      stdout: `No token usage recorded since ${utcDay(Date.now() - 6 * DAY_MS)} (UTC).\n`,
      stderr: '',
    });
    expect(existsSync(path)).toBe(false);
  });

  test.each([[['--since', '7']], [['--since', '2026-02-30']], [['--sinse', '7d']]])(
    'refuses %j with one line and exit code 1',
    async (args) => {
      const result = await runUsage({ HISTORY_STORE: 'sqlite', HISTORY_DB_PATH: tempDbPath() }, args);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(/^Bad argument: .+\n$/);
    },
  );

  test('an unreachable Redis is one line, without its password', async () => {
    const result = await runUsage({ HISTORY_STORE: 'redis', REDIS_URL: `redis://:${REDIS_PASSWORD}@127.0.0.1:1` }, []);
    expect(result).toEqual({ code: 1, stdout: '', stderr: 'Could not read token usage: Redis is unreachable (REDIS_URL)\n' });
  });
});

describeRedis('npm run usage on Redis', () => {
  let server: RedisServer;
  beforeAll(async () => {
    // Its own server: the report reads the bot's real key prefix, which the shared Redis must not be given.
    server = await RedisServer.start();
  });
  afterAll(() => server.kill());

  test('prints the same table from the keys the bot writes', async () => {
    const redis = new Redis(server.url);
    try {
      await prepare((now) => new RedisUsageLedger(redis, 90 * DAY_MS, 'claude-bot:', now));
    } finally {
      redis.disconnect();
    }
    expect(await runUsage({ HISTORY_STORE: 'redis', REDIS_URL: server.url }, ['--since', '7d'])).toEqual({
      code: 0,
      stdout: expected(utcDay(Date.now() - 6 * DAY_MS)),
      stderr: '',
    });
  });
});
