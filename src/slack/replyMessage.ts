import type { types } from '@slack/bolt';
import { randomUUID } from 'node:crypto';
import type { AnswerTimeline } from '../answerTimeline.js';
import { copy } from '../copy.js';
import type { Logger } from '../logger.js';
import type { AgentSessions } from './agentSessions.js';
import { answerBlocks, feedbackBlock, finalAnswerBlocks, stopBlock } from './answerBlocks.js';
import type { PacedMethod } from './editBudget.js';
import { EditFailedError, STREAM_METHODS, UPDATE_METHODS, type EditScheduler, type LiveMessage } from './editScheduler.js';
import { FirstWordsHold, type HeldContent } from './firstWordsHold.js';
import { appendableLength, inertMarkdown } from './inertMarkdown.js';
import { NativeStream, streamFailure, type StreamingSupport } from './nativeStream.js';
import { toMrkdwn } from './render.js';
import type { SlackClients } from './slackClients.js';
import { postOnce } from './postOnce.js';
import { classifySlackError } from './slackErrors.js';
import { AnswerLayout, fenceOpenAtEnd, SLACK_TEXT_LIMIT, splitAll, splitForSlack, type Split } from './split.js';
import type { ThinkingDisplay } from '../config.js';
import { ThinkingProgress } from './thinkingProgress.js';

export interface ReplyTarget {
  teamId: string;
  channel: string;
  threadTs: string;
  /** Who asked: the workspace's edit budget is shared round-robin between users. */
  userId: string;
  /** The question's ts, when known: the reply comes after it (postOnce.ts reads the thread from there). */
  ts?: string;
}

export interface ReplyDeps {
  slack: SlackClients;
  scheduler: EditScheduler;
  logger: Logger;
  /** What the reply shows while Claude thinks before its first text (THINKING_DISPLAY). */
  thinkingDisplay: ThinkingDisplay;
  /** FEEDBACK_BUTTONS: a final answer's last message carries 👍/👎 buttons. */
  feedbackButtons: boolean;
  /** SLACK_STREAMING, and where Slack refused its streaming methods. */
  streaming: StreamingSupport;
  /** Agent session status where the bot sets it itself (edits transport, a stream Slack would not stop). */
  sessions: AgentSessions;
}

/** Told when Slack accepted each visible stage of the reply (the answer's AnswerTimeline). */
export type ReplyTiming = Pick<AnswerTimeline, 'visible'>;

