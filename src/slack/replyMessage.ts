import type { types } from '@slack/bolt';
import { WebAPIPlatformError, type WebClient } from '@slack/web-api';
import { backoffDelay, sleep } from '../backoff.js';
import { copy } from '../copy.js';
import type { Logger } from '../logger.js';
import { finalAnswerBlocks } from './answerBlocks.js';
import { EditFailedError, type EditScheduler, type LiveMessage } from './editScheduler.js';
import { toMrkdwn } from './render.js';
import type { SlackClients } from './slackClients.js';
import { classifySlackError } from './slackErrors.js';
import { SLACK_TEXT_LIMIT, splitAll } from './split.js';
import type { ThinkingDisplay } from '../config.js';
import { ThinkingProgress } from './thinkingProgress.js';

export interface ReplyTarget {
  teamId: string;
  channel: string;
  threadTs: string;
  /** Who asked: the workspace's edit budget is shared round-robin between users. */
  userId: string;
}

export interface ReplyDeps {
  slack: SlackClients;
  scheduler: EditScheduler;
  logger: Logger;
  /** What the reply shows while Claude thinks before its first text (THINKING_DISPLAY). */
  thinkingDisplay: ThinkingDisplay;
  /** FEEDBACK_BUTTONS: a final answer's last message carries 👍/👎 buttons. */
  feedbackButtons: boolean;
}

/** How a reply ends: `answer` is true when the final shows Claude's answer (not only a note), which may get feedback buttons. */
export interface FinishOptions {
  answer?: boolean;
}

const PLACEHOLDER = toMrkdwn(copy.thinking);
const STILL_WRITING = toMrkdwn(copy.stillWriting);
const EMPTY = toMrkdwn(copy.empty);
const UNDELIVERABLE = toMrkdwn(copy.notes.undeliverable);
const STALE_PART = toMrkdwn(copy.notes.staleContinuation);
const NOT_POSTED = toMrkdwn(copy.notPosted);

/** Posting the placeholder again after Slack's "try later" errors: about 7 s at most before the user is told. */
const PLACEHOLDER_RETRY = { attempts: 4, baseMs: 500, maxMs: 4_000 };
/** Re-splitting stops below this many characters per message: a refusal there is not about size (a final shows a note). */
const SMALLEST_LIMIT = 500;

/** A Slack message of the answer: its ts, the mrkdwn Slack shows, and whether it carries blocks. */
interface PostedPart {
  ts: string;
  shown: string;
  blocks?: boolean;
}

/** The content of one message: mrkdwn `text`, and for a final answer's last message the same answer as blocks. */
interface PartContent {
  text: string;
  blocks?: types.KnownBlock[];
}

/**
 * One answer in Slack: a placeholder posted at once, then edited (through the one EditScheduler) to show
 * the answer as it grows, continuing in further messages of the thread when it outgrows one.
 */
export class ReplyMessage {
  private readonly parts: PostedPart[] = [];
  private readonly placeholder: Promise<string>;
  private readonly live: LiveMessage;
  private readonly lostController = new AbortController();
  private readonly thinking: ThinkingProgress;
  /** The current attempt has shown text: thinking progress would now hide the answer. */
  private textStarted = false;
  private limit = SLACK_TEXT_LIMIT;
  /** The final being shown is an answer that gets feedback buttons (cleared if Slack refuses them). */
  private feedback = false;

  private constructor(
    private readonly deps: ReplyDeps,
    private readonly target: ReplyTarget,
    placeholder: Promise<PostedPart>,
    adopted: readonly PostedPart[] = [],
  ) {
    this.live = deps.scheduler.track(target.teamId, (markdown, final, pay, thinking) => this.render(markdown, final, pay, thinking), target.userId);
    this.live.done.catch(() => this.lostController.abort());
    this.thinking = new ThinkingProgress(deps.thinkingDisplay, deps.scheduler.intervalMs, Date.now(), (line) => this.live.showThinking(line));
    // Every way the message ends (final shown, given up, lost) stops the thinking clock.
    this.live.done.finally(() => this.thinking.stop()).catch(() => undefined);
    this.placeholder = placeholder.then((part) => {
      this.parts.push(part, ...adopted);
      return part.ts;
    });
    // A reply that never got its first message releases its scheduling state at once, whatever its owner does.
    this.placeholder.catch((error: unknown) => this.live.close(new EditFailedError('the reply could not be posted', { cause: error })));
  }

  /**
   * Starts posting the placeholder in the thread (chat.postMessage) and returns at once, so Claude's answer
   * can start streaming meanwhile: the first text waits for the placeholder only if it arrives first.
   */
  static start(deps: ReplyDeps, target: ReplyTarget): ReplyMessage {
    const posted = postPlaceholder(deps, target).then((ts) => ({ ts, shown: PLACEHOLDER }));
    return new ReplyMessage(deps, target, posted);
  }

