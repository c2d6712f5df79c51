import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { InflightAnswer, InflightRegistry } from './inflightRegistry.js';

interface Row {
  team_id: string;
  channel: string;
  thread_ts: string;
  reply_ts: string;
  user_id: string;
  question: string;
  started_at: number;
  owner: string;
}

/**
 * Answers in flight in a sqlite file (the history file: its own table, its own connection), so they
 * survive a crash. One process uses a file at a time, so every entry another owner left is an orphan.
 */
export class SqliteInflightRegistry implements InflightRegistry {
  private readonly db: Database.Database;
  private readonly insert: Database.Statement;
  private readonly delete: Database.Statement;
  private readonly selectOrphans: Database.Statement;
  private readonly reassign: Database.Statement;

  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS inflight (
      channel TEXT NOT NULL, reply_ts TEXT NOT NULL,
      team_id TEXT NOT NULL, thread_ts TEXT NOT NULL, user_id TEXT NOT NULL,
      question TEXT NOT NULL, started_at INTEGER NOT NULL, owner TEXT NOT NULL,
      PRIMARY KEY (channel, reply_ts)
    )`);
    this.insert = this.db.prepare(
      `INSERT OR REPLACE INTO inflight (channel, reply_ts, team_id, thread_ts, user_id, question, started_at, owner)
       VALUES (@channel, @replyTs, @teamId, @threadTs, @userId, @question, @startedAt, @owner)`,
    );
    this.delete = this.db.prepare('DELETE FROM inflight WHERE channel = ? AND reply_ts = ?');
    this.selectOrphans = this.db.prepare('SELECT * FROM inflight WHERE owner != ? ORDER BY started_at');
    this.reassign = this.db.prepare('UPDATE inflight SET owner = ? WHERE owner != ?');
  }

  async add({ teamId, channel, threadTs, replyTs, userId, question, startedAt, owner }: InflightAnswer): Promise<void> {
    this.insert.run({ teamId, channel, threadTs, replyTs, userId, question, startedAt, owner });
  }

  async remove(channel: string, replyTs: string): Promise<void> {
    this.delete.run(channel, replyTs);
  }

  async claimOrphans(owner: string): Promise<InflightAnswer[]> {
    return this.db.transaction(() => {
      const rows = this.selectOrphans.all(owner) as Row[];
      this.reassign.run(owner, owner);
      return rows.map((row) => ({
        teamId: row.team_id,
        channel: row.channel,
        threadTs: row.thread_ts,
        replyTs: row.reply_ts,
        userId: row.user_id,
        question: row.question,
        startedAt: row.started_at,
        owner,
      }));
    })();
  }

  /** One process per file: liveness needs no record. */
  async heartbeat(_owner: string): Promise<void> {}

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
