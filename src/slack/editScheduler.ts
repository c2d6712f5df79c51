import { sleep } from '../backoff.js';
import type { Logger } from '../logger.js';
import { SAFETY_MARGIN, type EditBudget, type PacedMethod, type SlackBudgets } from './editBudget.js';
import { classifySlackError } from './slackErrors.js';

/**
 * Performs one edit of a live message with the given content; `final` marks the last one, `thinking` one
 * that only shows Claude is thinking (never the answer). The edit may take several Slack calls (an answer
 * spread over several messages, a stream sealed and continued with chat.update): `pay(method)` must be
 * awaited before each call of a paced method, so every call takes its own token from that method's
 * workspace budget (the first call of the message's current method is already paid when `send` runs).
 */
export type SendEdit = (content: string, final: boolean, pay: (method: PacedMethod) => Promise<void>, thinking: boolean) => Promise<void>;

/**
 * The Slack methods a message's edits and its final use: chat.update for both on the edits transport;
 * chat.appendStream, then chat.stopStream for a native stream.
 */
export interface EditMethods {
  edit: PacedMethod;
  final: PacedMethod;
}

/** A message shown with chat.update edits. */
export const UPDATE_METHODS: EditMethods = { edit: 'chat.update', final: 'chat.update' };
/** A message streamed natively. */
export const STREAM_METHODS: EditMethods = { edit: 'chat.appendStream', final: 'chat.stopStream' };

export interface EditSchedulerOptions {
  /** Minimum time between two edits of one message (EDIT_INTERVAL_MS). */
  intervalMs: number;
  /** Each paced Slack method's workspace budget, shared by every message of a workspace. */
  budgets: SlackBudgets;
  logger: Logger;
  now?: () => number;
}

/** Priority when budget is short: finals, then a message's first text, then refreshes, then thinking progress. */
const enum Priority {
  Final = 0,
  FirstText = 1,
  Refresh = 2,
  Thinking = 3,
}

/**
 * Most of a method's burst that the final of a message already showing text leaves for the finals of messages
 * showing none yet (their reader has seen nothing of the answer): half, so neither kind can starve the other.
 */
const TEXTLESS_FINALS_SHARE = 0.5;
/** Share of the workspace budget that refreshes leave for first texts, on top of what finals need. */
const REFRESH_RESERVE_SHARE = 0.2;
/** Share that thinking progress leaves for refreshes, on top of what refreshes leave. */
const THINKING_RESERVE_SHARE = 0.2;
/** The shortest span a burst's arrival rate is measured over (firstTextAffordable's forecast). */
const BURST_SAMPLE_MS = 100;
const FINAL_RETRY_BASE_MS = 500;
/** A final edit that keeps failing (anything but a gone message or a 429) is given up after this long. */
const FINAL_RETRY_WINDOW_MS = 60_000;

/**
 * The one edit scheduler every path uses: per message it coalesces to the newest content (never a queue
 * of stale edits), keeps at most one edit in flight and at least the interval between edits; per workspace
 * it shares the edit budget by priority and stretches every message's interval when many stream at once.
 */
export class EditScheduler {
  private readonly lanes = new Map<string, WorkspaceLane>();
  private readonly now: () => number;

  constructor(private readonly options: EditSchedulerOptions) {
    if (!(options.intervalMs > 0)) throw new TypeError('intervalMs must be a positive number');
    this.now = options.now ?? Date.now;
  }

  /** Minimum time between two edits of one message (EDIT_INTERVAL_MS): progress shown more often is never seen. */
  get intervalMs(): number {
    return this.options.intervalMs;
  }

  /**
   * Starts scheduling the edits of one Slack message of the team's, asked by `userId`, made with `methods`
   * (which its owner may switch later): within a priority the workspace budget goes round-robin between
   * users, so one user's many answers cannot hold back another's. The caller must end it with `finish` or
   * `close`: until then it counts against the workspace's reserves.
   */
  track(teamId: string, send: SendEdit, userId = '', methods: EditMethods = UPDATE_METHODS): LiveMessage {
    let lane = this.lanes.get(teamId);
    if (!lane) {
      lane = new WorkspaceLane(teamId, this.options, this.now, () => this.lanes.delete(teamId));
      this.lanes.set(teamId, lane);
    }
    return lane.add(send, userId, methods);
  }

