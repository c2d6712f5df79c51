import { ClaudeError, type ClaudeAnswer, type ClaudeStream } from './claude/claudeStream.js';
import { copy } from './copy.js';
import type { HistoryStore, ThreadKey, Turn } from './history/historyStore.js';
import { threadId } from './history/threadId.js';
import type { Logger } from './logger.js';
import { ReplyMessage, type ReplyDeps } from './slack/replyMessage.js';
import { ThreadQueue } from './threadQueue.js';

/** A question from Slack, whatever surface it came from. */
export interface Prompt extends ThreadKey {
  userId: string;
  text: string;
  source: 'mention' | 'dm' | 'command';
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
  options: ConversationOptions;
}

/** How one answer ended, for logs and tests. */
export type AnswerOutcome = 'complete' | 'truncated' | 'refused' | 'interrupted' | 'failed' | 'empty' | 'stopped';

/**
 * The orchestrator: for each prompt, in thread order, it posts the placeholder, streams Claude's answer
 * into it (retrying from scratch on a mid-stream failure), adds the note the ending calls for, and stores
 * the exchange in the thread's history.
 */
export class Conversation {
  private readonly queue: ThreadQueue;
  private readonly running = new Set<AbortController>();

  constructor(private readonly deps: ConversationDeps) {
    this.queue = new ThreadQueue(deps.options.maxWaitingPerThread);
  }

  /** Answers `prompt` after the thread's earlier prompts; rejects with ThreadBusyError when too many wait. */
  answer(prompt: Prompt): Promise<AnswerOutcome> {
    return this.queue.run(threadId(prompt), () => this.run(prompt));
  }

  /** Aborts every answer in flight; each ends with `note` on what it had shown. */
  abortAll(reason: 'stopped' | 'restart'): void {
    for (const controller of this.running) controller.abort(reason);
  }

  /** Threads with an answer running or waiting. */
  get busyThreads(): number {
    return this.queue.size;
  }

  /** Waits up to `graceMs` for every answer to end, then cuts the rest short with the restart note. */
  async drain(graceMs: number): Promise<void> {
    const deadline = Date.now() + graceMs;
    while (this.queue.size > 0 && Date.now() < deadline) await delay(50);
    this.abortAll('restart');
    while (this.queue.size > 0) await delay(50);
  }

  private async run(prompt: Prompt): Promise<AnswerOutcome> {
    const logger = this.deps.logger.child({ teamId: prompt.teamId, channel: prompt.channel, threadTs: prompt.threadTs });
    const reply = ReplyMessage.start(this.deps, prompt);
    const controller = new AbortController();
    this.running.add(controller);
    const signal = AbortSignal.any([controller.signal, reply.lost]);
    try {
      const history = await this.deps.history.load(prompt);
      const turns: Turn[] = [...history, { role: 'user', content: prompt.text }];
      const outcome = await this.stream(reply, turns, signal, logger);
      if (outcome.storeText) await this.deps.history.appendExchange(prompt, prompt.text, outcome.storeText);
      logger.info({ outcome: outcome.kind, replyTs: reply.ts, source: prompt.source }, 'answer finished');
      return outcome.kind;
    } catch (error) {
      // Whatever failed (history store, Slack), the placeholder must not stay on "Thinking…".
      logger.error({ err: error, replyTs: reply.ts }, 'answer failed');
      if (!reply.lost.aborted) await reply.finish(copy.unavailable).catch(() => reply.abandon());
      return 'failed';
    } finally {
      this.running.delete(controller);
    }
  }

  /** Streams attempts until one ends; returns the outcome and the text worth storing. */
  private async stream(
    reply: ReplyMessage,
    turns: Turn[],
    signal: AbortSignal,
    logger: Logger,
  ): Promise<{ kind: AnswerOutcome; storeText?: string }> {
    const { claude, options } = this.deps;
    for (let attempt = 0; ; attempt++) {
      try {
        const answer = await claude.answer({ system: options.systemPrompt, turns, signal, onText: (text) => reply.show(text) });
        return await this.finishAnswer(reply, answer);
      } catch (error) {
        if (!(error instanceof ClaudeError)) throw error;
        if (error.retryable && attempt < options.retries && !signal.aborted) {
          logger.warn({ err: error.cause, attempt }, 'stream interrupted; retrying from scratch');
          reply.showNow(withNote(error.partialText, copy.retrying));
          continue;
        }
        return this.finishFailure(reply, error, signal, logger);
      }
    }
  }

  private async finishAnswer(reply: ReplyMessage, answer: ClaudeAnswer): Promise<{ kind: AnswerOutcome; storeText?: string }> {
    const { text, stopReason } = answer;
    if (stopReason === 'refusal') {
      await reply.finish(withNote(text, copy.notes.refusal));
      return { kind: 'refused' };
    }
    if (!text.trim()) {
      await reply.finish(copy.empty);
      return { kind: 'empty' };
    }
    if (stopReason === 'max_tokens') {
      await reply.finish(withNote(text, copy.notes.truncated(this.deps.options.maxTokens)));
      return { kind: 'truncated', storeText: text };
    }
    if (stopReason === 'model_context_window_exceeded') {
      await reply.finish(withNote(text, copy.notes.contextFull));
      return { kind: 'truncated', storeText: text };
    }
    await reply.finish(text);
    return { kind: 'complete', storeText: text };
  }

  private async finishFailure(
    reply: ReplyMessage,
    error: ClaudeError,
    signal: AbortSignal,
    logger: Logger,
  ): Promise<{ kind: AnswerOutcome; storeText?: string }> {
    if (reply.lost.aborted) {
      logger.warn({ replyTs: reply.ts }, 'reply message can no longer be edited; answer abandoned');
      return { kind: 'stopped' };
    }
    const text = error.partialText;
    if (error.kind === 'aborted') {
      const note = signal.reason === 'restart' ? copy.notes.restart : copy.notes.stopped;
      await reply.finish(text ? withNote(text, note) : note);
      return { kind: 'stopped', storeText: text || undefined };
    }
    logger.error({ err: error.cause, kind: error.kind, partialChars: text.length }, 'answer failed');
    if (text) {
      await reply.finish(withNote(text, copy.notes.interrupted));
      return { kind: 'interrupted', storeText: text };
    }
    await reply.finish(copy.failures[error.kind]);
    return { kind: 'failed' };
  }
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function withNote(text: string, note: string): string {
  return text ? `${text}\n\n${note}` : note;
}
