import type { AnswerUsage } from '../claude/claudeStream.js';

/** Whose tokens a ledger row counts: one user of one workspace, on one model. */
export interface UsageKey {
  teamId: string;
  userId: string;
  /** The model id the request named (CLAUDE_MODEL), as prices are looked up by it. */
  model: string;
}

/** One UTC day's tokens of one (team, user, model), and how many answers they paid for. */
export interface UsageRow extends UsageKey {
  /** The UTC day, `YYYY-MM-DD`. */
  day: string;
  answers: number;
  usage: AnswerUsage;
}

/** Tokens counted against the daily limits today (UTC): the user's own, and their whole workspace's. */
export interface UsedToday {
  user: number;
  workspace: number;
}

/**
 * The daily token ledger (sqlite by default, redis or memory, in the store HISTORY_STORE names): per UTC day,
 * team, user and model, the token counts by type and the number of answers. The day is the UTC day of the
 * ledger's clock (injected `now`) when an answer is recorded, so it resets at 00:00 UTC.
 *
 * Retention: a day's rows are deleted once the day is more than HISTORY_TTL_DAYS old (Redis expires the day's
 * key itself; sqlite and memory delete old days when they open and at the first record of each new day).
 */
export interface UsageLedger {
  /** Adds one answer's tokens (all its attempts) to today's row of `key`. */
  record(key: UsageKey, usage: AnswerUsage): Promise<void>;
  /** Tokens counted against the limits today (see `limitTokens`) for `userId` and for the whole of `teamId`. */
  usedToday(teamId: string, userId: string): Promise<UsedToday>;
  /** Every row from UTC day `sinceDay` (`YYYY-MM-DD`) on, ordered by day, team, user, model. */
  rowsSince(sinceDay: string): Promise<UsageRow[]>;
  close(): Promise<void>;
}

export const DAY_MS = 24 * 60 * 60 * 1000;

/** The ledger's counters, by their Messages API `usage` names (the "answer finished" log line uses the same), in table order. */
export const COUNTERS = [
  ['input_tokens', 'inputTokens'],
  ['cache_creation_input_tokens', 'cacheCreationInputTokens'],
  ['cache_read_input_tokens', 'cacheReadInputTokens'],
  ['output_tokens', 'outputTokens'],
  ['thinking_tokens', 'thinkingTokens'],
] as const satisfies readonly (readonly [string, keyof AnswerUsage])[];

export const NO_USAGE: AnswerUsage = { inputTokens: 0, cacheCreationInputTokens: 0, cacheReadInputTokens: 0, outputTokens: 0, thinkingTokens: 0 };

/** The UTC day of `ms` (ms since the epoch) as `YYYY-MM-DD`. */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Milliseconds from `ms` to the next 00:00 UTC, when the daily limits reset. */
export function msUntilNextUtcDay(ms: number): number {
  return DAY_MS - (ms % DAY_MS);
}

/** The first day a ledger keeping `retentionMs` still holds at `now`: older days are deleted. */
export function oldestKeptDay(now: number, retentionMs: number): string {
  return utcDay(now - retentionMs);
}

/** Token counts added field by field (an answer's attempts, a table's totals). */
export function addUsage(a: AnswerUsage, b: AnswerUsage): AnswerUsage {
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    cacheCreationInputTokens: a.cacheCreationInputTokens + b.cacheCreationInputTokens,
    cacheReadInputTokens: a.cacheReadInputTokens + b.cacheReadInputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    thinkingTokens: a.thinkingTokens + b.thinkingTokens,
  };
}

/**
 * The tokens USER_DAILY_TOKEN_LIMIT and WORKSPACE_DAILY_TOKEN_LIMIT count: input plus output, as Claude reports
 * them. Input includes the cache counters: with prompt caching on (every request sets `cache_control`), the API
 * reports a long thread's re-sent prefix as `cache_read_input_tokens` (or `cache_creation_input_tokens` the first
 * time) and only the uncached tail as `input_tokens`, so input_tokens alone would make the longest, costliest
 * threads look almost free. Every cached token is still a token Claude read (the usage docs give total input as
 * the sum of the three). Thinking is already inside `output_tokens`.
 */
export function limitTokens(usage: AnswerUsage): number {
  return usage.inputTokens + usage.cacheCreationInputTokens + usage.cacheReadInputTokens + usage.outputTokens;
}

/** Orders rows by day, team, user, model (what `rowsSince` promises). */
export function byDayAndKey(a: UsageRow, b: UsageRow): number {
  const order = (row: UsageRow) => [row.day, row.teamId, row.userId, row.model];
  const [x, y] = [order(a), order(b)];
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i]! < y[i]! ? -1 : 1;
  return 0;
}