  /**
   * Takes a chat.startStream for the team if its budget has one now (Tier 2): false means this answer should
   * use the edits transport instead of waiting, since the placeholder must appear at once.
   */
  async tryStartStream(teamId: string): Promise<boolean> {
    const { waitMs } = await this.options.budgets['chat.startStream'].tryTake(teamId, 0);
    return waitMs === 0;
  }

  /** Holds every call of `method` in the team back for `ms` after Slack answered 429 outside any message's edits. */
  async rateLimited(teamId: string, method: PacedMethod, ms: number): Promise<void> {
    await this.options.budgets[method].pause(teamId, ms);
  }
}

/** Takes one token from `budget`, waiting for it (and any 429 pause) with no reserve; throws once `abandoned()`. */
async function takeWaiting(budget: EditBudget, teamId: string, abandoned: () => boolean): Promise<number> {
  for (;;) {
    const { waitMs, remaining } = await budget.tryTake(teamId, 0);
    if (waitMs === 0) return remaining;
    if (abandoned()) throw new EditFailedError('edit abandoned while waiting for the edit budget');
    await sleep(waitMs);
  }
}

/** Why a final edit could not be delivered. */
export class EditFailedError extends Error {
  override readonly name = 'EditFailedError';
}

/** One message's edit state. Its methods are cheap: `show` runs on every streamed token. */
export class LiveMessage {
  /** Content the scheduler should make visible next; undefined when nothing is pending. */
  pending: string | undefined;
  /**
   * Content of the newest edit sent, in flight or landed: a show of it needs no edit. Not what Slack last
   * confirmed: content equal to that must still replace an edit in flight. Undefined after a failed edit.
   */
  sent: string | undefined;
  /** Whether Slack shows any of our content yet (the placeholder is not content): until then, a first text. */
  hasText = false;
  /** The method of the pending edit: the final's once the message is final. */
  get method(): PacedMethod {
    return this.final ? this.methods.final : this.methods.edit;
  }
  final = false;
  inFlight = false;
  /** Pending content the user must see without waiting for the interval (a retry notice). */
  urgent = false;
  /** Pending content only shows that Claude is thinking: the lowest priority, and it is not the answer's text. */
  thinking = false;
  /** When the last edit completed: the interval runs from there, so Slack never sees two edits closer than it. */
  lastSentAt = -Infinity;
  /** When the message last changed on screen (or was created): the longest-waiting refresh goes first. */
  lastVisibleAt: number;
  /** A final edit that failed transiently waits until then for its next attempt (backoff). */
  retryAt = 0;
  firstFinalAttemptAt = 0;
  finalAttempts = 0;
  /**
   * Its answer waits for its turn (its user's or the process's answer slot): until then it owes the workspace
   * no first text and no final soon, so the reserves kept for those leave it out. Counted, they would hold
   * back the edits, final included, of the answers running, whose end is what frees the slots it waits for.
   */
  waiting = false;
  /** When its scheduling started (the answer's start). */
  readonly createdAt: number;
  private settle!: { resolve: () => void; reject: (error: Error) => void };
  readonly done: Promise<void>;
  closed = false;

