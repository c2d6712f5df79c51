import type { AnswerUsage } from '../claude/claudeStream.js';
import { addUsage, byDayAndKey, limitTokens, NO_USAGE, oldestKeptDay, utcDay, type UsageKey, type UsageLedger, type UsageRow, type UsedToday } from './usageLedger.js';

/** The ledger in this process only (tests, throwaway runs): lost on restart, never shared between instances. */
export class MemoryUsageLedger implements UsageLedger {
  /** Day → rows of that day by (team, user, model). */
  private readonly days = new Map<string, Map<string, UsageRow>>();
  private lastDay: string | undefined;

  constructor(
    private readonly retentionMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  async record(key: UsageKey, usage: AnswerUsage): Promise<void> {
    const day = utcDay(this.now());
    if (day !== this.lastDay) this.deleteExpired();
    this.lastDay = day;
    const rows = this.days.get(day) ?? new Map<string, UsageRow>();
    this.days.set(day, rows);
    const id = JSON.stringify([key.teamId, key.userId, key.model]);
    const row = rows.get(id) ?? { day, teamId: key.teamId, userId: key.userId, model: key.model, answers: 0, usage: NO_USAGE };
    rows.set(id, { ...row, answers: row.answers + 1, usage: addUsage(row.usage, usage) });
  }

  async usedToday(teamId: string, userId: string): Promise<UsedToday> {
    const used = { user: 0, workspace: 0 };
    for (const row of this.days.get(utcDay(this.now()))?.values() ?? []) {
      if (row.teamId !== teamId) continue;
      used.workspace += limitTokens(row.usage);
      if (row.userId === userId) used.user += limitTokens(row.usage);
    }
    return used;
  }

  async rowsSince(sinceDay: string): Promise<UsageRow[]> {
    const rows = [...this.days.entries()].filter(([day]) => day >= sinceDay).flatMap(([, byKey]) => [...byKey.values()]);
    return rows.sort(byDayAndKey);
  }

  async close(): Promise<void> {}

  private deleteExpired(): void {
    const oldest = oldestKeptDay(this.now(), this.retentionMs);
    for (const day of this.days.keys()) if (day < oldest) this.days.delete(day);
  }
}
