import type { types } from '@slack/bolt';
import type { ChatAppendStreamArguments, WebClient } from '@slack/web-api';
import { LRUCache } from 'lru-cache';
import type { Logger } from '../logger.js';
import { classifySlackError } from './slackErrors.js';

/** SLACK_STREAMING: Slack's streaming methods where accepted (`auto`), always tried first (`native`), or never (`edits`). */
export type StreamingMode = 'auto' | 'native' | 'edits';

/** Where and for whom a stream is started. */
export interface StreamTarget {
  teamId: string;
  channel: string;
  threadTs: string;
  userId: string;
}

/**
 * chat.startStream's answers meaning "not here": the app or workspace lacks native streaming, or the
 * conversation cannot take it (DESIGN.md §6; docs.slack.dev chat.startStream "Errors").
 */
const REFUSALS = new Set(['feature_disabled', 'not_allowed', 'unknown_method', 'channel_type_not_supported', 'messages_tab_disabled']);
/** How long `auto` keeps using edits in a workspace that refused native streaming. */
const REFUSAL_MEMORY_MS = 60 * 60 * 1000;

/** A stream chunk (`markdown_text`, `task_update`…), as @slack/web-api types it. */
type AnyChunk = NonNullable<ChatAppendStreamArguments['chunks']>[number];

/** The id of the task_update chunk that shows Claude thinking (one per stream). */
const THINKING_TASK = 'thinking';

/**
 * Whether an answer should try Slack's streaming methods (SLACK_STREAMING), remembering for an hour, in `auto`,
 * the workspaces (or, for `channel_type_not_supported`, the conversations) where Slack refused them.
 */
export class StreamingSupport {
  private readonly refused = new LRUCache<string, string>({ max: 10_000, ttl: REFUSAL_MEMORY_MS });

  constructor(
    readonly mode: StreamingMode,
    private readonly logger: Logger,
  ) {}

  /** Whether to try chat.startStream for `target`. */
  worthTrying({ teamId, channel }: StreamTarget): boolean {
    if (this.mode === 'edits') return false;
    if (this.mode === 'native') return true;
    return !this.refused.has(teamId) && !this.refused.has(`${teamId}/${channel}`);
  }

  /**
   * Notes why chat.startStream failed for `target`; true when it is a refusal (as opposed to a passing failure),
   * which `auto` then remembers.
   */
  noteFailure({ teamId, channel }: StreamTarget, error: unknown): boolean {
    const failure = classifySlackError(error);
    const code = 'error' in failure ? failure.error : undefined;
    if (code === undefined || !REFUSALS.has(code)) return false;
    const key = code === 'channel_type_not_supported' ? `${teamId}/${channel}` : teamId;
    if (this.mode === 'auto' && !this.refused.has(key)) {
      this.refused.set(key, code);
      this.logger.info({ teamId, channel, error: code }, 'Slack refused native streaming here; using chat.update edits for an hour');
    } else if (this.mode === 'native') this.logger.warn({ teamId, channel, error: code }, 'Slack refused native streaming (SLACK_STREAMING=native); this answer uses chat.update edits');
    return true;
  }
}

/** How a stream call failed, for the reply that owns it. */
export type StreamFailure =
  /** The stream ended on Slack's side (expired after about 5 min, or already stopped): finish with chat.update. */
  | 'expired'
  /** The user pressed Slack's Stop. */
  | 'stopped_by_user'
  /** The streamed message is full (about 12,000 characters, *field*). */
  | 'full'
  /** Slack refused the call's content (blocks): send it without. */
  | 'rejected'
  /** Anything else (429, network, 5xx): the scheduler's usual handling. */
  | 'other';

