import type { AnswerUsage } from '../claude/claudeStream.js';
import type { Logger } from '../logger.js';
import { msUntilNextUtcDay, type UsageLedger } from './usageLedger.js';

export interface DailyLimitsOptions {
  ledger: UsageLedger;
  /** USER_DAILY_TOKEN_LIMIT: tokens per user per UTC day; undefined means unlimited. */
  userLimit?: number;
  /** WORKSPACE_DAILY_TOKEN_LIMIT: tokens per workspace (team) per UTC day; undefined means unlimited. */
  workspaceLimit?: number;
  /** The model the answers are asked of (CLAUDE_MODEL): the ledger's rows are priced by it. */
  model: string;
  logger: Logger;
  /** The clock the reset time is counted on (tests set it; the ledger has its own). */
  now?: () => number;
}

/** Whose daily limit is reached, and in how many milliseconds it resets (00:00 UTC). */
export interface LimitReached {
  whose: 'user' | 'workspace';
  resetsInMs: number;
}

/**
 * USER_DAILY_TOKEN_LIMIT and WORKSPACE_DAILY_TOKEN_LIMIT over the usage ledger: says whether a new answer may
 * start, and records what each answer cost. Checked once, before an answer's Claude call, so an answer that
 * runs is never cut: the one that crosses a limit finishes, the next is refused (answers that start together
 * may each pass the check, so a limit can be overshot by the answers in flight).
 *
 * A ledger that cannot be read or written (Redis down, sqlite locked) never blocks an answer: the limits are a
 * cost guard, and refusing everyone while the store is out would turn a storage hiccup into an outage for every
 * user; the tokens of that time go unrecorded. One warning per outage, one line when the ledger works again.
 */
export class DailyLimits {
  private readonly now: () => number;
  private failing = false;

  constructor(private readonly options: DailyLimitsOptions) {
    this.now = options.now ?? Date.now;
  }

  /** The limit `userId` of `teamId` is at or over today, the user's first; undefined when neither (or no limit is set). */
  async reached(teamId: string, userId: string): Promise<LimitReached | undefined> {
    const { userLimit, workspaceLimit, ledger } = this.options;
    if (userLimit === undefined && workspaceLimit === undefined) return undefined;
    const used = await this.guard('could not read the usage ledger: daily token limits are not enforced until it works again', () =>
      ledger.usedToday(teamId, userId),
    );
    if (!used) return undefined;
    const whose = userLimit !== undefined && used.user >= userLimit ? 'user' : workspaceLimit !== undefined && used.workspace >= workspaceLimit ? 'workspace' : undefined;
    return whose && { whose, resetsInMs: msUntilNextUtcDay(this.now()) };
  }

  /** Adds one answer's tokens (every attempt's) to the ledger; never rejects. */
  async record(teamId: string, userId: string, usage: AnswerUsage): Promise<void> {
    await this.guard('could not record token usage: these tokens are missing from the daily limits and `npm run usage`', () =>
      this.options.ledger.record({ teamId, userId, model: this.options.model }, usage),
    );
  }

  /** Runs a ledger call; a failure resolves undefined, logged as a warning once until a call succeeds again. */
  private async guard<T>(problem: string, call: () => Promise<T>): Promise<T | undefined> {
    const { logger } = this.options;
    try {
      const result = await call();
      if (this.failing) logger.info('usage ledger works again: daily token limits enforced');
      this.failing = false;
      return result;
    } catch (error) {
      if (this.failing) logger.debug({ err: error }, problem);
      else logger.warn({ err: error }, problem);
      this.failing = true;
      return undefined;
    }
  }
}