/** How a reply starts (see ReplyMessage.start). */
export interface StartOptions {
  timing?: ReplyTiming;
  /** The id the reply's first message carries in its metadata (postOnce.ts), as recorded in flight before it is posted. */
  postId?: string;
  /** The answer waits for a process slot (MAX_CONCURRENT_ANSWERS) before Claude is called. */
  queued?: boolean;
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
const PLACEHOLDER_BLOCKS = answerBlocks(copy.thinking, stopBlock());
const QUEUED = toMrkdwn(copy.queued);
const QUEUED_BLOCKS = answerBlocks(copy.queued, stopBlock());

/**
 * Longest a post is held for Claude's first words while the edit budget is short (DESIGN.md §3: about 1.5 s):
 * past it, the bare placeholder is posted, so a slow start still shows the question was heard.
 */
const HOLD_MS = 1_500;
/**
 * How long a held post still waits once the first words exist: about a sentence at Claude's usual pace, so a
 * short answer that ends that soon is posted once, final, with no edit (none may be affordable for long).
 */
const FIRST_WORDS_GRACE_MS = 300;
/**
 * The `pay` of a held post's rendering: every message of it is new, so it makes posts only (chat.postMessage,
 * its own tier), never a call the edit budget paces.
 */
const postsOnly = (method: PacedMethod): Promise<void> => Promise.reject(new TypeError(`a held post pays for no ${method}`));
/** Re-splitting stops below this many characters per message: a refusal there is not about size (a final shows a note). */
const SMALLEST_LIMIT = 500;
/**
 * Characters a natively streamed message takes, both as rendered mrkdwn and as the inert Markdown it carries,
 * before the answer continues in the next message: Slack refuses appends past about 12,000 characters in total
 * (*field*, DESIGN.md §6), and the notes need room below that. A `msg_too_long` earlier still falls back.
 */
const STREAM_TEXT_LIMIT = 10_000;

/** A Slack message of the answer: its ts, the mrkdwn Slack shows, and whether it carries blocks. */
interface PostedPart {
  ts: string;
  shown: string;
  blocks?: boolean;
}

/** The content of one message: mrkdwn `text`, and for a message with buttons the same content as blocks. */
interface PartContent {
  text: string;
  blocks?: types.KnownBlock[];
}

/** The first message was a stream sealed at a paragraph because it was full: the Markdown it shows, and how the rest continues. */
interface Sealed {
  /** The answer's Markdown the sealed message covers. */
  basis: string;
  /** Markdown that starts the rest (a code fence or table header open at the cut). */
  reopen: string;
}

/**
 * The reply's first message as it was opened: a posted placeholder, or a native stream. A post held for
 * Claude's first words has put its messages in `parts` already (no `part`), with the content it `carried`.
 */
interface Opened {
  part?: PostedPart;
  stream?: NativeStream;
  carried?: HeldContent;
}

/**
 * One answer in Slack, whatever the transport: opened at once as a native stream (chat.startStream, where
 * SLACK_STREAMING and Slack allow) or a posted placeholder, then shown as it grows through the one
 * EditScheduler, by appends to the stream or by edits (continuing in further messages of the thread when
 * it outgrows one). A stream Slack ends early (expired, full, refused) is finished with edits, never lost.
 */
export class ReplyMessage {
  private readonly parts: PostedPart[] = [];
  private readonly placeholder: Promise<string>;
  private readonly live: LiveMessage;
  private readonly lostController = new AbortController();
  private readonly stopController = new AbortController();
  private readonly thinking: ThinkingProgress;
  /** The current attempt has shown text: thinking progress would now hide the answer. */
  private textStarted = false;
  private limit = SLACK_TEXT_LIMIT;
  /** The final being shown is an answer that gets feedback buttons. */
  private feedback = false;
  /** Slack refused a message with blocks: buttons are left out from then on. */
  private plain = false;
  /** The native stream showing the answer, until it ends. */
  private stream: NativeStream | undefined;
  /** Set once a full stream was sealed: the first message is left as it is and the answer continues after it. */
  private sealed: Sealed | undefined;
  /** The bot set the agent session to `processing` itself, so it owes the `active` at the end. */
  private sessionSet = false;
  /** This answer's rendering state: render cache, split decisions, finished parts frozen. */
  private readonly layout = new AnswerLayout();
  /** A notice (a retry) replaces the text: a stream cannot take text back, so the next render hands over to edits. */
  private rewrite = false;
  /** The answer's Markdown whose inert form the stream shows (`stream.text`). */
  private streamedMarkdown = '';
  /** While the post is held for Claude's first words: what it will carry. */
  private hold: FirstWordsHold | undefined;
  /** The held post carried the final: nothing is left to edit. */
  private postedFinal = false;
  /** Abandoned before its post: nothing is posted. */
  private abandoned = false;
  /** The reply says its answer waits for a process slot (MAX_CONCURRENT_ANSWERS). */
  private queued = false;
  /** The metadata id of the reply's first message (StartOptions.postId); a resumed reply's first message exists already. */
  private firstPostId: string | undefined;

  private constructor(
    private readonly deps: ReplyDeps,
    private readonly target: ReplyTarget,
    open: (reply: ReplyMessage) => Promise<Opened>,
    adopted: readonly PostedPart[] = [],
    private readonly timing?: ReplyTiming,
  ) {
    this.live = deps.scheduler.track(
      target.teamId,
      async (markdown, final, pay, thinking) => {
        await this.render(markdown, final, pay, thinking);
        // Claude's text is visible once an edit carrying it went through (a stream: once an append carried some).
        if (!thinking && this.textStarted && this.stream?.text !== '') timing?.visible('text');
      },
      target.userId,
    );
    // Its answer waits for admission (showAdmitted) first.
    this.live.setWaiting(true);
    this.live.done.catch(() => this.lostController.abort());
    this.thinking = new ThinkingProgress(deps.thinkingDisplay, deps.scheduler.intervalMs, Date.now(), (line, sentence) => {
      // Thinking is progress worth showing at once: its line ends a hold as first words do.
      if (this.hold?.offer({ markdown: line, final: false, thinking: true })) return;
      if (!this.stream) this.live.showThinking(line);
      // A stream's task shows Slack's own progress while it runs: only a new sentence is worth an append.
      else if (sentence) this.live.showThinking(sentence);
    });
    // Every way the message ends (final shown, given up, lost) stops the thinking clock and leaves `processing`.
    this.live.done
      .finally(() => {
        this.thinking.stop();
        if (this.sessionSet) void deps.sessions.setStatus(target, 'active');
      })
      .catch(() => undefined);
    this.placeholder = open(this).then(({ part, stream, carried }) => {
      if (part) this.parts.push(part);
      this.parts.push(...adopted);
      if (stream) {
        this.stream = stream;
        this.live.methods = STREAM_METHODS;
      } else if (!carried?.final) this.setSession('processing');
      timing?.visible('progress');
      if (carried && !carried.thinking && this.textStarted) timing?.visible('text');
      return this.parts[0]!.ts;
    });
    // A reply that never got its first message releases its scheduling state at once, whatever its owner does.
    this.placeholder.catch((error: unknown) => this.live.close(new EditFailedError('the reply could not be posted', { cause: error })));
  }

