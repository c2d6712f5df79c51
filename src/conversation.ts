import { ClaudeError, type ClaudeAnswer, type ClaudeStream } from './claude/claudeStream.js';
import type { ReleaseLock, ThreadLock } from './coordination/threadLock.js';
import { copy } from './copy.js';
import type { HistoryStore, ThreadKey, Turn } from './history/historyStore.js';
import type { InflightAnswer, InflightRegistry } from './inflight/inflightRegistry.js';
import { threadId } from './history/threadId.js';
import type { Logger } from './logger.js';
import { toMrkdwn } from './slack/render.js';
import { ReplyMessage, type ReplyDeps } from './slack/replyMessage.js';
import { ThreadQueue } from './threadQueue.js';

/** A question from Slack, whatever surface it came from. */
export interface Prompt extends ThreadKey {
  userId: string;
  text: string;
  source: 'mention' | 'dm' | 'command' | 'resumed';
  /** Notes (Markdown, from copy) the final message carries after the answer, e.g. that attached files were not read. */
  notes?: readonly string[];
}

export interface ConversationOptions {
  systemPrompt: string;
  maxTokens: number;
  /** Fresh attempts after a mid-stream failure (STREAM_RETRIES). */
  retries: number;
  /** Questions that may wait behind a thread's running answer. */
  maxWaitingPerThread: number;
}

export interface ConversationDeps extends ReplyDeps {
  claude: ClaudeStream;
  history: HistoryStore;
  /** Serialises a thread's answers across instances (a no-op with a single process). */
  lock: ThreadLock;
  /** Records answers in flight so a crashed instance's placeholders are finished by the next one. */
  inflight: InflightRegistry;
  /** This process's id in the in-flight registry. */
  instanceId: string;
  options: ConversationOptions;
}

/** How one answer ended, for logs and tests. */
export type AnswerOutcome = 'complete' | 'truncated' | 'refused' | 'interrupted' | 'failed' | 'empty' | 'stopped';

/** An answer's outcome, the text worth storing in history, and what Claude reported it cost. */
interface Ending {
  kind: AnswerOutcome;
  storeText?: string;
  outputTokens?: number;
}

/**
 * The orchestrator: for each prompt, in thread order, it posts the placeholder, streams Claude's answer
 * into it (retrying from scratch on a mid-stream failure), adds the note the ending calls for, and stores
 * the exchange in the thread's history.
 */
export class Conversation {
  private readonly queue: ThreadQueue;
  private readonly running = new Set<AbortController>();
  /** Aborted once answers still running at the end of the shutdown grace period are cut short. */
  private readonly stopping = new AbortController();

  constructor(private readonly deps: ConversationDeps) {
    this.queue = new ThreadQueue(deps.options.maxWaitingPerThread);
  }

  /** Answers `prompt` after the thread's earlier prompts; rejects with ThreadBusyError when too many wait. */
  answer(prompt: Prompt): Promise<AnswerOutcome> {
    return this.queue.run(threadId(prompt), () => this.run(prompt));
  }

  /** Answers again, in its own placeholder, a question whose answer a crashed instance left unfinished. */
  resume(orphan: InflightAnswer): Promise<AnswerOutcome> {
    const prompt: Prompt = { ...orphan, text: orphan.question, source: 'resumed' };
    return this.queue.run(threadId(prompt), () => this.run(prompt, orphan.replyTs));
  }

  /** Threads with an answer running or waiting. */
  get busyThreads(): number {
    return this.queue.size;
  }

  /** Waits up to `graceMs` for every answer to end, then cuts the rest short with the restart note. */
  async drain(graceMs: number): Promise<void> {
    const deadline = Date.now() + graceMs;
    while (this.queue.size > 0 && Date.now() < deadline) await delay(50);
    this.stopping.abort('restart');
    for (const controller of this.running) controller.abort('restart');
    while (this.queue.size > 0) await delay(50);
  }

