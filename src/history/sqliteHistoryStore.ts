import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { HistoryStore, ThreadKey, Turn } from './historyStore.js';
import { evenLimit } from './memoryHistoryStore.js';

/**
 * History in a sqlite file (the default): survives restarts. One row per question/answer pair, so the
 * turns always alternate. better-sqlite3 is synchronous, but each statement is a sub-millisecond index hit.
 */
export class SqliteHistoryStore implements HistoryStore {
  private readonly db: Database.Database;
  private readonly insert: Database.Statement;
  private readonly select: Database.Statement;
  private readonly trim: Database.Statement;
  private readonly maxPairs: number;

  constructor(path: string, maxMessages: number) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS exchanges (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      team_id TEXT NOT NULL, channel TEXT NOT NULL, thread_ts TEXT NOT NULL,
      question TEXT NOT NULL, answer TEXT NOT NULL,
      created_at INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS exchanges_thread ON exchanges (team_id, channel, thread_ts, id);`);
    this.maxPairs = evenLimit(maxMessages) / 2;
    this.insert = this.db.prepare(
      'INSERT INTO exchanges (team_id, channel, thread_ts, question, answer, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.select = this.db.prepare(
      `SELECT question, answer FROM (
         SELECT id, question, answer FROM exchanges WHERE team_id = ? AND channel = ? AND thread_ts = ?
         ORDER BY id DESC LIMIT ?
       ) ORDER BY id`,
    );
    this.trim = this.db.prepare(
      `DELETE FROM exchanges WHERE team_id = ? AND channel = ? AND thread_ts = ? AND id NOT IN (
         SELECT id FROM exchanges WHERE team_id = ? AND channel = ? AND thread_ts = ? ORDER BY id DESC LIMIT ?
       )`,
    );
  }

  async load({ teamId, channel, threadTs }: ThreadKey): Promise<Turn[]> {
    const rows = this.select.all(teamId, channel, threadTs, this.maxPairs) as { question: string; answer: string }[];
    return rows.flatMap(({ question, answer }) => [
      { role: 'user' as const, content: question },
      { role: 'assistant' as const, content: answer },
    ]);
  }

  async appendExchange({ teamId, channel, threadTs }: ThreadKey, question: string, answer: string): Promise<void> {
    this.db.transaction(() => {
      this.insert.run(teamId, channel, threadTs, question, answer, Date.now());
      this.trim.run(teamId, channel, threadTs, teamId, channel, threadTs, this.maxPairs);
    })();
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