  constructor(
    private readonly lane: WorkspaceLane,
    readonly send: SendEdit,
    readonly userId: string,
    /** The methods its edits and final use now; the owner switches them when a stream falls back to chat.update. */
    public methods: EditMethods,
    now: number,
  ) {
    this.lastVisibleAt = this.createdAt = now;
    this.done = new Promise<void>((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    // finish() callers await `done`; a message closed without finish() must not raise an unhandled rejection.
    this.done.catch(() => undefined);
  }

  /**
   * Whether the workspace's budget can pay this message's first text soon, within `withinMs` (by when Claude's
   * first words are expected): when it cannot, the reply holds its post for them (DESIGN.md §3 "Placeholder").
   * Finals outrank first texts, so the bucket, with what it refills meanwhile, must hold one more edit than
   * the finals every message owes, the first texts already waiting, and the finals of the questions still to
   * come: as many as arrived in the last `withinMs`, or more at the rate they arrived (a burst goes on; a quiet
   * workspace expects none). Other
   * messages `waiting` for their turn owe nothing yet; this one is asked about the time its answer runs.
   */
  firstTextAffordable(withinMs: number): Promise<boolean> {
    return this.lane.firstTextAffordable(this, withinMs);
  }

  /**
   * Slack shows `content` already, posted with the message itself (a held post that carried Claude's first
   * words or thinking line): the next edit is a refresh from now on, and `content` again needs none.
   */
  shownByPost(content: string, thinking: boolean): void {
    this.sent = content;
    this.hasText ||= !thinking;
    this.lastSentAt = this.lastVisibleAt = this.lane.now();
  }

  /** Marks whether its answer waits for its turn (see `waiting`); the lane re-plans, as its reserves changed. */
  setWaiting(waiting: boolean): void {
    if (this.waiting === waiting) return;
    this.waiting = waiting;
    this.lane.wake();
  }

  /** Makes `content` the newest intermediate content; it supersedes any not yet sent. */
  show(content: string): void {
    const before = this.pendingPriority;
    this.thinking = false;
    this.replacePending(content, before);
  }

  /**
   * Makes `content` (a line saying Claude is thinking) the newest intermediate content, at the lowest
   * priority and at most once per interval; it never supersedes answer text or a notice not yet sent.
   */
  showThinking(content: string): void {
    if (this.pending !== undefined && !this.thinking) return;
    const before = this.pendingPriority;
    this.thinking = true;
    this.replacePending(content, before);
  }

  /** Like `show`, but sent as soon as the budget allows, without waiting for the interval. */
  showNow(content: string): void {
    const before = this.pendingPriority;
    this.urgent = true;
    this.thinking = false;
    this.replacePending(content, before);
  }

  /** The priority of the content waiting to be sent; undefined when none waits. */
  private get pendingPriority(): Priority | undefined {
    return this.pending === undefined ? undefined : this.priority;
  }

  /**
   * Makes `content` the pending content. The lane plans its next edit and timer around what is pending, so it
   * is woken for new content and for content that became more urgent (text replacing a thinking line that
   * waited for its interval, a notice replacing a refresh): otherwise that would wait for the old timer.
   */
  private replacePending(content: string, before: Priority | undefined): void {
    if (this.final || this.closed) return;
    this.pending = content === this.sent ? undefined : content;
    if (this.pending !== undefined && (before === undefined || this.priority < before)) this.lane.wake();
  }

  /**
   * Sends `content` as the final edit as soon as the budget allows, after any edit in flight; resolves once
   * Slack has it. Always sent: an earlier edit with the same content was rendered as still being written.
   */
  finish(content: string): Promise<void> {
    if (!this.closed && !this.final) {
      this.final = true;
      this.thinking = false;
      this.pending = content;
      this.lane.wake();
    }
    return this.done;
  }

  /** Stops scheduling without a final edit (the message is gone, or its owner gave up). */
  close(error?: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.pending = undefined;
    this.lane.remove(this);
    if (error) this.settle.reject(error);
    else this.settle.resolve();
  }

  get priority(): Priority {
    if (this.final) return Priority.Final;
    if (this.thinking) return Priority.Thinking;
    return this.hasText && !this.urgent ? Priority.Refresh : Priority.FirstText;
  }
}

/** A user's messages in a lane, and when the user was last served (a sequence number) for round-robin. */
interface UserShare {
  messages: number;
  servedAt: number;
}

/** How many of a lane's messages use each method, counted once per planning round. */
type MethodCounts = Map<PacedMethod, number>;

/** The messages of one workspace and their share of each method's budget. */
class WorkspaceLane {
  private readonly messages = new Set<LiveMessage>();
  private readonly users = new Map<string, UserShare>();
  private served = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private pumping = false;
  private pumpAgain = false;
  /** Tokens left in each method's workspace bucket at its last take: below half, refresh intervals stretch. */
  private readonly remaining = new Map<PacedMethod, number>();

  constructor(
    private readonly teamId: string,
    private readonly options: EditSchedulerOptions,
    readonly now: () => number,
    private readonly onEmpty: () => void,
  ) {}

  get size(): number {
    return this.messages.size;
  }

  add(send: SendEdit, userId: string, methods: EditMethods): LiveMessage {
    const message = new LiveMessage(this, send, userId, methods, this.now());
    this.messages.add(message);
    const user = this.users.get(userId);
    if (user) user.messages += 1;
    else this.users.set(userId, { messages: 1, servedAt: 0 });
    return message;
  }

  remove(message: LiveMessage): void {
    if (!this.messages.delete(message)) return;
    const user = this.users.get(message.userId)!;
    if (--user.messages === 0) this.users.delete(message.userId);
    if (this.messages.size === 0) {
      clearTimeout(this.timer);
      this.timerAt = Infinity;
      this.onEmpty();
    }
  }

  private budget(method: PacedMethod): EditBudget {
    return this.options.budgets[method];
  }

  /** See LiveMessage.firstTextAffordable. */
  async firstTextAffordable(asking: LiveMessage, withinMs: number): Promise<boolean> {
    const method = asking.method;
    const budget = this.budget(method);
    const refill = (budget.perMinute * withinMs) / 60_000;
    const left = await budget.peek(this.teamId);
    const now = this.now();
    let owed = 0;
    let recent = 0;
    let firstRecentAt = now;
    for (const message of this.messages) {
      // The asking message's first text comes once its turn came: it owes its final then.
      if (message.waiting && message !== asking) continue;
      if (message.methods.final === method) {
        owed += 1;
        if (message.createdAt > now - withinMs) {
          recent += 1;
          firstRecentAt = Math.min(firstRecentAt, message.createdAt);
        }
      }
      if (message.pending !== undefined && message.priority === Priority.FirstText && message.method === method) owed += 1;
    }
    // The finals of the questions still to come in the next `withinMs`: as many as came in the last, or more at the
    // rate the recent ones came, so a burst's first questions already forecast the rest. The rate is taken over at
    // least BURST_SAMPLE_MS, so two questions a moment apart in a quiet workspace are not taken for a flood.
    const arrivalRate = (recent - 1) / Math.max(now - firstRecentAt, BURST_SAMPLE_MS);
    owed += Math.max(recent, arrivalRate * withinMs);
    return left + refill >= owed + 1 + SAFETY_MARGIN;
  }

  /** Share of a method's budget that refreshes leave for first texts (on top of finals), and thinking for refreshes. */
  private reserve(method: PacedMethod, share: number): number {
    return Math.floor(this.budget(method).perMinute * share);
  }

  /**
   * Each message's interval: EDIT_INTERVAL_MS while its method's bucket holds more than half its burst;
   * below that, stretched so the refreshes of all messages on that method together fit the sustained rate
   * less the reserve.
   */
  private interval(method: PacedMethod, editors: number): number {
    const { perMinute } = this.budget(method);
    if ((this.remaining.get(method) ?? perMinute) > perMinute / 2) return this.options.intervalMs;
    const refreshBudget = Math.max(1, perMinute - this.reserve(method, REFRESH_RESERVE_SHARE));
    return Math.max(this.options.intervalMs, (editors * 60_000) / refreshBudget);
  }

  /**
   * Tokens of its method's bucket an edit of this priority must leave. Every message will need one call for
   * its final, so a first text is shown only while the bucket can still pay the finals drawn from it; a
   * refresh also leaves a share for first texts, and thinking progress a further share for refreshes. When
   * budget is short the answers therefore finish as fast as the budget allows, instead of spending it on
   * progress that delays everyone's final. (A stream's final is chat.stopStream, another bucket: its appends
   * owe no finals.) Among finals, one whose message shows text already leaves some for the finals of those
   * that show none yet (up to TEXTLESS_FINALS_SHARE of the burst).
   */
  private reserveFor(message: LiveMessage, finals: MethodCounts, textless: MethodCounts): number {
    const method = message.method;
    const finalsHere = finals.get(method) ?? 0;
    switch (message.priority) {
      case Priority.Final:
        return message.hasText ? Math.min(textless.get(method) ?? 0, this.reserve(method, TEXTLESS_FINALS_SHARE)) : 0;
      case Priority.FirstText:
        return finalsHere;
      case Priority.Refresh:
        return finalsHere + this.reserve(method, REFRESH_RESERVE_SHARE);
      case Priority.Thinking:
        return finalsHere + this.reserve(method, REFRESH_RESERVE_SHARE + THINKING_RESERVE_SHARE);
    }
  }

  private readyAt(message: LiveMessage, editors: MethodCounts): number {
    switch (message.priority) {
      case Priority.Final:
        return message.retryAt;
      case Priority.FirstText:
        return 0;
      case Priority.Refresh:
      case Priority.Thinking:
        return message.lastSentAt + this.interval(message.methods.edit, editors.get(message.methods.edit) ?? 1);
    }
  }

  /** Re-plans the lane: called when a message gets new content, an edit completes, or a timer fires. */
  wake(): void {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    void this.pump();
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        await this.dispatchReady();
      } while (this.pumpAgain);
    } catch (error) {
      this.options.logger.error({ err: error, teamId: this.teamId }, 'edit scheduling failed');
    } finally {
      this.pumping = false;
    }
  }

