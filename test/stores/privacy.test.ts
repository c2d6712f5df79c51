import { chmodSync, existsSync, mkdirSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { memoryLogger } from '../redis/helpers.js';
import { openSqliteStores, tempDbPath } from './helpers.js';

const modeOf = (path: string) => (statSync(path).mode & 0o777).toString(8);
const thread = { teamId: 'T1', channel: 'C1', threadTs: '1.1' };

describe('privacy of the sqlite history file', () => {
  test('a created directory is 0700; the database, its -wal and -shm are 0600', async () => {
    const path = tempDbPath('data');
    const stores = openSqliteStores(path);
    try {
      await stores.history.appendExchange(thread, { question: 'a private question', answer: 'a private answer' });
      expect(modeOf(dirname(path))).toBe('700');
      for (const file of [path, `${path}-wal`, `${path}-shm`]) {
        expect(existsSync(file)).toBe(true);
        expect([file, modeOf(file)]).toEqual([file, '600']);
      }
    } finally {
      await stores.close();
    }
  });

  test('an existing file, -wal and -shm readable by others are tightened to 0600, with a log line; an existing directory keeps its mode', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stores-'));
    chmodSync(dir, 0o755);
    const path = join(dir, 'history.sqlite');
    const first = openSqliteStores(path);
    await first.history.appendExchange(thread, { question: 'q', answer: 'a' });
    await first.close();
    writeFileSync(`${path}-wal`, '');
    writeFileSync(`${path}-shm`, Buffer.alloc(32 * 1024));
    for (const file of [path, `${path}-wal`, `${path}-shm`]) chmodSync(file, 0o644);

    const { logger, lines } = memoryLogger();
    const stores = openSqliteStores(path, {}, logger);
    try {
      for (const file of [path, `${path}-wal`, `${path}-shm`]) expect([file, modeOf(file)]).toEqual([file, '600']);
      expect(modeOf(dir)).toBe('755');
      expect(lines.filter((line) => /permissions tightened/.test(line.msg)).map((line) => line.file)).toEqual([
        path,
        `${path}-wal`,
        `${path}-shm`,
      ]);
      expect(await stores.history.load(thread)).toHaveLength(1);
    } finally {
      await stores.close();
    }
  });

  test('a directory created several levels deep is private at every level the bot creates', async () => {
    const base = mkdtempSync(join(tmpdir(), 'stores-'));
    mkdirSync(join(base, 'existing'), { mode: 0o755 });
    const path = join(base, 'existing', 'a', 'b', 'history.sqlite');
    const stores = openSqliteStores(path);
    await stores.close();
    expect(modeOf(join(base, 'existing'))).toBe('755');
    expect(modeOf(join(base, 'existing', 'a'))).toBe('700');
    expect(modeOf(join(base, 'existing', 'a', 'b'))).toBe('700');
  });
});
