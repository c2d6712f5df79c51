import type { WebClient } from '@slack/web-api';
import { setMaxListeners } from 'node:events';
import { sleep } from '../backoff.js';
import type { Logger } from '../logger.js';
import type { EditBudget } from './editBudget.js';
import { classifySlackError, type SlackFailure } from './slackErrors.js';

/** The thread-based agent session one answer runs in. `teamId` is the workspace whose pause applies. */
export interface SessionTarget {
  teamId: string;
  channel: string;
  threadTs: string;
}

/** The statuses the bot sets: `processing` while it answers (Slack shows Stop), `active` once it has finished. */
export type SessionStatus = 'processing' | 'active';

/**
 * Slack's answers that say this app cannot use agent sessions in the workspace, with the level they are logged
 * at. They will not change from one call to the next, so the workspace is left alone for UNAVAILABLE_PAUSE_MS:
 * - `feature_disabled`, `not_allowed`: the app or workspace has no Agents feature (DESIGN.md §6);
 * - `unknown_method`: a Slack (or a proxy before it) that does not know `agents.sessions.setStatus`;
 * - `missing_scope`, `not_allowed_token_type`: no `assistant:write` on the bot token; our configuration, so warn.
 */
const UNAVAILABLE = new Map<string, 'info' | 'warn'>([
  ['feature_disabled', 'info'],
  ['not_allowed', 'info'],
  ['unknown_method', 'info'],
  ['missing_scope', 'warn'],
  ['not_allowed_token_type', 'warn'],
]);

/** How long a workspace that answered one of UNAVAILABLE gets no calls, in ms; then the bot asks again. */
export const UNAVAILABLE_PAUSE_MS = 60 * 60_000;

/** Tries of `active` that Slack rate-limits before the bot gives up (its budget paces them; Retry-After pauses it). */
const ACTIVE_ATTEMPTS = 5;
/** `processing` is only a hint: it is sent while at least this share of the budget is left for the `active`s owed. */
const PROCESSING_KEEPS_SHARE = 0.5;

/**
 * Sets the status of agent sessions (`agents.sessions.setStatus`, Tier 3: about 50/min per workspace;
 * https://docs.slack.dev/reference/methods/agents.sessions.setStatus), best effort, paced by the workspace's
 * budget for that method (the edit scheduler's budgets).
 *
 * A session left `processing` keeps Slack's Stop button for up to an hour, so `active` waits for the budget and
 * is re-sent after a 429 (which pauses the budget for Retry-After), up to ACTIVE_ATTEMPTS times; `processing` is
 * only a hint: skipped when the budget runs low or on a 429. Give it a WebClient built with
 * `rejectRateLimitedCalls: true` (src/slack/slackClients.ts `edits`), so a 429 reaches this class instead of
 * pausing the client's whole queue.
 */
export class AgentSessions {
  /** Workspaces that answered one of UNAVAILABLE → when (ms, `now()`) they may be asked again. */
  private readonly pausedUntil = new Map<string, number>();
  /** `teamId/kind` of failures already logged. */
  private readonly logged = new Set<string>();
  /** The latest call per session (`channel/thread_ts`), so a delayed retry never overwrites a newer status. */
  private readonly latest = new Map<string, symbol>();
  /** Aborted by `close`: statuses still waiting for the budget are given up. */
  private readonly closing = new AbortController();

  constructor(
    private readonly web: WebClient,
    private readonly logger: Logger,
    private readonly budget: EditBudget,
    private readonly now: () => number = Date.now,
  ) {
    // Every status waiting for the budget listens for `close` (one listener each, removed when its wait ends):
    // under a short budget that is one per answer in flight, not a leak.
    setMaxListeners(0, this.closing.signal);
  }

