import type Database from 'better-sqlite3';
import { exchangeSchema, storedExchange, type Exchange, type HistoryStore, type ThreadKey } from './historyStore.js';
import { exchangeLimit } from './memoryHistoryStore.js';

/** Columns added after the first release, with their types: an older file gets them on open (NULL in old rows). */
const ADDED_COLUMNS = { question_ts: 'TEXT', files: 'TEXT' } as const;

/** The `files` column: a JSON list of file references. */
const fileRefsSchema = exchangeSchema.shape.files.unwrap();

interface Row {
  question: string;
  answer: string;
  question_ts: string | null;
  files: string | null;
}

/**
 * History in a table of the sqlite history file (the default): survives restarts. One row per exchange,
 * its file references as JSON; a file written before references were kept gains their columns on open. better-sqlite3 is synchronous, but each statement is
 * a sub-millisecond index hit. Retention (see HistoryStore): `deleteExpired`, which the owner of the file
 * runs on a schedule.
 */
export class SqliteHistoryStore implements HistoryStore {
  private readonly insert: Database.Statement;
  private readonly select: Database.Statement;
  private readonly trim: Database.Statement;
  private readonly expire: Database.Statement;
  private readonly maxExchanges: number;

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
    addMissingColumns(db);
    this.maxExchanges = exchangeLimit(maxMessages);
    this.insert = db.prepare(
      'INSERT INTO exchanges (team_id, channel, thread_ts, question, answer, question_ts, files, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.select = db.prepare(
      `SELECT question, answer, question_ts, files FROM (
         SELECT id, question, answer, question_ts, files FROM exchanges WHERE team_id = ? AND channel = ? AND thread_ts = ?
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

  async load({ teamId, channel, threadTs }: ThreadKey): Promise<Exchange[]> {
    const rows = this.select.all(teamId, channel, threadTs, this.maxExchanges) as Row[];
    return rows.map((row) => storedExchange({ question: row.question, answer: row.answer, questionTs: row.question_ts ?? undefined, files: fileRefsOf(row.files) }));
  }

  async appendExchange({ teamId, channel, threadTs }: ThreadKey, exchange: Exchange): Promise<void> {
    const { question, answer, questionTs, files } = storedExchange(exchange);
    this.db.transaction(() => {
      this.insert.run(teamId, channel, threadTs, question, answer, questionTs ?? null, files ? JSON.stringify(files) : null, this.now());
      this.trim.run(teamId, channel, threadTs, teamId, channel, threadTs, this.maxExchanges);
    })();
  }

  /** Deletes the threads idle for longer than the retention time; returns how many exchanges went. */
  deleteExpired(): number {
    return this.expire.run({ cutoff: this.now() - this.retentionMs }).changes;
  }

  /** The connection is shared: its owner closes it. */
  async close(): Promise<void> {}
}

/** Upgrades a file from an older release in place: adds each column of ADDED_COLUMNS it lacks. */
function addMissingColumns(db: Database.Database): void {
  const present = new Set((db.pragma('table_info(exchanges)') as { name: string }[]).map((column) => column.name));
  for (const [name, type] of Object.entries(ADDED_COLUMNS)) {
    if (!present.has(name)) db.exec(`ALTER TABLE exchanges ADD COLUMN ${name} ${type}`);
  }
}

/** The file references in a `files` cell; a cell that does not parse (edited by hand) counts as none. */
function fileRefsOf(cell: string | null): Exchange['files'] {
  if (cell === null) return undefined;
  try {
    const parsed = fileRefsSchema.safeParse(JSON.parse(cell));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
