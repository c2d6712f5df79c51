import { Admission, type ReleaseSlot } from './admission.js';
import { randomUUID } from 'node:crypto';
import { AnswerTimeline } from './answerTimeline.js';
import { retry, sleep } from './backoff.js';
import { ClaudeError, type AnswerUsage, type ClaudeAnswer, type ClaudeStream } from './claude/claudeStream.js';
import { RetryBackoff } from './claude/retryBackoff.js';
import type { ReleaseLock, ThreadLock } from './coordination/threadLock.js';
import { copy } from './copy.js';
import type { PromptContext, PromptRequest } from './context/promptContext.js';
import type { ThreadKey } from './history/historyStore.js';
import { SaveFailures } from './history/saveFailures.js';
import { recordTs, type InflightAnswer, type InflightRegistry } from './inflight/inflightRegistry.js';
import { threadId } from './history/threadId.js';
import type { Logger } from './logger.js';
import type { BotMetrics } from './metrics/botMetrics.js';
import { refusalNote } from './refusalNote.js';
import { readAnswer } from './slack/answerShown.js';
import { findPostRetrying } from './slack/postOnce.js';
import { toMrkdwn } from './slack/render.js';
import { ReplyMessage, type ReplyDeps } from './slack/replyMessage.js';
import type { SlackFile } from './slack/slackFile.js';
import { ThreadQueue } from './threadQueue.js';
import type { DailyLimits } from './usage/dailyLimits.js';
import { addUsage } from './usage/usageLedger.js';

/** A question from Slack, whatever surface it came from. */
export interface Prompt extends ThreadKey {
  userId: string;
  /**
   * The question as Slack sent it (markup, entities escaped): the request builder turns it into plain text after
   * the placeholder is up, and the in-flight record keeps it as is, so a resumed answer converts it the same way.
   */
  text: string;
  source: 'mention' | 'dm' | 'command' | 'resumed';
  /** Notes (Markdown, from copy) the final message carries after the answer, e.g. that attached files were not read. */
  notes?: readonly string[];
  /**
   * The ts of the Slack message that asked (for `/ask`, the posted echo): thread messages from it on are not
   * context for this answer. Absent for a resumed answer.
   */
  ts?: string;
  /** Files attached to the question, as the event listed them; read when the answer starts. */
  files?: readonly SlackFile[];
}

export interface ConversationOptions {
  maxTokens: number;
  /** Fresh attempts after a mid-stream failure (STREAM_RETRIES). */
  retries: number;
  /** Questions that may wait behind a thread's running answer. */
  maxWaitingPerThread: number;
  /** Answers in flight per user (USER_MAX_CONCURRENT). */
  userMaxConcurrent: number;
  /** Claude streams in flight in this process (MAX_CONCURRENT_ANSWERS). */
  maxConcurrentAnswers: number;
}

export interface ConversationDeps extends ReplyDeps {
  claude: ClaudeStream;
  /** Builds each request (history, thread, files, system prompt) and stores each exchange. */
  context: PromptContext;
  /** Serialises a thread's answers across instances (a no-op with a single process). */
  lock: ThreadLock;
  /** Records answers in flight so a crashed instance's placeholders are finished by the next one. */
  inflight: InflightRegistry;
  /** This process's id in the in-flight registry. */
  instanceId: string;
  /** The daily token limits: checked before an answer's Claude call, and told what each answer cost. */
  limits: DailyLimits;
  /** Counts answers, Claude's failures and tokens, and how soon each reply was visible. */
  metrics: BotMetrics;
  options: ConversationOptions;
}

/** How one answer ended, for logs and tests. */
export type AnswerOutcome =
  | 'complete'
  | 'truncated'
  | 'thinking_used_budget'
  | 'refused'
  | 'interrupted'
  | 'failed'
  | 'empty'
  | 'stopped'
  | 'over_limit';

/**
 * An answer's outcome, what its message ends with (none when the message can no longer be edited), the text
 * worth storing in history, and what Claude reported it cost.
 */