  private async run(prompt: Prompt, resumeTs?: string): Promise<AnswerOutcome> {
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
    const reply = resumeTs ? ReplyMessage.resume(this.deps, prompt, resumeTs) : ReplyMessage.start(this.deps, prompt);
    if (resumeTs) reply.showNow(copy.resuming);
    const controller = new AbortController();
    this.running.add(controller);
    const signal = AbortSignal.any([controller.signal, reply.lost]);
    const recorded = this.recordInflight(prompt, reply, logger);
    try {
      const history = await this.deps.history.load(prompt);
      const turns: Turn[] = [...history, { role: 'user', content: prompt.text }];
      const outcome = await this.stream(reply, turns, signal, logger, prompt.notes ?? []);
      if (outcome.storeText) await this.deps.history.appendExchange(prompt, prompt.text, outcome.storeText);
      logger.info({ outcome: outcome.kind, outputTokens: outcome.outputTokens, replyTs: reply.ts, source: prompt.source }, 'answer finished');
      return outcome.kind;
    } catch (error) {
      // Whatever failed (history store, Slack), the placeholder must not stay on "Thinking…".
      logger.error({ err: error, replyTs: reply.ts }, 'answer failed');
      if (!reply.lost.aborted) await reply.finish(copy.unavailable).catch(() => reply.abandon());
      return 'failed';
    } finally {
      this.running.delete(controller);
      const replyTs = await recorded;
      if (replyTs) await this.deps.inflight.remove(prompt.channel, replyTs).catch(() => undefined);
      await release();
    }
  }

  /** Records the answer in flight once its placeholder exists; resolves with the placeholder's ts. */
  private async recordInflight(prompt: Prompt, reply: ReplyMessage, logger: Logger): Promise<string | undefined> {
    try {
      const replyTs = await reply.posted;
      const { teamId, channel, threadTs, userId, text: question } = prompt;
      await this.deps.inflight.add({ teamId, channel, threadTs, userId, question, replyTs, startedAt: Date.now(), owner: this.deps.instanceId });
      return replyTs;
    } catch (error) {
      logger.warn({ err: error }, 'could not record the answer in flight');
      return reply.ts;
    }
  }

  /** Streams attempts until one ends; returns the outcome and the text worth storing. */
  private async stream(
    reply: ReplyMessage,
    turns: Turn[],
    signal: AbortSignal,
    logger: Logger,
    notes: readonly string[],
  ): Promise<Ending> {
    const { claude, options } = this.deps;
    for (let attempt = 0; ; attempt++) {
      try {
        const answer = await claude.answer({ system: options.systemPrompt, turns, signal, onText: (text) => reply.show(text) });
        return { ...(await this.finishAnswer(reply, answer, notes)), outputTokens: answer.outputTokens };
      } catch (error) {
        if (!(error instanceof ClaudeError)) throw error;
        if (error.retryable && attempt < options.retries && !signal.aborted) {
          logger.warn({ err: error.cause, attempt }, 'stream interrupted; retrying from scratch');
          reply.showNow(withNote(error.partialText, copy.retrying));
          continue;
        }
        return this.finishFailure(reply, error, signal, logger, notes);
      }
    }
  }

  private async finishAnswer(reply: ReplyMessage, answer: ClaudeAnswer, notes: readonly string[]): Promise<Ending> {
    const { text, stopReason } = answer;
    if (stopReason === 'refusal') {
      await reply.finish(withNote(text, copy.notes.refusal, ...notes));
      return { kind: 'refused' };
    }
    if (!text.trim()) {
      await reply.finish(withNote(copy.empty, ...notes));
      return { kind: 'empty' };
    }
    if (stopReason === 'max_tokens') {
      await reply.finish(withNote(text, copy.notes.truncated(this.deps.options.maxTokens), ...notes));
      return { kind: 'truncated', storeText: text };
    }
    if (stopReason === 'model_context_window_exceeded') {
      await reply.finish(withNote(text, copy.notes.contextFull, ...notes));
      return { kind: 'truncated', storeText: text };
    }
    await reply.finish(withNote(text, ...notes));
    return { kind: 'complete', storeText: text };
  }

  private async finishFailure(
    reply: ReplyMessage,
    error: ClaudeError,
    signal: AbortSignal,
    logger: Logger,
    notes: readonly string[],
  ): Promise<Ending> {
    if (reply.lost.aborted) {
      logger.warn({ replyTs: reply.ts }, 'reply message can no longer be edited; answer abandoned');
      return { kind: 'stopped' };
    }
    const text = error.partialText;
    if (error.kind === 'aborted') {
      const note = signal.reason === 'restart' ? copy.notes.restart : copy.notes.stopped;
      await reply.finish(withNote(text, note, ...notes));
      return { kind: 'stopped', storeText: text || undefined };
    }
    logger.error({ err: error.cause, kind: error.kind, partialChars: text.length }, 'answer failed');
    if (text) {
      await reply.finish(withNote(text, copy.notes.interrupted, ...notes));
      return { kind: 'interrupted', storeText: text };
    }
    await reply.finish(withNote(copy.failures[error.kind], ...notes));
    return { kind: 'failed' };
  }
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `text` followed by each note, a blank line apart (an empty text shows the notes alone). */
function withNote(text: string, ...notes: string[]): string {
  return [text, ...notes].filter(Boolean).join('\n\n');
}