  /**
   * Opens the reply in the thread (a native stream, else a posted placeholder) and returns at once, so
   * Claude's answer can start streaming meanwhile: the first text waits for the placeholder only if it
   * arrives first. While the workspace's edit budget cannot pay a first text (see
   * LiveMessage.firstTextAffordable), the post is held instead, for at most HOLD_MS, until the answer's first
   * words (or thinking line, or final) exist, and carries them: a short answer is posted once, final. The first
   * message carries `postId` in its metadata, so a crash before its ts is known can still find it.
   *
   * A `queued` answer (one that waits for a process slot before Claude is called) is posted at once as a
   * message showing the queued line (copy.queued) instead of the placeholder, on either transport: it may
   * wait long, longer than a native stream lives (about 5 minutes), and holding its post for first words
   * that cannot come before its slot would only hide that it was heard. It is then answered with edits.
   */
  static start(deps: ReplyDeps, target: ReplyTarget, { timing, postId = randomUUID(), queued = false }: StartOptions = {}): ReplyMessage {
    return new ReplyMessage(deps, target, (reply) => reply.open(postId, queued), [], timing);
  }

  /**
   * Takes over the messages the bot already posted for an answer orphaned by a crash: `ts` becomes this
   * reply's first message and `continuation` (the orphan's further messages, oldest first) its next ones,
   * so the answer's edits rewrite or remove them.
   */
  static resume(deps: ReplyDeps, target: ReplyTarget, ts: string, continuation: readonly string[] = [], timing?: ReplyTiming): ReplyMessage {
    // What they show is unknown (buttons, maybe): the first edit of each sends its blocks, or none, explicitly.
    const adopted = continuation.map((part) => ({ ts: part, shown: '', blocks: true }));
    return new ReplyMessage(deps, target, () => Promise.resolve({ part: { ts, shown: '', blocks: true } }), adopted, timing);
  }

  /** Resolves with the ts of the first message once it is posted; rejects if it could not be. */
  get posted(): Promise<string> {
    return this.placeholder;
  }

  /** The ts of the first message, once posted. */
  get ts(): string | undefined {
    return this.parts[0]?.ts;
  }

  /** Whether the message at `ts` is one of this reply's. */
  shows(ts: string): boolean {
    return this.parts.some((part) => part.ts === ts);
  }

  /** Aborted when the reply can no longer be edited (message deleted, channel archived, edits failing). */
  get lost(): AbortSignal {
    return this.lostController.signal;
  }

  /** Aborted (reason 'stop') when the user stopped the answer: Slack's Stop on a stream, or the Stop button. */
  get stopped(): AbortSignal {
    return this.stopController.signal;
  }

  /** The user asked to stop: the answer's owner ends it (see `stopped`); a stream's final may then be refused by Slack. */
  stop(): void {
    if (this.stream) this.stream.stoppedByUser = true;
    this.stopController.abort('stop');
  }

  /** Shows `markdown` (the answer so far) at the scheduler's next opportunity; cheap enough for every token. */
  show(markdown: string): void {
    this.textStarted = true;
    this.thinking.stop();
    if (this.hold?.offer({ markdown, final: false, thinking: false })) return;
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
    this.rewrite = true;
    if (this.hold?.offer({ markdown, final: false, thinking: false })) return;
    this.live.showNow(markdown);
  }