interface Ending {
  kind: AnswerOutcome;
  final?: string;
  storeText?: string;
  /** The question as plain text, once the request was built: what history stores with `storeText`. */
  question?: string;
  /** Every attempt's tokens added up (a failed or interrupted attempt is billed too); undefined when Claude reported none. */
  usage?: AnswerUsage;
}

/**
 * An answer cut by max_tokens with fewer visible characters than this was all thinking: it gets the note that
 * says so instead of a fragment with the truncation note.
 */
const MIN_ANSWER_CHARS = 20;

/** Tries to forget an answer in flight: a record left behind would make the next start answer it again. */
const FORGET_RETRY = { attempts: 4, baseMs: 250, maxMs: 2_000 };

/**
 * The orchestrator: for each prompt, in thread order, it posts the placeholder, waits for a slot under the
 * per-user and process caps (Admission), streams Claude's answer into it (retrying from scratch, with
 * backoff, on a mid-stream failure), adds the note the ending calls for, and stores the exchange in the
 * thread's history (a failed save is noted in the thread's next answer).
 */
export class Conversation {
  private readonly queue: ThreadQueue;
  private readonly running = new Set<AbortController>();
  /** The reply and asker of each thread's running answer, for Stop. */
  private readonly answering = new Map<string, { reply: ReplyMessage; userId: string }>();
  /** Aborted once answers still running at the end of the shutdown grace period are cut short. */
  private readonly stopping = new AbortController();
  private readonly admission: Admission;
  private readonly backoff = new RetryBackoff();
  private readonly saves: SaveFailures;

  constructor(private readonly deps: ConversationDeps) {
    const { options } = deps;
    this.queue = new ThreadQueue(options.maxWaitingPerThread);
    this.admission = new Admission({ perUser: options.userMaxConcurrent, total: options.maxConcurrentAnswers });
    this.saves = new SaveFailures(deps.logger);
  }

  /** Answers `prompt` after the thread's earlier prompts; rejects with ThreadBusyError when too many wait. */
  answer(prompt: Prompt): Promise<AnswerOutcome> {
    const timeline = new AnswerTimeline();
    return this.queue.run(threadId(prompt), () => this.measured(prompt, timeline, this.run(prompt, timeline)));
  }

  /**
   * Answers again, in its own placeholder, a question whose answer a crashed instance left unfinished;
   * resolves 'already_shown' (and forgets the record) when Slack already shows that answer's final.
   */
  async resume(orphan: InflightAnswer): Promise<AnswerOutcome | 'already_shown'> {
    const logger = this.deps.logger.child({ teamId: orphan.teamId, channel: orphan.channel, threadTs: orphan.threadTs });
    const prompt: Prompt = { ...orphan, text: orphan.question, source: 'resumed' };
    const timeline = new AnswerTimeline();
    // It crashed before its first message's ts was recorded (a post held for Claude's first words, or one still on
    // its way): that message is looked for by its metadata id. If Slack has none, nothing shows the answer: a new message.
    const replyTs = orphan.replyTs ?? (orphan.postId === undefined ? undefined : await this.findPosted(orphan, orphan.postId, logger));
    if (replyTs === undefined) return this.queue.run(threadId(prompt), () => this.measured(prompt, timeline, this.run(prompt, timeline)));
    // If Slack cannot be asked, answering again is the safe side: a placeholder must never stay unfinished.
    const shown = await readAnswer(this.deps.slack.web, { ...orphan, replyTs }).catch((error: unknown) => {
      logger.warn({ err: error, replyTs }, 'could not read the orphaned answer from Slack; answering again');
      return { finalShown: false, continuation: [] };
    });
    if (shown.finalShown) {
      logger.info({ replyTs }, 'orphaned answer already shows its final; not asking again');
      await this.forget(orphan.channel, recordTs(orphan), logger).catch(() => undefined);
      return 'already_shown';
    }
    // The new answer takes over the orphan's continuation messages, so its edits rewrite or remove them.
    return this.queue.run(threadId(prompt), () => this.measured(prompt, timeline, this.run(prompt, timeline, replyTs, shown.continuation)));
  }