  /**
   * Sets `status` on the session of `target`. Never throws. Skipped while the workspace is paused (see
   * UNAVAILABLE), and given up once a newer call for the same session came. `active` waits for the budget and
   * is re-sent after a 429 (see ACTIVE_ATTEMPTS); the promise resolves once it landed or was given up.
   * Each kind of failure is logged once per workspace.
   */
  async setStatus(target: SessionTarget, status: SessionStatus): Promise<void> {
    if (this.closing.signal.aborted || this.isPaused(target.teamId)) return;
    const key = `${target.channel}/${target.threadTs}`;
    const call = Symbol(status);
    this.latest.set(key, call);
    const superseded = () => this.latest.get(key) !== call || this.isPaused(target.teamId) || this.closing.signal.aborted;
    try {
      if (status === 'processing') {
        const reserve = Math.floor(this.budget.perMinute * PROCESSING_KEEPS_SHARE);
        if ((await this.budget.tryTake(target.teamId, reserve)).waitMs > 0) return;
        const failure = await this.send(target, status);
        if (failure?.kind === 'rate_limited') await this.budget.pause(target.teamId, failure.retryAfterMs);
        return;
      }
      for (let attempt = 0; attempt < ACTIVE_ATTEMPTS && !superseded(); attempt++) {
        for (let wait = await this.budget.tryTake(target.teamId, 0); wait.waitMs > 0; wait = await this.budget.tryTake(target.teamId, 0)) {
          if (!(await sleep(wait.waitMs, this.closing.signal)) || superseded()) return;
        }
        const failure = await this.send(target, status);
        if (failure?.kind !== 'rate_limited') return;
        await this.budget.pause(target.teamId, failure.retryAfterMs);
      }
    } finally {
      if (this.latest.get(key) === call) this.latest.delete(key);
    }
  }

  /**
   * Gives up the `active` statuses still waiting for the budget (the bot is stopping): under a short budget they
   * trickle out for minutes, and a process must not outlive its shutdown for them. Those sessions keep Slack's
   * Stop button until Slack times them out.
   */
  close(): void {
    if (this.latest.size > 0) this.logger.info({ sessions: this.latest.size }, 'stopping: agent session statuses still waiting for the budget are not sent');
    this.closing.abort();
  }

  /** One call; undefined when it landed, else the failure (already logged, and a pause already recorded). */
  private async send(target: SessionTarget, status: SessionStatus): Promise<SlackFailure | undefined> {
    try {
      await this.web.agents.sessions.setStatus({ channel_id: target.channel, thread_ts: target.threadTs, status });
      return undefined;
    } catch (error) {
      const failure = classifySlackError(error);
      this.onFailure(target, status, failure);
      return failure;
    }
  }

  /** Pauses the workspace after an UNAVAILABLE answer; logs the first failure of each kind per workspace. */
  private onFailure(target: SessionTarget, status: SessionStatus, failure: SlackFailure): void {
    const error = 'error' in failure ? failure.error : undefined;
    const unavailableLevel = error === undefined ? undefined : UNAVAILABLE.get(error);
    if (unavailableLevel) this.pausedUntil.set(target.teamId, this.now() + UNAVAILABLE_PAUSE_MS);
    const kind = unavailableLevel ? `unavailable:${error}` : failure.kind;
    const logKey = `${target.teamId}/${kind}`;
    if (this.logged.has(logKey)) return;
    this.logged.add(logKey);
    const context = { teamId: target.teamId, channel: target.channel, thread_ts: target.threadTs, status, failure: failure.kind, error };
    if (unavailableLevel) {
      this.logger[unavailableLevel](context, `agents.sessions.setStatus unavailable in this workspace; not called again for ${UNAVAILABLE_PAUSE_MS / 60_000} min`);
    } else {
      this.logger.warn(context, 'agents.sessions.setStatus failed (logged once per workspace and kind)');
    }
  }

  /** Whether `teamId` is inside its pause; forgets a pause that has run out. */
  private isPaused(teamId: string): boolean {
    const until = this.pausedUntil.get(teamId);
    if (until === undefined) return false;
    if (this.now() < until) return true;
    this.pausedUntil.delete(teamId);
    return false;
  }
}
