import type Database from 'better-sqlite3';
import type { FileLease } from '../coordination/fileLease.js';
import { recordTs, type InflightAnswer, type InflightRegistry } from './inflightRegistry.js';

/** `reply_ts` holds the answer's recordTs: its thread's ts (`reply_ts = thread_ts`) while no placeholder is posted. */
interface Row {
  team_id: string;
  channel: string;
  thread_ts: string;
  reply_ts: string;
  user_id: string;
  question: string;
  started_at: number;
  owner: string;
  post_id: string | null;
  question_ts: string | null;
}

/**
 * Answers in flight in a table of the sqlite history file, so they survive a crash. One process holds the
 * file at a time (FileLease): its holder took it over only once the previous holder was provably gone, so
 * every entry another owner left is an orphan, and a process that lost the lease claims none.
 */
export class SqliteInflightRegistry implements InflightRegistry {
  private readonly insert: Database.Statement;
  private readonly delete: Database.Statement;
  private readonly record: (answer: InflightAnswer) => void;
  private readonly selectOrphans: Database.Statement;
  private readonly reassign: Database.Statement;

  constructor(
    private readonly db: Database.Database,
    private readonly lease: FileLease,
  ) {
    db.exec(`CREATE TABLE IF NOT EXISTS inflight (
      channel TEXT NOT NULL, reply_ts TEXT NOT NULL,
      team_id TEXT NOT NULL, thread_ts TEXT NOT NULL, user_id TEXT NOT NULL,
      question TEXT NOT NULL, started_at INTEGER NOT NULL, owner TEXT NOT NULL,
      PRIMARY KEY (channel, reply_ts)
    )`);
    // A file written before post ids were recorded gains the columns (its rows have none: answered in a new message).
    const columns = new Set((db.pragma('table_info(inflight)') as { name: string }[]).map(({ name }) => name));
    for (const column of ['post_id', 'question_ts']) if (!columns.has(column)) db.exec(`ALTER TABLE inflight ADD COLUMN ${column} TEXT`);
    this.insert = db.prepare(
      `INSERT OR REPLACE INTO inflight (channel, reply_ts, team_id, thread_ts, user_id, question, started_at, owner, post_id, question_ts)
       VALUES (@channel, @replyTs, @teamId, @threadTs, @userId, @question, @startedAt, @owner, @postId, @questionTs)`,
    );
    this.delete = db.prepare('DELETE FROM inflight WHERE channel = ? AND reply_ts = ?');
    // The record made before the placeholder was posted is replaced in the same transaction.
    this.record = db.transaction(({ teamId, channel, threadTs, replyTs, postId, questionTs, userId, question, startedAt, owner }: InflightAnswer) => {
      this.delete.run(channel, threadTs);
      this.insert.run({ teamId, channel, threadTs, replyTs: recordTs({ threadTs, replyTs }), postId: postId ?? null, questionTs: questionTs ?? null, userId, question, startedAt, owner });
    });
    this.selectOrphans = db.prepare('SELECT * FROM inflight WHERE owner != ? ORDER BY started_at');
    this.reassign = db.prepare('UPDATE inflight SET owner = ? WHERE owner != ?');
  }

  async add(answer: InflightAnswer): Promise<void> {
    this.record(answer);
  }

  async remove(channel: string, ts: string): Promise<void> {
    this.delete.run(channel, ts);
  }

  async claimOrphans(owner: string): Promise<InflightAnswer[]> {
    return this.db.transaction(() => {
      if (!this.lease.held()) return [];
      const rows = this.selectOrphans.all(owner) as Row[];
      this.reassign.run(owner, owner);
      return rows.map((row) => ({
        teamId: row.team_id,
        channel: row.channel,
        threadTs: row.thread_ts,
        ...(row.reply_ts === row.thread_ts ? {} : { replyTs: row.reply_ts }),
        ...(row.post_id === null ? {} : { postId: row.post_id }),
        ...(row.question_ts === null ? {} : { questionTs: row.question_ts }),
        userId: row.user_id,
        question: row.question,
        startedAt: row.started_at,
        owner,
      }));
    })();
  }

  /** The file's lease carries the process's heartbeat. */
  async heartbeat(_owner: string): Promise<void> {}

  /** The connection is shared: its owner closes it. */
  async close(): Promise<void> {}
}
