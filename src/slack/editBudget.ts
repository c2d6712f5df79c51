/** The Slack methods the edit scheduler paces, each against its own per-workspace budget. */
export type PacedMethod = 'chat.update' | 'chat.appendStream' | 'chat.startStream' | 'chat.stopStream' | 'agents.sessions.setStatus';

/** One budget per paced method. */
export type SlackBudgets = Readonly<Record<PacedMethod, EditBudget>>;

/**
 * Calls a minute per workspace per app of the streaming and session methods, from their rate tiers (Tier 4 ≈ 100
 * for chat.appendStream, Tier 2 ≈ 20 for chat.startStream and chat.stopStream, Tier 3 ≈ 50 for
 * agents.sessions.setStatus: docs.slack.dev method pages, https://docs.slack.dev/apis/web-api/rate-limits).
 * chat.update's Tier 3 is SLACK_EDITS_PER_MINUTE.
 */
export const STREAM_CALLS_PER_MINUTE = { 'chat.appendStream': 100, 'chat.startStream': 20, 'chat.stopStream': 20, 'agents.sessions.setStatus': 50 } as const;

/** Budgets kept in this process's memory: chat.update at `editsPerMinute`, the streaming methods at their tiers. */
export function memoryBudgets(editsPerMinute: number, now?: () => number): SlackBudgets {
  return {
    'chat.update': new MemoryEditBudget(editsPerMinute, now),
    'chat.appendStream': new MemoryEditBudget(STREAM_CALLS_PER_MINUTE['chat.appendStream'], now),
    'chat.startStream': new MemoryEditBudget(STREAM_CALLS_PER_MINUTE['chat.startStream'], now),
    'chat.stopStream': new MemoryEditBudget(STREAM_CALLS_PER_MINUTE['chat.stopStream'], now),
    'agents.sessions.setStatus': new MemoryEditBudget(STREAM_CALLS_PER_MINUTE['agents.sessions.setStatus'], now),
  };
}

/**
 * The budget of one paced Slack method in a workspace: chat.update's Tier 3 allows about 50 calls a minute
 * per workspace per app, with bursts (https://api.slack.com/apis/rate-limits). Modelled as a token bucket.
 *
 * Hand-written rather than rate-limiter-flexible: that library offers fixed windows only, which either let
 * twice the limit through at a window boundary (and earn 429s) or, with short windows, forbid the bursts
 * that make the first words of many answers appear at once.
 */
export interface EditBudget {
  /** Edits a workspace may make per minute; also the burst a full bucket allows. */
  readonly perMinute: number;
  /** Takes one edit for the team unless fewer than `reserve` would remain. */
  tryTake(teamId: string, reserve: number): Promise<TakeResult>;
  /** The edits the bucket holds for the team now (0 while paused), without spending one. */
  peek(teamId: string): Promise<number>;
  /**
   * Holds every edit of the team back for `ms` (Slack answered 429 with Retry-After) and halves the edits
   * left in the bucket; it keeps refilling meanwhile, so edits resume at the window's end.
   */
  pause(teamId: string, ms: number): Promise<void>;
}

/** `waitMs` 0 when the edit was taken, else how long until it could be; `remaining` edits left in the bucket. */
export interface TakeResult {
  waitMs: number;
  remaining: number;
}

/**
 * Share of its edits a bucket keeps on a 429. Slack's bucket holds less than ours thought, so the burst we may
 * spend shrinks (multiplicative decrease, as TCP does on congestion). Emptying it instead would hold every
 * refresh until the bucket refilled past the reserves, many seconds after Slack's Retry-After window.
 */
export const PAUSE_KEEP_SHARE = 0.5;

/**
 * Our bucket and Slack's never tick in step (network latency differs call to call), so a take leaves this
 * fraction of an edit unspent: about 100 ms of refill at 50 a minute.
 */
export const SAFETY_MARGIN = 0.1;

interface Bucket {
  tokens: number;
  refilledAt: number;
  pausedUntil: number;
}

/** One process's token buckets, one per workspace; `now` is injectable for tests about time. */
export class MemoryEditBudget implements EditBudget {
  private readonly buckets = new Map<string, Bucket>();
  private readonly tokensPerMs: number;

  constructor(
    readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {
    if (!(perMinute > 0)) throw new TypeError('perMinute must be a positive number');
    this.tokensPerMs = perMinute / 60_000;
  }

  async tryTake(teamId: string, reserve: number): Promise<TakeResult> {
    const bucket = this.refill(teamId);
    const now = this.now();
    if (bucket.pausedUntil > now) return { waitMs: bucket.pausedUntil - now, remaining: 0 };
    const needed = reserve + 1 + SAFETY_MARGIN;
    // The epsilon absorbs floating-point error, so a caller that waited `waitMs` is never sent back to wait again.
    if (bucket.tokens + 1e-9 >= needed) {
      bucket.tokens -= 1;
      return { waitMs: 0, remaining: bucket.tokens };
    }
    return { waitMs: Math.ceil((needed - bucket.tokens) / this.tokensPerMs), remaining: bucket.tokens };
  }

  async peek(teamId: string): Promise<number> {
    const bucket = this.refill(teamId);
    return bucket.pausedUntil > this.now() ? 0 : bucket.tokens;
  }

  async pause(teamId: string, ms: number): Promise<void> {
    const bucket = this.refill(teamId);
    bucket.pausedUntil = Math.max(bucket.pausedUntil, this.now() + ms);
    bucket.tokens *= PAUSE_KEEP_SHARE;
  }

  private refill(teamId: string): Bucket {
    const now = this.now();
    let bucket = this.buckets.get(teamId);
    if (!bucket) {
      bucket = { tokens: this.perMinute, refilledAt: now, pausedUntil: 0 };
      this.buckets.set(teamId, bucket);
    } else if (now > bucket.refilledAt) {
      bucket.tokens = Math.min(this.perMinute, bucket.tokens + (now - bucket.refilledAt) * this.tokensPerMs);
      bucket.refilledAt = now;
    }
    return bucket;
  }
}