  private async dispatchReady(): Promise<void> {
    const now = this.now();
    const editors: MethodCounts = new Map();
    const finals: MethodCounts = new Map();
    const textless: MethodCounts = new Map();
    for (const message of this.messages) {
      if (message.waiting) continue;
      count(editors, message.methods.edit);
      count(finals, message.methods.final);
      if (!message.hasText) count(textless, message.methods.final);
    }
    const ready: LiveMessage[] = [];
    let nextWake = Infinity;
    for (const message of this.messages) {
      if (message.pending === undefined || message.inFlight) continue;
      const at = this.readyAt(message, editors);
      if (at <= now) ready.push(message);
      else nextWake = Math.min(nextWake, at);
    }
    const exhausted = new Set<PacedMethod>();
    for (const message of this.order(ready)) {
      const method = message.method;
      if (exhausted.has(method)) continue;
      const { waitMs, remaining } = await this.budget(method).tryTake(this.teamId, this.reserveFor(message, finals, textless));
      this.remaining.set(method, remaining);
      if (waitMs > 0) {
        // Lower priorities on this method would find no budget either; they wait for its next token.
        nextWake = Math.min(nextWake, this.now() + waitMs);
        exhausted.add(method);
        continue;
      }
      void this.dispatch(message, method);
    }
    this.schedule(nextWake);
  }