  /** The ts of the message an orphan posted with `postId`, or undefined if Slack has none or cannot say (then it is answered in a new message). */
  private findPosted(orphan: InflightAnswer, postId: string, logger: Logger): Promise<string | undefined> {
    const { channel, threadTs, questionTs } = orphan;
    return findPostRetrying(this.deps.slack.reads, { channel, threadTs, ...(questionTs ? { after: questionTs } : {}) }, postId).catch((error: unknown) => {
      logger.warn({ err: error }, 'could not look for the orphaned answer in its thread; answering in a new message');
      return undefined;
    });
  }

  /**
   * Stops the answer running in `thread` (Slack's Stop on a stream, or the Stop button): its Claude stream is
   * cancelled and the reply ends with the text so far and a "Stopped" note. `userId` must be the asker's unless
   * `anyone` (Slack only shows its own Stop to the recipient); with `messageTs`, one of them must be a message
   * of that answer (a Stop pressed on an earlier answer's message, arriving late, stops nothing). Returns what
   * happened, with the asker's id.
   */
  stop(
    thread: ThreadKey,
    userId: string,
    { anyone = false, messageTs = [] }: { anyone?: boolean; messageTs?: readonly string[] } = {},
  ): { result: 'stopped' | 'not_running' } | { result: 'not_asker'; askerId: string } {
    const running = this.answering.get(threadId(thread));
    if (!running || (messageTs.length > 0 && !messageTs.some((ts) => running.reply.shows(ts)))) return { result: 'not_running' };
    if (!anyone && running.userId !== userId) return { result: 'not_asker', askerId: running.userId };
    running.reply.stop();
    return { result: 'stopped' };
  }

  /** Threads with an answer running or waiting. */
  get busyThreads(): number {
    return this.queue.size;
  }

  /** Answers holding a slot, and questions waiting for their thread, their user's cap or a slot. */
  get load(): { answersInFlight: number; questionsWaiting: number } {
    return { answersInFlight: this.admission.admitted, questionsWaiting: this.queue.waiting + this.admission.waiting };
  }

  /** Waits up to `graceMs` for every answer to end, then cuts the rest short with the restart note. */
  async drain(graceMs: number): Promise<void> {
    const deadline = Date.now() + graceMs;
    while (this.queue.size > 0 && Date.now() < deadline) await sleep(50);
    this.stopping.abort('restart');
    for (const controller of this.running) controller.abort('restart');
    while (this.queue.size > 0) await sleep(50);
  }

