import type { Redis } from 'ioredis';
import type { AnswerUsage } from '../claude/claudeStream.js';
import { reachRedis, runTransaction } from '../redis/connection.js';
import {
  byDayAndKey,
  COUNTERS,
  DAY_MS,
  limitTokens,
  msUntilNextUtcDay,
  NO_USAGE,
  oldestKeptDay,
  utcDay,
  type UsageKey,
  type UsageLedger,
  type UsageRow,
  type UsedToday,
} from './usageLedger.js';

/** A row's counters as hash fields: the answers, then the token counters by their API names. */
const FIELDS = ['answers', ...COUNTERS.map(([name]) => name)] as const;

/**
 * The ledger in Redis, shared by every instance: one hash per UTC day (`usage:<day>`). Its fields are JSON
 * arrays, so no id can be mistaken for a separator: `[team, user, model, counter]` for each counter of a row,
 * and the running totals the limits read, `["user", team, user]` and `["team", team]`. An answer is added in
 * one MULTI of HINCRBYs, so instances never lose each other's increments, and the totals never disagree with
 * the rows. Retention (see UsageLedger): the key expires `retentionMs` after its day ends (a relative expiry,
 * so the ledger's injected clock and Redis's own need not agree). Rejects with StoreUnavailableError while
 * Redis is unreachable.
 */
export class RedisUsageLedger implements UsageLedger {
  constructor(
    private readonly redis: Redis,
    private readonly retentionMs: number,
    private readonly keyPrefix = 'claude-bot:',
    private readonly now: () => number = Date.now,
  ) {}

  async record({ teamId, userId, model }: UsageKey, usage: AnswerUsage): Promise<void> {
    const now = this.now();
    const key = this.key(utcDay(now));
    const tokens = limitTokens(usage);
    // In FIELDS' order: one answer, then each counter.
    const counts = [1, ...COUNTERS.map(([, field]) => usage[field])];
    const transaction = this.redis.multi();
    FIELDS.forEach((name, i) => transaction.hincrby(key, JSON.stringify([teamId, userId, model, name]), counts[i]!));
    transaction
      .hincrby(key, userTotal(teamId, userId), tokens)
      .hincrby(key, teamTotal(teamId), tokens)
      .pexpire(key, msUntilNextUtcDay(now) + this.retentionMs);
    await runTransaction(transaction);
  }

  async usedToday(teamId: string, userId: string): Promise<UsedToday> {
    const [user, workspace] = await reachRedis(this.redis.hmget(this.key(utcDay(this.now())), userTotal(teamId, userId), teamTotal(teamId)));
    return { user: Number(user ?? 0), workspace: Number(workspace ?? 0) };
  }

  /** Reads one hash per day, from `sinceDay` (or the oldest day still kept) to today. */
  async rowsSince(sinceDay: string): Promise<UsageRow[]> {
    const now = this.now();
    const first = [sinceDay, oldestKeptDay(now, this.retentionMs)].sort()[1]!;
    const days: string[] = [];
    for (let at = Date.parse(`${first}T00:00:00Z`); utcDay(at) <= utcDay(now); at += DAY_MS) days.push(utcDay(at));
    // Sent together: ioredis writes each command without waiting for the previous reply.
    const hashes = await reachRedis(Promise.all(days.map((day) => this.redis.hgetall(this.key(day)))));
    return hashes.flatMap((hash, i) => rowsOf(days[i]!, hash)).sort(byDayAndKey);
  }

  /** The connection is shared: its owner quits it. */
  async close(): Promise<void> {}

  private key(day: string): string {
    return `${this.keyPrefix}usage:${day}`;
  }
}

const userTotal = (teamId: string, userId: string) => JSON.stringify(['user', teamId, userId]);
const teamTotal = (teamId: string) => JSON.stringify(['team', teamId]);

/** A day's hash as rows; the totals' fields and any field that does not parse (written by hand) are skipped. */
function rowsOf(day: string, hash: Record<string, string>): UsageRow[] {
  const rows = new Map<string, UsageRow>();
  for (const [field, value] of Object.entries(hash)) {
    const parsed = parseField(field);
    if (!parsed) continue;
    const [teamId, userId, model, counter] = parsed;
    const id = JSON.stringify([teamId, userId, model]);
    const row = rows.get(id) ?? { day, teamId, userId, model, answers: 0, usage: { ...NO_USAGE } };
    rows.set(id, row);
    const count = Number(value);
    if (counter === 'answers') row.answers = count;
    else row.usage[COUNTERS.find(([name]) => name === counter)![1]] = count;
  }
  return [...rows.values()];
}

/** `[team, user, model, counter]` of a row's field; undefined for the totals and anything else. */
function parseField(field: string): [string, string, string, (typeof FIELDS)[number]] | undefined {
  try {
    const parsed: unknown = JSON.parse(field);
    if (!Array.isArray(parsed) || parsed.length !== 4 || !parsed.every((part) => typeof part === 'string')) return undefined;
    const [teamId, userId, model, counter] = parsed as string[];
    return (FIELDS as readonly string[]).includes(counter!) ? [teamId!, userId!, model!, counter as (typeof FIELDS)[number]] : undefined;
  } catch {
    return undefined;
  }
}