  /**
   * Takes over the messages the bot already posted for an answer orphaned by a crash: `ts` becomes this
   * reply's first message and `continuation` (the orphan's further messages, oldest first) its next ones,
   * so the answer's edits rewrite or remove them.
   */
  static resume(deps: ReplyDeps, target: ReplyTarget, ts: string, continuation: readonly string[] = []): ReplyMessage {
    const adopted = continuation.map((part) => ({ ts: part, shown: '' }));
    return new ReplyMessage(deps, target, Promise.resolve({ ts, shown: '' }), adopted);
  }

  /** Resolves with the ts of the first message once it is posted; rejects if it could not be. */
  get posted(): Promise<string> {
    return this.placeholder;
  }

  /** The ts of the first message, once posted. */
  get ts(): string | undefined {
    return this.parts[0]?.ts;
  }

  /** Aborted when the reply can no longer be edited (message deleted, channel archived, edits failing). */
  get lost(): AbortSignal {
    return this.lostController.signal;
  }

  /** Shows `markdown` (the answer so far) at the scheduler's next opportunity; cheap enough for every token. */
  show(markdown: string): void {
    this.textStarted = true;
    this.thinking.stop();
    this.live.show(markdown);
  }

  /**
   * Shows that Claude is thinking (per THINKING_DISPLAY), given its summarised thinking so far ('' when a
   * thinking block starts), at the lowest edit priority; ignored once the attempt has shown text.
   */
  showThinking(thinkingSoFar: string): void {
    if (!this.textStarted) this.thinking.update(thinkingSoFar);
  }

  /**
   * Shows a notice without waiting for the edit interval, for notices the user must not miss (a retry,
   * a resumed answer); the answer after it starts over, thinking progress included.
   */
  showNow(markdown: string): void {
    this.textStarted = false;
    this.thinking.stop();
    this.live.showNow(markdown);
  }

  /** Replaces the reply with its final `markdown` and resolves once Slack shows it; an `answer` gets feedback buttons (FEEDBACK_BUTTONS). */
  finish(markdown: string, { answer = false }: FinishOptions = {}): Promise<void> {
    this.thinking.stop();
    this.feedback = answer && this.deps.feedbackButtons;
    return this.live.finish(markdown);
  }

  /** Stops editing without a final edit. */
  abandon(): void {
    this.thinking.stop();
    this.live.close();
  }

  /**
   * Makes Slack show `markdown` across as many messages as it needs, editing only what changed; `pay` takes
   * the workspace edit budget for each chat.update (posts and deletes have their own Slack tiers). A
   * `thinking` line is shown as it is, not as an answer still being written. A final that cannot be
   * rendered, or that Slack refuses in every size, shows a note instead: never an unfinished message.
   */
  private async render(markdown: string, final: boolean, pay: () => Promise<void>, thinking = false): Promise<void> {
    await this.placeholder;
    let contents: PartContent[];
    try {
      contents = this.contentsOf(markdown, final, thinking);
    } catch (error) {
      if (!final) throw error;
      return this.showUndeliverable(error, pay);
    }
    try {
      await this.showContents(contents, pay);
    } catch (error) {
      const failure = classifySlackError(error);
      if (failure.kind !== 'rejected') throw error;
      if (contents.some((content) => content.blocks)) {
        // The buttons are extra: an answer Slack refuses with them is shown as text alone.
        this.feedback = false;
        this.deps.logger.warn({ channel: this.target.channel, ts: this.ts, error: failure.error }, 'Slack refused the answer with feedback buttons; showing it without');
        return this.render(markdown, final, pay, thinking);
      }
      if (this.limit < SMALLEST_LIMIT) {
        if (!final) throw error;
        return this.showUndeliverable(error, pay);
      }
      // Slack refused the size or format: never lose the answer, send it in smaller pieces.
      this.limit = Math.floor(this.limit / 2);
      this.deps.logger.warn({ channel: this.target.channel, ts: this.ts, error: failure.error, limit: this.limit }, 'Slack refused a message; splitting smaller');
      return this.render(markdown, final, pay, thinking);
    }
  }

  /**
   * The content of each message `markdown` needs; the last one, while streaming, carries the "still writing"
   * mark (a thinking line does not), and for a final answer, the feedback blocks. Sections that render to
   * nothing are left out (Slack refuses an empty text: `no_text`), and an answer that renders to nothing at
   * all (a bare link definition, `&nbsp;`) shows the empty-answer note.
   */
  private contentsOf(markdown: string, final: boolean, thinking: boolean): PartContent[] {
    const sections = splitAll(markdown, this.limit);
    const contents = sections
      .map((section, index): PartContent => {
        const last = index === sections.length - 1;
        const streaming = !final && !thinking && last;
        const rendered = toMrkdwn(section, { streaming });
        if (streaming) return { text: [rendered, STILL_WRITING].filter((text) => text.trim()).join('\n\n') };
        const blocks = final && last && this.feedback ? finalAnswerBlocks(section) : undefined;
        return blocks ? { text: rendered, blocks } : { text: rendered };
      })
      .filter(({ text }) => text.trim() !== '');
    return contents.length > 0 ? contents : [{ text: EMPTY }];
  }

