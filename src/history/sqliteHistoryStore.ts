import type Database from 'better-sqlite3';
import type { Turn } from '../claude/turn.js';
import type { HistoryStore, ThreadKey } from './historyStore.js';
import { evenLimit } from './memoryHistoryStore.js';

/**
 * History in a table of the sqlite history file (the default): survives restarts. One row per
 * question/answer pair, so the turns always alternate. better-sqlite3 is synchronous, but each statement is
 * a sub-millisecond index hit. Retention (see HistoryStore): `deleteExpired`, which the owner of the file
 * runs on a schedule.
 */
export class SqliteHistoryStore implements HistoryStore {
  private readonly insert: Database.Statement;
  private readonly select: Database.Statement;
  private readonly trim: Database.Statement;
  private readonly expire: Database.Statement;
  private readonly maxPairs: number;

  constructor(
    private readonly db: Database.Database,
    maxMessages: number,
    private readonly retentionMs: number,
    private readonly now: () => number = Date.now,
  ) {
    db.exec(`CREATE TABLE IF NOT EXISTS exchanges (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      team_id TEXT NOT NULL, channel TEXT NOT NULL, thread_ts TEXT NOT NULL,
      question TEXT NOT NULL, answer TEXT NOT NULL,
      created_at INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS exchanges_thread ON exchanges (team_id, channel, thread_ts, id);
    CREATE INDEX IF NOT EXISTS exchanges_created ON exchanges (created_at);`);
    this.maxPairs = evenLimit(maxMessages) / 2;
    this.insert = db.prepare(
      'INSERT INTO exchanges (team_id, channel, thread_ts, question, answer, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.select = db.prepare(
      `SELECT question, answer FROM (
         SELECT id, question, answer FROM exchanges WHERE team_id = ? AND channel = ? AND thread_ts = ?
         ORDER BY id DESC LIMIT ?
       ) ORDER BY id`,
    );
    this.trim = db.prepare(
      `DELETE FROM exchanges WHERE team_id = ? AND channel = ? AND thread_ts = ? AND id NOT IN (
         SELECT id FROM exchanges WHERE team_id = ? AND channel = ? AND thread_ts = ? ORDER BY id DESC LIMIT ?
       )`,
    );
    // Old rows (the created_at index) of threads with no recent row (the thread index): a sweep reads what
    // expired since the last one plus the old rows of active threads, never the whole table.
    this.expire = db.prepare(
      `DELETE FROM exchanges WHERE id IN (
         SELECT old.id FROM exchanges AS old WHERE old.created_at < @cutoff AND NOT EXISTS (
           SELECT 1 FROM exchanges AS recent
           WHERE recent.team_id = old.team_id AND recent.channel = old.channel AND recent.thread_ts = old.thread_ts
             AND recent.created_at >= @cutoff
         )
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
      this.insert.run(teamId, channel, threadTs, question, answer, this.now());
      this.trim.run(teamId, channel, threadTs, teamId, channel, threadTs, this.maxPairs);
    })();
  }

  /** Deletes the threads idle for longer than the retention time; returns how many exchanges went. */
  deleteExpired(): number {
    return this.expire.run({ cutoff: this.now() - this.retentionMs }).changes;
  }

  /** The connection is shared: its owner closes it. */
  async close(): Promise<void> {}
}
