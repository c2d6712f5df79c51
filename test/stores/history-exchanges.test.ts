import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Exchange, ThreadKey } from '../../src/history/historyStore.js';
import { MemoryHistoryStore } from '../../src/history/memoryHistoryStore.js';
import { tempDbPath, useSqliteStores } from './helpers.js';

const thread: ThreadKey = { teamId: 'T1', channel: 'C1', threadTs: '1700000000.000100' };
const withRefs: Exchange = {
  question: 'what does the log say?',
  answer: 'It failed at step 3.',
  questionTs: '1700000000.000200',
  files: [{ id: 'F0LOG', name: 'build.log' }],
};

describe('history keeps references with each exchange', () => {
  const sqlite = useSqliteStores();

  test.each([
    ['memory', () => new MemoryHistoryStore(40, 90 * 86_400_000)],
    ['sqlite', () => sqlite.open(tempDbPath()).history],
  ])('%s: the question ts and file ids and names come back; an exchange without them stays without', async (_name, open) => {
    const store = open();
    await store.appendExchange(thread, withRefs);
    await store.appendExchange(thread, { question: 'and then?', answer: 'Nothing.', files: [] });
    expect(await store.load(thread)).toEqual([withRefs, { question: 'and then?', answer: 'Nothing.' }]);
  });

  test('sqlite: a history file written before references were kept still loads, and takes new exchanges', async () => {
    const path = tempDbPath();
    mkdirSync(dirname(path), { recursive: true });
    // The table exactly as the release before this change created it.
    const old = new Database(path);
    old.exec(`CREATE TABLE exchanges (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      team_id TEXT NOT NULL, channel TEXT NOT NULL, thread_ts TEXT NOT NULL,
      question TEXT NOT NULL, answer TEXT NOT NULL,
      created_at INTEGER NOT NULL
    )`);
    old
      .prepare('INSERT INTO exchanges (team_id, channel, thread_ts, question, answer, created_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(thread.teamId, thread.channel, thread.threadTs, 'an old question', 'an old answer', Date.now());
    old.close();

    const store = sqlite.open(path).history;
    expect(await store.load(thread)).toEqual([{ question: 'an old question', answer: 'an old answer' }]);
    await store.appendExchange(thread, withRefs);
    expect(await store.load(thread)).toEqual([{ question: 'an old question', answer: 'an old answer' }, withRefs]);
  });
});