  /**
   * Shows that the answer waits for a process slot (MAX_CONCURRENT_ANSWERS), as a status line at the lowest
   * edit priority; nothing when the reply says so already.
   */
  showQueued(): void {
    if (this.queued) return;
    this.queued = true;
    this.showStatus(copy.queued, copy.taskDetails.queued);
  }

  /**
   * The answer got its slot: from now on its edits count in the workspace's reserves (LiveMessage.waiting), and a
   * reply that says it is queued shows the thinking line (copy.thinking) instead, at the lowest edit priority, so
   * Claude's first text or thinking line supersedes it if it comes first (only the newest is sent).
   */
  showAdmitted(): void {
    this.live.setWaiting(false);
    if (!this.queued) return;
    this.queued = false;
    this.showStatus(copy.thinking, copy.taskDetails.thinking);
  }

  /** Shows a status `line` like a thinking line (a native stream: `details` of its thinking task), through a held post if any. */
  private showStatus(line: string, details: string): void {
    if (this.hold?.offer({ markdown: line, final: false, thinking: true })) return;
    this.live.showThinking(this.stream ? details : line);
  }

  /** Replaces the reply with its final `markdown` and resolves once Slack shows it; an `answer` gets feedback buttons (FEEDBACK_BUTTONS). */
  finish(markdown: string, { answer = false }: FinishOptions = {}): Promise<void> {
    this.thinking.stop();
    this.feedback = answer && this.deps.feedbackButtons;
    // A final that comes while the post is held is the post itself: one message, final, no edit.
    const shown = this.hold?.offer({ markdown, final: true, thinking: false })
      ? this.placeholder.then(() => (this.postedFinal ? this.live.close() : this.live.finish(markdown)))
      : this.live.finish(markdown);
    return shown.then(() => this.timing?.visible('final'));
  }

  /** Stops editing without a final edit; a post still held is not made. */
  abandon(): void {
    this.thinking.stop();
    this.abandoned = true;
    this.hold?.take();
    this.live.close();
  }

  /**
   * Opens the reply: a native stream when SLACK_STREAMING and Slack allow and the workspace's chat.startStream
   * budget (Tier 2) has a call now; else the placeholder, posted at once unless the edit budget is short, when
   * the post is held for the answer's first words; a `queued` answer's message is posted at once with the
   * queued line (see `start`). A refused or failed start falls back at once: the user must see the reply either way.
   */
  private async open(postId: string, queued: boolean): Promise<Opened> {
    const { deps, target } = this;
    this.firstPostId = postId;
    if (queued) {
      this.queued = true;
      return this.openPlaceholder(QUEUED, QUEUED_BLOCKS);
    }
    if (deps.streaming.worthTrying(target) && (await deps.scheduler.tryStartStream(target.teamId))) {
      try {
        const stream = await NativeStream.start(deps.slack.edits, target, deps.thinkingDisplay === 'off' ? undefined : copy.thinkingTask);
        return { part: { ts: stream.ts, shown: '' }, stream };
      } catch (error) {
        const failure = classifySlackError(error);
        if (failure.kind === 'rate_limited') await deps.scheduler.rateLimited(target.teamId, 'chat.startStream', failure.retryAfterMs);
        if (!deps.streaming.noteFailure(target, error)) deps.logger.warn({ channel: target.channel, failure }, 'could not start a native stream; posting a placeholder');
      }
    }
    if (await this.live.firstTextAffordable(HOLD_MS)) return this.openPlaceholder();
    deps.logger.debug({ channel: target.channel, threadTs: target.threadTs }, 'edit budget short: holding the post for the first words');
    const hold = (this.hold = new FirstWordsHold(HOLD_MS, FIRST_WORDS_GRACE_MS));
    await hold.ready;
    const held = hold.take();
    if (this.abandoned) throw new EditFailedError('the reply was abandoned before it was posted');
    if (!held) return this.openPlaceholder();
    try {
      await this.draw(held.markdown, held.final, postsOnly, held.thinking);
    } catch (error) {
      // Slack would not take it (its content refused, or still failing after the post's retries): the bare placeholder
      // is tried next, then the edits show the answer.
      this.deps.logger.warn({ channel: target.channel, failure: classifySlackError(error) }, 'could not post the first words; posting the placeholder');
      // Part of it may have been posted: the edits then finish what it shows.
      const opened = this.parts.length > 0 ? {} : await this.openPlaceholder();
      // Newer content already waits for an edit when some is pending: the held one would only go back in time.
      if (this.live.pending === undefined && !held.final) {
        if (held.thinking) this.live.showThinking(held.markdown);
        else this.live.show(held.markdown);
      }
      return opened;
    }
    if (held.final) this.postedFinal = true;
    else this.live.shownByPost(held.markdown, held.thinking);
    return { carried: held };
  }

