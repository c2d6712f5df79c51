import type { WebClient } from '@slack/web-api';
import { copy } from '../copy.js';
import type { Logger } from '../logger.js';
import { EditFailedError, type EditScheduler, type LiveMessage } from './editScheduler.js';
import { toMrkdwn } from './render.js';
import type { SlackClients } from './slackClients.js';
import { classifySlackError } from './slackErrors.js';
import { SLACK_TEXT_LIMIT, splitAll } from './split.js';
import { ThinkingProgress, type ThinkingDisplay } from './thinkingProgress.js';

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
  /** What the reply shows while Claude thinks before its first text (THINKING_DISPLAY); default 'off'. */
  thinkingDisplay?: ThinkingDisplay;
}

const PLACEHOLDER = toMrkdwn(copy.thinking);
const STILL_WRITING = toMrkdwn(copy.stillWriting);

/** A Slack message of the answer: its ts and the mrkdwn Slack shows. */
interface PostedPart {
  ts: string;
  shown: string;
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

  private constructor(
    private readonly deps: ReplyDeps,
    private readonly target: ReplyTarget,
    placeholder: Promise<PostedPart>,
  ) {
    this.live = deps.scheduler.track(target.teamId, (markdown, final, pay, thinking) => this.render(markdown, final, pay, thinking), target.userId);
    this.live.done.catch(() => this.lostController.abort());
    this.thinking = new ThinkingProgress(deps.thinkingDisplay ?? 'off', deps.scheduler.intervalMs, Date.now(), (line) => this.live.showThinking(line));
    // Every way the message ends (final shown, given up, lost) stops the thinking clock.
    this.live.done.finally(() => this.thinking.stop()).catch(() => undefined);
    this.placeholder = placeholder.then((part) => {
      this.parts.push(part);
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
    const posted = postPart(deps.slack.web, target, PLACEHOLDER).then((ts) => ({ ts, shown: PLACEHOLDER }));
    return new ReplyMessage(deps, target, posted);
  }

  /** Takes over a message the bot already posted (an answer orphaned by a crash) as this reply's first message. */
  static resume(deps: ReplyDeps, target: ReplyTarget, ts: string): ReplyMessage {
    return new ReplyMessage(deps, target, Promise.resolve({ ts, shown: '' }));
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

  /** Replaces the reply with its final `markdown` and resolves once Slack shows it. */
  finish(markdown: string): Promise<void> {
    this.thinking.stop();
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
   * `thinking` line is shown as it is, not as an answer still being written.
   */
  private async render(markdown: string, final: boolean, pay: () => Promise<void>, thinking = false): Promise<void> {
    await this.placeholder;
    const sections = splitAll(markdown, this.limit);
    const texts = sections.map((section, index) => {
      const last = index === sections.length - 1;
      const streaming = last && !final && !thinking;
      const rendered = toMrkdwn(section, { streaming });
      return streaming ? `${rendered}\n\n${STILL_WRITING}` : rendered;
    });
    try {
      for (const [index, text] of texts.entries()) await this.showPart(index, text, pay);
    } catch (error) {
      const failure = classifySlackError(error);
      if (failure.kind !== 'rejected' || this.limit < 500) throw error;
      // Slack refused the size or format: never lose the answer, send it in smaller pieces.
      this.limit = Math.floor(this.limit / 2);
      this.deps.logger.warn({ channel: this.target.channel, ts: this.ts, error: failure.error, limit: this.limit }, 'Slack refused a message; splitting smaller');
      return this.render(markdown, final, pay, thinking);
    }
    await this.removeExtraParts(texts.length);
  }

  private async showPart(index: number, text: string, pay: () => Promise<void>): Promise<void> {
    const part = this.parts[index];
    if (!part) {
      const ts = await postPart(this.deps.slack.web, this.target, text);
      this.parts.push({ ts, shown: text });
      return;
    }
    if (part.shown === text) return;
    await pay();
    await this.deps.slack.edits.chat.update({ channel: this.target.channel, ts: part.ts, text });
    part.shown = text;
  }

  /** A retry from scratch may need fewer messages than the attempt before it: remove the stale ones. */
  private async removeExtraParts(needed: number): Promise<void> {
    while (this.parts.length > needed) {
      const part = this.parts[this.parts.length - 1]!;
      await this.deps.slack.web.chat.delete({ channel: this.target.channel, ts: part.ts });
      this.parts.pop();
    }
  }
}

function postPart(web: WebClient, target: ReplyTarget, text: string): Promise<string> {
  return web.chat
    .postMessage({ channel: target.channel, thread_ts: target.threadTs, text, unfurl_links: false, unfurl_media: false })
    .then((result) => result.ts!);
}