  /**
   * The order in which ready messages spend the budget: by priority; within one, round-robin between users
   * (the user served longest ago first), and each user's longest-waiting message first.
   */
  private order(ready: LiveMessage[]): LiveMessage[] {
    const servedAt = (message: LiveMessage) => this.users.get(message.userId)!.servedAt;
    ready.sort((a, b) => a.priority - b.priority || servedAt(a) - servedAt(b) || a.lastVisibleAt - b.lastVisibleAt);
    const turns = new Map<string, number>();
    const ranked = ready.map((message) => {
      const key = `${message.priority}:${message.userId}`;
      const turn = turns.get(key) ?? 0;
      turns.set(key, turn + 1);
      return { message, turn };
    });
    // Stable: within a turn, users keep the order above.
    ranked.sort((a, b) => a.message.priority - b.message.priority || a.turn - b.turn);
    return ranked.map(({ message }) => message);
  }

  private schedule(at: number): void {
    if (at === Infinity || at >= this.timerAt) return;
    clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(
      () => {
        this.timerAt = Infinity;
        this.wake();
      },
      Math.max(0, at - this.now()),
    );
  }

  private async dispatch(message: LiveMessage, prepaidMethod: PacedMethod): Promise<void> {
    const content = message.pending!;
    const { final, thinking } = message;
    message.inFlight = true;
    message.pending = undefined;
    message.urgent = false;
    message.thinking = false;
    message.sent = content;
    this.users.get(message.userId)!.servedAt = ++this.served;
    // The scheduler's take paid for the first call of the message's method; every further call pays its own.
    let prepaid = true;
    let lastMethod = prepaidMethod;
    const pay = async (method: PacedMethod) => {
      lastMethod = method;
      if (prepaid && method === prepaidMethod) prepaid = false;
      else this.remaining.set(method, await takeWaiting(this.budget(method), this.teamId, () => message.closed));
    };
    try {
      await message.send(content, final, pay, thinking);
      // A thinking line is not the answer: the first text after it is still a first text.
      message.hasText ||= !thinking;
      message.lastVisibleAt = this.now();
      if (final) message.close();
    } catch (error) {
      // What Slack shows is unknown now (a multi-message edit may have half landed): the next show is sent.
      message.sent = undefined;
      await this.recover(message, content, final, thinking, error, lastMethod);
    } finally {
      message.inFlight = false;
      message.lastSentAt = this.now();
      this.wake();
    }
  }