  private async run(prompt: Prompt, timeline: AnswerTimeline, resumeTs?: string, continuation: readonly string[] = []): Promise<AnswerOutcome> {
    const logger = this.deps.logger.child({ teamId: prompt.teamId, channel: prompt.channel, threadTs: prompt.threadTs });
    let release: ReleaseLock;
    try {
      release = await this.deps.lock.acquire(threadId(prompt), this.stopping.signal);
    } catch (error) {
      // No placeholder yet: say in the thread why there is no answer (store down, or shutting down).
      logger.error({ err: error }, 'could not start an answer');
      const text = this.stopping.signal.aborted ? copy.notes.restart : copy.unavailable;
      await this.deps.slack.web.chat
        .postMessage({ channel: prompt.channel, thread_ts: prompt.threadTs, text: toMrkdwn(text) })
        .catch((postError: unknown) => logger.error({ err: postError }, 'could not tell the user'));
      return 'failed';
    }
    // Recorded in flight before its first message is posted (DESIGN.md §3), with the id that message carries in its
    // metadata: a crash before the post's ts is recorded (a held post, or a post still on its way) still finds the
    // question, and the message. Not awaited: the post goes out at once.
    const postId = randomUUID();
    const recordedBefore: Promise<string | undefined> = resumeTs
      ? Promise.resolve(undefined)
      : this.deps.inflight.add(this.inflightRecord(prompt, { postId })).then(
          () => postId,
          (error: unknown) => {
            logger.warn({ err: error }, 'could not record the answer in flight');
            return postId;
          },
        );
    // Nothing asynchronous runs between wouldQueue and the admit call below: a question that waits for a process
    // slot at once says so in its first message (one that waits later is told by onProcessWait).
    const reply = resumeTs
      ? ReplyMessage.resume(this.deps, prompt, resumeTs, continuation, timeline)
      : ReplyMessage.start(this.deps, prompt, { timing: timeline, postId, queued: this.admission.wouldQueue(prompt.userId) });
    if (resumeTs) reply.showNow(copy.resuming);
    const controller = new AbortController();
    this.running.add(controller);
    this.answering.set(threadId(prompt), { reply, userId: prompt.userId });
    const signal = AbortSignal.any([controller.signal, reply.lost, reply.stopped]);
    const recorded = this.recordInflight(prompt, reply, recordedBefore, logger);
    let admitted: ReleaseSlot | undefined;
    try {
      // The caps are waited for after the placeholder is posted, so a waiting question shows it was heard.
      admitted = await this.admission
        .admit(prompt.userId, signal, { onUserWait: () => this.tellWaiting(prompt, logger), onProcessWait: () => reply.showQueued() })
        .catch(() => undefined);
      if (admitted) reply.showAdmitted();
      const ending = admitted
        ? await this.answerAdmitted(prompt, reply, signal, timeline, logger)
        : this.endingOfAbort(reply, '', signal, logger);
      if (ending.final !== undefined) {
        const unsaved = this.saves.takeUnsaved(prompt) ? [copy.notes.unsaved] : [];
        await reply.finish(withNote(ending.final, ...(prompt.notes ?? []), ...unsaved), { answer: ending.storeText !== undefined });
      }
      if (ending.storeText && ending.question !== undefined) await this.save(prompt, ending.question, ending.storeText);
      if (ending.usage) await this.deps.limits.record(prompt.teamId, prompt.userId, ending.usage);
      logger.info(
        { outcome: ending.kind, replyTs: reply.ts, source: prompt.source, ...usageFields(ending.usage), ...timeline.fields },
        'answer finished',
      );
      if (ending.usage) this.deps.metrics.claudeUsed(ending.usage);
      return ending.kind;
    } catch (error) {
      // Whatever failed (history store, Slack), the placeholder must not stay on "Thinking…".
      logger.error({ err: error, replyTs: reply.ts }, 'answer failed');
      if (!reply.lost.aborted) await reply.finish(copy.unavailable).catch(() => reply.abandon());
      return 'failed';
    } finally {
      admitted?.();
      this.running.delete(controller);
      this.answering.delete(threadId(prompt));
      const replyTs = await recorded;
      // The record made before the post is replaced once it is posted, unless recording that failed (or it never was).
      for (const ts of new Set([replyTs, prompt.threadTs])) if (ts) await this.forget(prompt.channel, ts, logger).catch(() => undefined);
      await release();
    }
  }

  /** Counts the answer once it has ended: its outcome, and how soon each stage of its reply was visible. */
  private async measured(prompt: Prompt, timeline: AnswerTimeline, running: Promise<AnswerOutcome>): Promise<AnswerOutcome> {
    const outcome = await running;
    this.deps.metrics.answered(prompt, outcome, timeline);
    return outcome;
  }