/** Classifies an error of chat.appendStream or chat.stopStream (DESIGN.md §6). */
export function streamFailure(error: unknown): StreamFailure {
  const failure = classifySlackError(error);
  if (!('error' in failure)) return 'other';
  switch (failure.error) {
    case 'message_not_in_streaming_state':
    case 'message_not_found':
      return 'expired';
    case 'stopped_by_user':
      return 'stopped_by_user';
    case 'msg_too_long':
      return 'full';
    case 'invalid_blocks':
    case 'invalid_blocks_format':
    case 'msg_blocks_too_long':
      return 'rejected';
    default:
      return 'other';
  }
}

/**
 * One Slack message streamed with chat.startStream → chat.appendStream → chat.stopStream, always in `chunks`
 * form (a stream keeps the form it started with, and thinking is a `task_update` chunk). It only makes the
 * calls; pacing and budgets are the edit scheduler's, errors the caller's (see `streamFailure`).
 */
export class NativeStream {
  /** The Markdown appended so far (already made inert by the caller). */
  text = '';
  /** Whether a thinking task is shown and not yet marked complete. */
  private thinking = false;
  /** Whether the stream has ended (stopped by us, or found expired); the message is then a normal one. */
  ended = false;
  /** Whether the user pressed Stop: Slack may then refuse chat.stopStream. */
  stoppedByUser = false;

  private constructor(
    private readonly web: WebClient,
    readonly channel: string,
    readonly ts: string,
  ) {}

  /**
   * Starts the stream as a reply in `target`'s thread (`recipient_user_id` + `recipient_team_id`, required
   * outside DMs), showing `thinkingTitle` as a task in progress, or nothing when undefined. Throws Slack's error.
   */
  static async start(web: WebClient, target: StreamTarget, thinkingTitle: string | undefined): Promise<NativeStream> {
    const chunks: AnyChunk[] = thinkingTitle ? [{ type: 'task_update', id: THINKING_TASK, title: thinkingTitle, status: 'in_progress' }] : [];
    const result = await web.chat.startStream({
      channel: target.channel,
      thread_ts: target.threadTs,
      recipient_user_id: target.userId,
      recipient_team_id: target.teamId,
      ...(chunks.length > 0 ? { chunks } : {}),
    });
    const stream = new NativeStream(web, target.channel, result.ts!);
    stream.thinking = chunks.length > 0;
    return stream;
  }

  /** Shows Claude thinking: the task in progress with `details` (plain text, the latest summarised sentence or a clock). */
  async think(title: string, details: string): Promise<void> {
    await this.web.chat.appendStream({ channel: this.channel, ts: this.ts, chunks: [thinkingChunk(title, 'in_progress', details)] });
    this.thinking = true;
  }

  /** Appends `markdown` (the next piece of the answer); the thinking task, if shown, is marked complete first. */
  async append(markdown: string, thinkingTitle: string): Promise<void> {
    await this.web.chat.appendStream({ channel: this.channel, ts: this.ts, chunks: this.textChunks(markdown, thinkingTitle) });
    this.thinking = false;
    this.text += markdown;
  }

  /** Ends the stream with `markdown` appended and `blocks` (≤ 50) shown after it; Slack moves the session to `active`. */
  async stop(markdown: string, thinkingTitle: string, blocks?: types.KnownBlock[]): Promise<void> {
    const chunks = this.textChunks(markdown, thinkingTitle);
    await this.web.chat.stopStream({ channel: this.channel, ts: this.ts, ...(chunks.length > 0 ? { chunks } : {}), ...(blocks ? { blocks } : {}) });
    this.thinking = false;
    this.text += markdown;
    this.ended = true;
  }

  private textChunks(markdown: string, thinkingTitle: string): AnyChunk[] {
    const chunks: AnyChunk[] = this.thinking ? [thinkingChunk(thinkingTitle, 'complete')] : [];
    if (markdown) chunks.push({ type: 'markdown_text', text: markdown });
    return chunks;
  }
}

function thinkingChunk(title: string, status: 'in_progress' | 'complete', details?: string): AnyChunk {
  return { type: 'task_update', id: THINKING_TASK, title, status, ...(details ? { details } : {}) };
}
