import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/config.js';
import { runBotToExit } from '../processBot.js';
import { openSqliteStores, tempDbPath } from './helpers.js';

/** The entry point against unreachable Slack and Claude (start-up fails before it calls them). */
function startBot(env: Record<string, string>) {
  return runBotToExit(
    {
      SLACK_BOT_TOKEN: 'xoxb-test',
      SLACK_SIGNING_SECRET: 'signing-secret',
      ANTHROPIC_API_KEY: 'sk-ant-test',
      SLACK_API_URL: 'http://127.0.0.1:9/api/',
      ANTHROPIC_BASE_URL: 'http://127.0.0.1:9',
      PORT: '0',
      ...env,
    },
    {},
  );
}

function corruptFile(): string {
  const path = tempDbPath();
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, Buffer.alloc(8192, 'this is not a database '));
  return path;
}

describe('an unusable HISTORY_DB_PATH', () => {
  test.each([
    ['a directory', () => mkdtempSync(join(tmpdir(), 'stores-dir-')), /is a directory/],
    ['a corrupt file', corruptFile, /is not a sqlite database, or is corrupt/],
    [
      'below a regular file',
      () => {
        const file = join(mkdtempSync(join(tmpdir(), 'stores-')), 'file');
        writeFileSync(file, 'x');
        return join(file, 'history.sqlite');
      },
      /has a file where a directory is expected/,
    ],
  ])('%s: openStores throws one ConfigError line naming HISTORY_DB_PATH and the reason', (_kind, makePath, reason) => {
    const path = makePath();
    let thrown: unknown;
    try {
      openSqliteStores(path);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    const message = (thrown as Error).message;
    expect(message).toMatch(/^HISTORY_DB_PATH \(/);
    expect(message).toContain(path);
    expect(message).toMatch(reason);
    expect(message).not.toContain('\n');
  });

  test('a corrupt file: the process exits 1 with one line naming HISTORY_DB_PATH, before "bot started"', async () => {
    const result = await startBot({ HISTORY_DB_PATH: corruptFile() });
    expect(result.code).toBe(1);
    expect(result.stdout).not.toContain('bot started');
    expect(result.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^Configuration error: HISTORY_DB_PATH .* is not a sqlite database, or is corrupt$/)]);
  });

  test('a read-only file: the process exits 1 with one line naming HISTORY_DB_PATH', async () => {
    const path = tempDbPath();
    const stores = openSqliteStores(path);
    await stores.close();
    chmodSync(path, 0o444);
    chmodSync(join(path, '..'), 0o555);
    // Root writes any file whatever its mode, but not an immutable one (ext4's `i` attribute).
    const asRoot = process.getuid?.() === 0;
    if (asRoot) execFileSync('chattr', ['+i', path]);
    try {
      const result = await startBot({ HISTORY_DB_PATH: path });
      expect(result.code).toBe(1);
      expect(result.stdout).not.toContain('bot started');
      expect(result.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^Configuration error: HISTORY_DB_PATH .* is read-only for the bot/)]);
    } finally {
      if (asRoot) execFileSync('chattr', ['-i', path]);
    }
  });

  test.each([
    ['a file that is not a database', () => {
      const path = join(mkdtempSync(join(tmpdir(), 'stores-')), 'settings.conf');
      writeFileSync(path, 'shared = true\n');
      return path;
    }, /is not a sqlite database/],
    ['a named pipe (like /dev/null, not a regular file)', () => {
      const path = join(mkdtempSync(join(tmpdir(), 'stores-')), 'pipe');
      execFileSync('mkfifo', ['-m', '0666', path]);
      return path;
    }, /is not a regular file/],
  ])('a mistyped path to %s is refused and left exactly as it was', (_kind, makePath, reason) => {
    const path = makePath();
    chmodSync(path, 0o666);
    expect(() => openSqliteStores(path)).toThrow(reason);
    expect(statSync(path).mode & 0o777).toBe(0o666);
  });
});