  /** Builds the request (history, thread, files) and streams the answer; the caller shows the ending, with the request's notes. */
  private async answerAdmitted(
    prompt: Prompt,
    reply: ReplyMessage,
    signal: AbortSignal,
    timeline: AnswerTimeline,
    logger: Logger,
  ): Promise<Ending> {
    // Before the request is built: a refused question costs no history read, no file download, no Claude call.
    // A resumed answer already passed this check before its instance crashed: it is finished, never refused.
    const limit = prompt.source === 'resumed' ? undefined : await this.deps.limits.reached(prompt.teamId, prompt.userId);
    if (limit) return { kind: 'over_limit', final: copy.dailyLimit[limit.whose](limit.resetsInMs) };
    const request = await this.deps.context.build(prompt, signal, logger);
    const ending = { ...(await this.stream(reply, request, signal, timeline, logger)), question: request.question };
    return ending.final === undefined ? ending : { ...ending, final: withNote(ending.final, ...request.notes) };
  }

  /** Stores the exchange; a failure is reported once per kind and noted in the thread's next answer. */
  private async save(prompt: Prompt, question: string, answer: string): Promise<void> {
    try {
      await this.deps.context.save(prompt, question, answer);
      this.saves.saved();
    } catch (error) {
      this.saves.failed(prompt, error);
    }
  }

  /** Removes the in-flight record, retrying with backoff (a record left behind is answered again on the next start). */
  private forget(channel: string, replyTs: string, logger: Logger): Promise<void> {
    return retry(() => this.deps.inflight.remove(channel, replyTs), {
      ...FORGET_RETRY,
      onFailure: (error, attempt, willRetry) =>
        willRetry
          ? logger.warn({ err: error, replyTs, attempt }, 'could not remove the in-flight record; retrying')
          : logger.error({ err: error, replyTs }, 'could not remove the in-flight record: a later start may answer this question again'),
    });
  }

  /** Tells the user (ephemeral) that their question waits for their earlier answers. */
  private async tellWaiting(prompt: Prompt, logger: Logger): Promise<void> {
    await this.deps.slack.web.chat
      .postEphemeral({ channel: prompt.channel, user: prompt.userId, thread_ts: prompt.threadTs, text: toMrkdwn(copy.stillWorking) })
      .catch((error: unknown) => logger.warn({ err: error }, 'could not tell the user their question waits'));
  }

  /**
   * Records the answer in flight at its placeholder once that exists, replacing the record made before the post
   * (`before` resolves with its post id once it is written; undefined for a resumed reply); resolves with the placeholder's ts.
   */
  private async recordInflight(prompt: Prompt, reply: ReplyMessage, before: Promise<string | undefined>, logger: Logger): Promise<string | undefined> {
    try {
      const replyTs = await reply.posted;
      await this.deps.inflight.add(this.inflightRecord(prompt, { replyTs, postId: await before }));
      return replyTs;
    } catch (error) {
      logger.warn({ err: error }, 'could not record the answer in flight');
      return reply.ts;
    }
  }

  /** The answer's in-flight record, at its placeholder once that is posted. */
  private inflightRecord({ teamId, channel, threadTs, userId, text: question, ts: questionTs }: Prompt, { replyTs, postId }: Pick<InflightAnswer, 'replyTs' | 'postId'>): InflightAnswer {
    return {
      teamId,
      channel,
      threadTs,
      userId,
      question,
      ...(replyTs ? { replyTs } : {}),
      ...(postId ? { postId } : {}),
      ...(questionTs ? { questionTs } : {}),
      startedAt: Date.now(),
      owner: this.deps.instanceId,
    };
  }