  /** Posts the bare placeholder, or another status line `text` with its `blocks` (see postPlaceholder). */
  private async openPlaceholder(text = PLACEHOLDER, blocks = PLACEHOLDER_BLOCKS): Promise<Opened> {
    return { part: { ts: await postPlaceholder(this.deps, this.target, text, blocks, this.firstPostId), shown: text, blocks: true } };
  }

  /**
   * Makes Slack show `markdown` across as many messages as it needs, editing only what changed; `pay` takes
   * the workspace edit budget for each chat.update (posts and deletes have their own Slack tiers). A
   * `thinking` line is shown as it is, not as an answer still being written. A final that cannot be
   * rendered, or that Slack refuses in every size, shows a note instead: never an unfinished message.
   */
  private async render(markdown: string, final: boolean, pay: (method: PacedMethod) => Promise<void>, thinking = false): Promise<void> {
    await this.placeholder;
    return this.draw(markdown, final, pay, thinking);
  }

  /** `render` once the reply is open, or for a held post (no message yet: every one is posted). */
  private async draw(markdown: string, final: boolean, pay: (method: PacedMethod) => Promise<void>, thinking = false): Promise<void> {
    if (this.stream && (await this.renderStream(this.stream, markdown, final, pay, thinking))) return;
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
        this.plain = true;
        this.deps.logger.warn({ channel: this.target.channel, ts: this.ts, error: failure.error }, 'Slack refused the answer with buttons; showing it without');
        return this.draw(markdown, final, pay, thinking);
      }
      if (this.limit < SMALLEST_LIMIT) {
        if (!final) throw error;
        return this.showUndeliverable(error, pay);
      }
      // Slack refused the size or format: never lose the answer, send it in smaller pieces.
      this.limit = Math.floor(this.limit / 2);
      this.deps.logger.warn({ channel: this.target.channel, ts: this.ts, error: failure.error, limit: this.limit }, 'Slack refused a message; splitting smaller');
      return this.draw(markdown, final, pay, thinking);
    }
  }

  /**
   * The content of each message `markdown` needs after the sealed first message, if any; the last one, while
   * streaming, carries the "still writing" mark (a thinking line does not) and the Stop button, and for a
   * final answer, the feedback buttons. Sections that render to nothing are left out (Slack refuses an empty
   * text: `no_text`), and an answer that renders to nothing at all (a bare link definition, `&nbsp;`) shows the
   * empty-answer note.
   */
  private contentsOf(markdown: string, final: boolean, thinking: boolean): PartContent[] {
    const sections = splitAll(this.afterSealed(markdown), this.limit, this.layout);
    const contents = sections
      .map((section, index): PartContent => {
        const last = index === sections.length - 1;
        const streaming = !final && !thinking && last;
        const rendered = toMrkdwn(section, { streaming, cache: this.layout.render });
        if (streaming) {
          const text = [rendered, STILL_WRITING].filter((line) => line.trim()).join('\n\n');
          return this.withBlocks(text, () => answerBlocks(section, stopBlock(), { streaming, after: STILL_WRITING, layout: this.layout }));
        }
        if (thinking && last) return this.withBlocks(rendered, () => answerBlocks(section, stopBlock(), { layout: this.layout }));
        if (final && last && this.feedback) return this.withBlocks(rendered, () => finalAnswerBlocks(section, this.layout));
        return { text: rendered };
      })
      .filter(({ text }) => text.trim() !== '');
    if (contents.length > 0 || this.sealed) return contents;
    return [{ text: EMPTY }];
  }

  /** `text`, with `blocks()` unless Slack refused blocks before. */
  private withBlocks(text: string, blocks: () => types.KnownBlock[] | undefined): PartContent {
    const built = this.plain ? undefined : blocks();
    return built ? { text, blocks: built } : { text };
  }

  /** What the messages after the sealed first one show: the rest of `markdown`, or all of it if it no longer starts as the sealed part did (a retry). */
  private afterSealed(markdown: string): string {
    if (this.sealed && !markdown.startsWith(this.sealed.basis)) {
      this.sealed = undefined;
      // The first message is edited again from now on: what it shows is no longer known.
      this.parts[0]!.shown = '';
    }
    return this.sealed ? this.sealed.reopen + markdown.slice(this.sealed.basis.length) : markdown;
  }

  private async showContents(contents: readonly PartContent[], pay: (method: PacedMethod) => Promise<void>): Promise<void> {
    const first = this.sealed ? 1 : 0;
    for (const [index, content] of contents.entries()) await this.showPart(first + index, content, pay);
    await this.removeExtraParts(first + contents.length, pay);
  }

  /**
   * Shows `markdown` in the native stream; false when the stream can no longer show it and has been handed
   * over to the edits (ended on Slack's side, full, or the text is not a continuation of what was appended:
   * a retry). Appends hold back a partial word or an unclosed `<…` (they may still become live syntax once
   * complete); the final stops the stream with the rest and the feedback buttons.
   */
  private async renderStream(stream: NativeStream, markdown: string, final: boolean, pay: (method: PacedMethod) => Promise<void>, thinking: boolean): Promise<boolean> {
    // The notice is shown whole by an edit (an append would hold back its last word), and the attempt after it too.
    if (this.rewrite) return await this.handOver(stream, pay, final);
    try {
      if (thinking) {
        // Text already streamed cannot be taken back: a thinking line after it (a retry) waits for the text.
        if (stream.text || stream.stoppedByUser) return true;
        await pay('chat.appendStream');
        await stream.think(copy.thinkingTask, inertMarkdown(markdown));
        return true;
      }
      // Past the stream's size the first message ends at a paragraph; the rest follows in further messages.
      const split = streamSplit(markdown, this.layout);
      const head = split ? split.head : markdown;
      const whole = final || split !== null;
      const shown = whole ? head : head.slice(0, this.appendable(head));
      const next = inertMarkdown(shown);
      if (!next.startsWith(stream.text)) {
        // The cut falls inside what was streamed: end the message there instead (an answer that only grew).
        if (split && markdown.startsWith(this.streamedMarkdown)) return await this.sealAsStreamed(stream, markdown, final, pay);
        return await this.handOver(stream, pay, final);
      }
      const delta = next.slice(stream.text.length);
      if (!whole) {
        if (!delta || stream.stoppedByUser) return true;
        await pay('chat.appendStream');
        await stream.append(delta, copy.thinkingTask);
        this.streamedMarkdown = shown;
        return true;
      }
      await this.stopStream(stream, delta, final && !split, pay);
      this.parts[0]!.shown = next;
      if (!split) return true;
      this.sealed = { basis: markdown.slice(0, split.consumed), reopen: split.reopen };
      // The sealed stream is a finished message now: stopping it again would cost a Tier 2 call and fail.
      this.leaveStream();
      this.setSession(final ? 'active' : 'processing');
      return false;
    } catch (error) {
      switch (streamFailure(error)) {
        case 'stopped_by_user':
          // Slack's Stop, seen on an append before (or instead of) its event: the same stop.
          this.stop();
          return final ? await this.handOver(stream, pay, final) : true;
        case 'expired':
          stream.ended = true;
          return await this.handOver(stream, pay, final);
        case 'full':
        case 'rejected':
          return await this.handOver(stream, pay, final);
        default:
          // A timed-out call may still have been applied: the stream's content is unknown, only an edit can fix it.
          if (classifySlackError(error).kind === 'transient') return await this.handOver(stream, pay, final);
          if (stream.stoppedByUser && final) return await this.handOver(stream, pay, final);
          throw error;
      }
    }
  }

  /**
   * How much of `head` the next append may carry: up to a point no later text changes once made inert; past
   * half the stream's size, only whole lines, so that the message, if it must end where the stream stopped, never
   * splits a line (of code, say) between two messages.
   */
  private appendable(head: string): number {
    const end = appendableLength(head);
    if (this.streamedMarkdown.length < STREAM_TEXT_LIMIT / 2) return end;
    return Math.max(this.streamedMarkdown.length, head.lastIndexOf('\n', end - 1) + 1);
  }

  /**
   * Ends the stream with what it shows (closing a code fence left open) and continues the answer after it in
   * further messages: `markdown` grew past the stream's size with no cut of its own after the streamed text.
   */
  private async sealAsStreamed(stream: NativeStream, markdown: string, final: boolean, pay: (method: PacedMethod) => Promise<void>): Promise<false> {
    const fence = fenceOpenAtEnd(this.streamedMarkdown);
    await this.stopStream(stream, fence ? inertMarkdown(`\n${fence.close}`) : '', false, pay);
    this.parts[0]!.shown = stream.text;
    this.sealed = { basis: this.streamedMarkdown, reopen: fence?.reopen ?? '' };
    this.leaveStream();
    this.setSession(final ? 'active' : 'processing');
    return false;
  }

  /** Stops the stream with `delta` and, for a final answer, the feedback buttons (left out if Slack refuses them). */
  private async stopStream(stream: NativeStream, delta: string, answer: boolean, pay: (method: PacedMethod) => Promise<void>): Promise<void> {
    await pay('chat.stopStream');
    const buttons = answer && this.feedback && !this.plain;
    try {
      await stream.stop(delta, copy.thinkingTask, buttons ? [feedbackBlock()] : undefined);
    } catch (error) {
      if (!buttons || streamFailure(error) !== 'rejected') throw error;
      this.plain = true;
      this.deps.logger.warn({ channel: this.target.channel, ts: stream.ts }, 'Slack refused the feedback buttons on a stream; stopping it without');
      await pay('chat.stopStream');
      await stream.stop(delta, copy.thinkingTask);
    }
  }

  /**
   * Hands the answer over from the stream to chat.update edits of the same message (and further ones): the
   * stream is stopped first if Slack still has it open (chat.update on a streaming message answers
   * `streaming_state_conflict`), and the bot takes over the session status. Returns false: the caller renders
   * with edits.
   */
  private async handOver(stream: NativeStream, pay: (method: PacedMethod) => Promise<void>, final: boolean): Promise<false> {
    this.leaveStream();
    this.parts[0]!.shown = '';
    this.deps.logger.info({ channel: this.target.channel, ts: stream.ts, final }, 'native stream ended early; continuing with chat.update');
    if (!stream.ended && !stream.stoppedByUser) {
      try {
        await pay('chat.stopStream');
        await stream.stop('', copy.thinkingTask);
      } catch (error) {
        // Already ended on Slack's side, or it will say so to the edit: either way the edit decides.
        this.deps.logger.debug({ channel: this.target.channel, ts: stream.ts, err: error }, 'could not stop the stream before editing it');
      }
    }
    this.setSession(final || stream.stoppedByUser ? 'active' : 'processing');
    return false;
  }

  /** From now on the answer is shown with chat.update edits (and paced as such), not in the stream. */
  private leaveStream(): void {
    this.stream = undefined;
    this.live.methods = UPDATE_METHODS;
  }

  /** Sets the agent session's status where the bot owns it (best effort, see AgentSessions). */
  private setSession(status: 'processing' | 'active'): void {
    this.sessionSet = status === 'processing';
    void this.deps.sessions.setStatus(this.target, status);
  }

  /** The last resort for a final: a readable note in the first message rather than a placeholder or a half answer. */
  private async showUndeliverable(error: unknown, pay: (method: PacedMethod) => Promise<void>): Promise<void> {
    this.deps.logger.error({ err: error, channel: this.target.channel, ts: this.ts }, 'Slack cannot show this answer; showing a note instead');
    this.sealed = undefined;
    await this.showContents([{ text: UNDELIVERABLE }], pay);
  }

  private async showPart(index: number, { text, blocks }: PartContent, pay: (method: PacedMethod) => Promise<void>): Promise<void> {
    const part = this.parts[index];
    if (!part) {
      const after = this.parts.at(-1)?.ts ?? this.target.ts;
      const postTarget = { channel: this.target.channel, threadTs: this.target.threadTs, ...(after ? { after } : {}) };
      const ts = await postOnce(this.deps.slack, this.deps.logger, postTarget, { text, ...(blocks ? { blocks } : {}) }, index === 0 ? this.firstPostId : undefined);
      this.parts.push({ ts, shown: text, blocks: blocks !== undefined });
      return;
    }
    if (part.shown === text && Boolean(part.blocks) === (blocks !== undefined)) return;
    // chat.update keeps a message's blocks unless told otherwise: an empty list removes them.
    const update = { channel: this.target.channel, ts: part.ts, text, ...(blocks ? { blocks } : part.blocks ? { blocks: [] } : {}) };
    await pay('chat.update');
    try {
      await this.deps.slack.edits.chat.update(update);
    } catch (error) {
      // A message adopted from a crashed instance may still be a stream Slack keeps open: end it, then edit.
      if (!isStreamingConflict(error)) throw error;
      await pay('chat.stopStream');
      await this.deps.slack.edits.chat.stopStream({ channel: this.target.channel, ts: part.ts }).catch(() => undefined);
      await pay('chat.update');
      await this.deps.slack.edits.chat.update(update);
    }
    part.shown = text;
    part.blocks = blocks !== undefined;
  }

  /**
   * A retry from scratch (or a resumed answer) may need fewer messages than the attempt before it: the stale
   * ones are removed. Never fails: a stale message must not keep the answer from its final.
   */
  private async removeExtraParts(needed: number, pay: (method: PacedMethod) => Promise<void>): Promise<void> {
    while (this.parts.length > needed) await this.removePart(this.parts.pop()!, pay);
  }

  /** Deletes a stale message; one Slack will not delete is rewritten to a short note, and if that fails too, left. */
  private async removePart(part: PostedPart, pay: (method: PacedMethod) => Promise<void>): Promise<void> {
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
      await pay('chat.update');
      await this.deps.slack.edits.chat.update({ channel, ts: part.ts, text: STALE_PART, ...(part.blocks ? { blocks: [] } : {}) });
    } catch (error) {
      this.deps.logger.warn({ channel, ts: part.ts, failure: classifySlackError(error) }, 'could not rewrite a stale part of the answer; leaving it');
    }
  }
}