  private async showContents(contents: readonly PartContent[], pay: () => Promise<void>): Promise<void> {
    for (const [index, content] of contents.entries()) await this.showPart(index, content, pay);
    await this.removeExtraParts(contents.length, pay);
  }

  /** The last resort for a final: a readable note in the first message rather than a placeholder or a half answer. */
  private async showUndeliverable(error: unknown, pay: () => Promise<void>): Promise<void> {
    this.deps.logger.error({ err: error, channel: this.target.channel, ts: this.ts }, 'Slack cannot show this answer; showing a note instead');
    await this.showContents([{ text: UNDELIVERABLE }], pay);
  }

  private async showPart(index: number, { text, blocks }: PartContent, pay: () => Promise<void>): Promise<void> {
    const part = this.parts[index];
    if (!part) {
      const ts = await postPart(this.deps.slack.web, this.target, text, blocks);
      this.parts.push({ ts, shown: text, blocks: blocks !== undefined });
      return;
    }
    if (part.shown === text && Boolean(part.blocks) === (blocks !== undefined)) return;
    await pay();
    // chat.update keeps a message's blocks unless told otherwise: an empty list removes them.
    const blocksField = blocks ? { blocks } : part.blocks ? { blocks: [] } : {};
    await this.deps.slack.edits.chat.update({ channel: this.target.channel, ts: part.ts, text, ...blocksField });
    part.shown = text;
    part.blocks = blocks !== undefined;
  }

  /**
   * A retry from scratch (or a resumed answer) may need fewer messages than the attempt before it: the stale
   * ones are removed. Never fails: a stale message must not keep the answer from its final.
   */
  private async removeExtraParts(needed: number, pay: () => Promise<void>): Promise<void> {
    while (this.parts.length > needed) await this.removePart(this.parts.pop()!, pay);
  }

  /** Deletes a stale message; one Slack will not delete is rewritten to a short note, and if that fails too, left. */
  private async removePart(part: PostedPart, pay: () => Promise<void>): Promise<void> {
    const { channel } = this.target;
    try {
      await this.deps.slack.web.chat.delete({ channel, ts: part.ts });
      return;
    } catch (error) {
      const failure = classifySlackError(error);
      if ('error' in failure && failure.error === 'message_not_found') return;
      this.deps.logger.warn({ channel, ts: part.ts, failure }, 'could not delete a stale part of the answer; rewriting it');
    }
    try {
      await pay();
      await this.deps.slack.edits.chat.update({ channel, ts: part.ts, text: STALE_PART });
    } catch (error) {
      this.deps.logger.warn({ channel, ts: part.ts, failure: classifySlackError(error) }, 'could not rewrite a stale part of the answer; leaving it');
    }
  }
}

/**
 * Posts the placeholder. The WebClient has already retried HTTP-level failures; Slack's ok:false "try later"
 * errors (internal_error, fatal_error, service_unavailable) and a 429 it could not retry are retried here,
 * with bounded backoff. When it finally fails the asker gets an ephemeral: a question never vanishes silently.
 */
async function postPlaceholder({ slack, logger }: ReplyDeps, target: ReplyTarget): Promise<string> {
  const { channel, threadTs, userId } = target;
  for (let attempt = 0; ; attempt++) {
    try {
      return await postPart(slack.web, target, PLACEHOLDER);
    } catch (error) {
      const failure = classifySlackError(error);
      const retryable = failure.kind === 'rate_limited' || (failure.kind === 'transient' && error instanceof WebAPIPlatformError);
      if (retryable && attempt + 1 < PLACEHOLDER_RETRY.attempts) {
        const waitMs = failure.kind === 'rate_limited' ? failure.retryAfterMs : backoffDelay(attempt, PLACEHOLDER_RETRY);
        logger.warn({ channel, threadTs, failure, attempt, waitMs }, 'Slack refused the placeholder; retrying');
        await sleep(waitMs);
        continue;
      }
      logger.error({ channel, threadTs, failure }, 'could not post the placeholder; telling the asker');
      await slack.web.chat
        .postEphemeral({ channel, user: userId, thread_ts: threadTs, text: NOT_POSTED })
        .catch((ephemeralError: unknown) => logger.warn({ channel, threadTs, err: ephemeralError }, 'could not tell the asker either'));
      throw error;
    }
  }
}

function postPart(web: WebClient, target: ReplyTarget, text: string, blocks?: types.KnownBlock[]): Promise<string> {
  return web.chat
    .postMessage({ channel: target.channel, thread_ts: target.threadTs, text, ...(blocks ? { blocks } : {}), unfurl_links: false, unfurl_media: false })
    .then((result) => result.ts!);
}