  /**
   * A failed edit. Only a gone message (deleted, archived, not in channel, auth revoked) ends its scheduling:
   * a 429 pauses the workspace and re-pends the edit, a final is sent again with backoff for
   * FINAL_RETRY_WINDOW_MS whatever else failed, and an intermediate edit is skipped (the next show or the
   * final carries newer content; re-sending it at once could spin on an edit Slack keeps refusing).
   */
  private async recover(message: LiveMessage, content: string, final: boolean, thinking: boolean, error: unknown, method: PacedMethod): Promise<void> {
    // Closed meanwhile (the reply was lost or abandoned): nothing is owed to it any more.
    if (message.closed) return;
    /** Sends this content again, unless newer content superseded it meanwhile. */
    const repend = () => {
      if (message.pending !== undefined) return;
      message.pending = content;
      message.thinking = thinking;
    };
    const failure = classifySlackError(error);
    const log = { teamId: this.teamId, failure, final, method };
    if (failure.kind === 'rate_limited') {
      repend();
      this.options.logger.warn(log, 'Slack rate-limited an edit; pausing the workspace');
      // The paused budget holds every call of that method in the workspace, this one included, until Retry-After has passed.
      await this.budget(method).pause(this.teamId, failure.retryAfterMs);
      return;
    }
    if (failure.kind !== 'gone' && !final) {
      this.options.logger.warn(log, 'intermediate edit failed; skipped');
      return;
    }
    if (failure.kind !== 'gone') {
      const now = this.now();
      message.firstFinalAttemptAt ||= now;
      if (now - message.firstFinalAttemptAt < FINAL_RETRY_WINDOW_MS) {
        repend();
        message.retryAt = now + Math.min(FINAL_RETRY_BASE_MS * 2 ** message.finalAttempts++, 15_000);
        this.options.logger.warn(log, 'final edit failed; retrying');
        return;
      }
    }
    this.options.logger.error(log, 'edit failed; giving up on this message');
    message.close(new EditFailedError(`edit failed: ${'error' in failure ? failure.error : failure.kind}`, { cause: error }));
  }
}

function count(counts: MethodCounts, method: PacedMethod): void {
  counts.set(method, (counts.get(method) ?? 0) + 1);
}
