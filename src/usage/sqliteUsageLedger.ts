import type Database from 'better-sqlite3';
import type { AnswerUsage } from '../claude/claudeStream.js';
import { COUNTERS, oldestKeptDay, utcDay, type UsageKey, type UsageLedger, type UsageRow, type UsedToday } from './usageLedger.js';

const TABLE = 'usage_daily';
const COLUMNS = COUNTERS.map(([column]) => column);
/** The tokens the limits count (see limitTokens), as an SQL expression over a row. */
const LIMIT_TOKENS = 'input_tokens + cache_creation_input_tokens + cache_read_input_tokens + output_tokens';

type Row = { day: string; team_id: string; user_id: string; model: string; answers: number } & Record<(typeof COLUMNS)[number], number>;

/**
 * The ledger in a table of the sqlite history file: one row per (UTC day, team, user, model), added to with an
 * upsert. Retention (see UsageLedger): days older than `retentionMs` are deleted on open and at the first record
 * of each new day.
 */
export class SqliteUsageLedger implements UsageLedger {
  private readonly upsert: Database.Statement;
  private readonly used: Database.Statement;
  private readonly expire: Database.Statement;
  private lastDay: string | undefined;

  constructor(
    private readonly db: Database.Database,
    private readonly retentionMs: number,
    private readonly now: () => number = Date.now,
  ) {
    // The primary key's prefix (day, team_id) serves both "today" sums; `day` alone serves expiry and reports.
    db.exec(`CREATE TABLE IF NOT EXISTS ${TABLE} (
      day TEXT NOT NULL, team_id TEXT NOT NULL, user_id TEXT NOT NULL, model TEXT NOT NULL,
      answers INTEGER NOT NULL,
      ${COLUMNS.map((column) => `${column} INTEGER NOT NULL`).join(', ')},
      PRIMARY KEY (day, team_id, user_id, model)
    )`);
    this.upsert = db.prepare(
      `INSERT INTO ${TABLE} (day, team_id, user_id, model, answers, ${COLUMNS.join(', ')})
       VALUES (@day, @teamId, @userId, @model, 1, ${COLUMNS.map((column) => `@${column}`).join(', ')})
       ON CONFLICT (day, team_id, user_id, model) DO UPDATE SET
         answers = answers + 1, ${COLUMNS.map((column) => `${column} = ${column} + excluded.${column}`).join(', ')}`,
    );
    this.used = db.prepare(
      `SELECT COALESCE(SUM(CASE WHEN user_id = @userId THEN ${LIMIT_TOKENS} END), 0) AS user,
              COALESCE(SUM(${LIMIT_TOKENS}), 0) AS workspace
       FROM ${TABLE} WHERE day = @day AND team_id = @teamId`,
    );
    this.expire = db.prepare(`DELETE FROM ${TABLE} WHERE day < ?`);
    this.deleteExpired();
  }

  async record({ teamId, userId, model }: UsageKey, usage: AnswerUsage): Promise<void> {
    const day = utcDay(this.now());
    if (day !== this.lastDay) this.deleteExpired();
    this.lastDay = day;
    const counts = Object.fromEntries(COUNTERS.map(([column, field]) => [column, usage[field]]));
    this.upsert.run({ day, teamId, userId, model, ...counts });
  }

  async usedToday(teamId: string, userId: string): Promise<UsedToday> {
    return this.used.get({ day: utcDay(this.now()), teamId, userId }) as UsedToday;
  }

  async rowsSince(sinceDay: string): Promise<UsageRow[]> {
    return readSqliteUsage(this.db, sinceDay);
  }

  /** The connection is shared: its owner closes it. */
  async close(): Promise<void> {}

  private deleteExpired(): void {
    this.expire.run(oldestKeptDay(this.now(), this.retentionMs));
  }
}

/**
 * The ledger's rows from `sinceDay` on, read through any connection to the file (`npm run usage` reads through
 * a read-only one); none when the file has no ledger yet (a bot of an older release wrote it).
 */
export function readSqliteUsage(db: Database.Database, sinceDay: string): UsageRow[] {
  const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(TABLE);
  if (!table) return [];
  const rows = db.prepare(`SELECT * FROM ${TABLE} WHERE day >= ? ORDER BY day, team_id, user_id, model`).all(sinceDay) as Row[];
  return rows.map((row) => ({
    day: row.day,
    teamId: row.team_id,
    userId: row.user_id,
    model: row.model,
    answers: row.answers,
    usage: Object.fromEntries(COUNTERS.map(([column, field]) => [field, row[column]])) as unknown as AnswerUsage,
  }));
}