  /** Streams attempts, waiting with backoff between them, until one ends; returns its ending. */
  private async stream(reply: ReplyMessage, { system, turns }: PromptRequest, signal: AbortSignal, timeline: AnswerTimeline, logger: Logger): Promise<Ending> {
    const { claude, options } = this.deps;
    const onText = (text: string) => {
      timeline.text();
      reply.show(text);
    };
    const onThinking = (thinking: string) => {
      timeline.thinking();
      reply.showThinking(thinking);
    };
    let usage: AnswerUsage | undefined;
    /** Adds an attempt's tokens to the answer's; returns the answer's so far. */
    const spend = (attempt: AnswerUsage | undefined) => {
      if (attempt) usage = usage ? addUsage(usage, attempt) : attempt;
      return usage;
    };
    for (let attempt = 0; ; attempt++) {
      try {
        const answer = await claude.answer({ system, turns, signal, onText, onThinking });
        return { ...this.endingOfAnswer(answer), usage: spend(answer.usage) };
      } catch (error) {
        if (!(error instanceof ClaudeError)) throw error;
        spend(error.usage);
        if (error.kind !== 'aborted') this.deps.metrics.claudeFailed(error.kind);
        if (!(error.retryable && attempt < options.retries && !signal.aborted)) return { ...this.endingOfFailure(reply, error, signal, logger), usage };
        const waitMs = this.backoff.delayMs(attempt, error.retryHint);
        logger.warn({ err: error.cause, attempt, waitMs }, 'stream interrupted; retrying from scratch');
        reply.showNow(withNote(error.partialText, copy.retrying));
        // A shutdown or a lost message cuts the wait short, keeping what was shown.
        if (!(await sleep(waitMs, signal))) return { ...this.endingOfAbort(reply, error.partialText, signal, logger), usage };
      }
    }
  }

  private endingOfAnswer({ text, stopReason, stopDetails }: ClaudeAnswer): Ending {
    if (stopReason === 'refusal') return { kind: 'refused', final: withNote(text, refusalNote(stopDetails)) };
    if (stopReason === 'max_tokens' && text.replace(/\s/g, '').length < MIN_ANSWER_CHARS) {
      // The budget went on thinking: a fragment would only hide the note that says what to change.
      return { kind: 'thinking_used_budget', final: copy.notes.thinkingUsedBudget(this.deps.options.maxTokens) };
    }
    if (!text.trim()) return { kind: 'empty', final: copy.empty };
    if (stopReason === 'max_tokens') {
      return { kind: 'truncated', final: withNote(text, copy.notes.truncated(this.deps.options.maxTokens)), storeText: text };
    }
    if (stopReason === 'model_context_window_exceeded') {
      return { kind: 'truncated', final: withNote(text, copy.notes.contextFull), storeText: text };
    }
    return { kind: 'complete', final: text, storeText: text };
  }

  private endingOfFailure(reply: ReplyMessage, error: ClaudeError, signal: AbortSignal, logger: Logger): Ending {
    const text = error.partialText;
    if (reply.lost.aborted || error.kind === 'aborted') return this.endingOfAbort(reply, text, signal, logger);
    logger.error({ err: error.cause, kind: error.kind, partialChars: text.length }, 'answer failed');
    if (text) return { kind: 'interrupted', final: withNote(text, copy.notes.interrupted), storeText: text };
    return { kind: 'failed', final: copy.failures[error.kind] };
  }

  /** The ending of an answer cut short (shutdown, a lost message) with `text` shown so far. */
  private endingOfAbort(reply: ReplyMessage, text: string, signal: AbortSignal, logger: Logger): Ending {
    if (reply.lost.aborted) {
      logger.warn({ replyTs: reply.ts }, 'reply message can no longer be edited; answer abandoned');
      return { kind: 'stopped' };
    }
    const note = signal.reason === 'restart' ? copy.notes.restart : copy.notes.stopped;
    return { kind: 'stopped', final: withNote(text, note), storeText: text || undefined };
  }
}

/** The "answer finished" log line's token counts, named as the Messages API's `usage` names them. */
function usageFields(usage: AnswerUsage | undefined): Record<string, number> {
  if (!usage) return {};
  return {
    input_tokens: usage.inputTokens,
    cache_creation_input_tokens: usage.cacheCreationInputTokens,
    cache_read_input_tokens: usage.cacheReadInputTokens,
    output_tokens: usage.outputTokens,
    thinking_tokens: usage.thinkingTokens,
  };
}


/** `text` followed by each note, a blank line apart (an empty text shows the notes alone). */
function withNote(text: string, ...notes: string[]): string {
  return [text, ...notes].filter(Boolean).join('\n\n');
}