/**
 * Where a natively streamed message ends (null: all of `markdown` fits). splitForSlack measures rendered mrkdwn,
 * but Slack's cap counts the streamed Markdown, longer wherever Markdown is (`**bold**` renders as `*bold*`):
 * the cut is tightened until the inert Markdown of the head fits STREAM_TEXT_LIMIT too.
 */
function streamSplit(markdown: string, layout: AnswerLayout): Split | null {
  let split = splitForSlack(markdown, STREAM_TEXT_LIMIT, layout);
  for (let limit = STREAM_TEXT_LIMIT; ; ) {
    const length = inertMarkdown(split ? split.head : markdown).length;
    if (length <= STREAM_TEXT_LIMIT || limit < SMALLEST_LIMIT) return split;
    limit = Math.floor((limit * STREAM_TEXT_LIMIT) / length);
    split = splitForSlack(markdown, limit, layout);
  }
}

/**
 * Posts the placeholder, `text` with its `blocks` (the Stop button), once (postOnce.ts: retried, never twice).
 * When it finally fails the asker gets an ephemeral: a question never vanishes silently.
 */
async function postPlaceholder(
  { slack, logger }: ReplyDeps,
  target: ReplyTarget,
  text: string,
  blocks: types.KnownBlock[] | undefined,
  postId: string | undefined,
): Promise<string> {
  const { channel, threadTs, userId } = target;
  try {
    return await postOnce(slack, logger, { channel, threadTs, ...(target.ts ? { after: target.ts } : {}) }, { text, ...(blocks ? { blocks } : {}) }, postId);
  } catch (error) {
    logger.error({ channel, threadTs, failure: classifySlackError(error) }, 'could not post the placeholder; telling the asker');
    await slack.web.chat
      .postEphemeral({ channel, user: userId, thread_ts: threadTs, text: NOT_POSTED })
      .catch((ephemeralError: unknown) => logger.warn({ channel, threadTs, err: ephemeralError }, 'could not tell the asker either'));
    throw error;
  }
}

/** Slack's answer to chat.update on a message still streaming (DESIGN.md §6). */
function isStreamingConflict(error: unknown): boolean {
  const failure = classifySlackError(error);
  return 'error' in failure && failure.error === 'streaming_state_conflict';
}
