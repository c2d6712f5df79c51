import { WebAPIPlatformError, type WebClient } from '@slack/web-api';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { selectContext, type PastExchange, type SelectedContext } from '../context/turns.js';
import type { BotIdentity } from './botIdentity.js';
import { LOOKUP_WAIT_MS, type SlackDirectory } from './directory.js';
import { referencedIds, toPlainText } from './plainText.js';
import { slackFilesOf, type SlackFile } from './slackFile.js';
import { classifySlackError } from './slackErrors.js';
import { compareTs } from './slackTs.js';

/** One message of a thread as Claude may see it: who wrote it, what a person reads, what it attaches. */
export interface ThreadMessage {
  ts: string;
  /** `@Display Name` for a person, `App Name (app)` for another app's post. */
  speaker: string;
  /** Plain text (plainText.ts), with the names the directory had. */
  text: string;
  files: SlackFile[];
}

/** Why a thread could not be read; `scope` is what Slack said is missing (its `needed`), when it said. */
export type ThreadReadFailure =
  | { reason: 'missing_scope'; scope?: string }
  | { reason: 'not_in_channel' | 'channel_not_found' | 'rate_limited' | 'unreachable' | 'timeout' | 'too_long' | 'aborted' }
  | { reason: 'other'; error: string };

/** The thread's messages before the question that fit the budget (ThreadBudget), oldest first; or why there are none. Never thrown. */
export type ThreadRead = ({ ok: true } & SelectedContext<ThreadMessage>) | ({ ok: false } & ThreadReadFailure);

/** How much of the thread Claude gets (see selectContext): the characters, and the exchanges whose questions it already has. */
export interface ThreadBudget {
  maxChars: number;
  exchanges: readonly Pick<PastExchange, 'questionTs'>[];
}

/** Where to read and up to which message (exclusive): the question's ts. */
export interface ThreadPlace {
  channel: string;
  threadTs: string;
  before: string;
}

/** conversations.replies' largest (and default) `limit`: the fewest calls against its Tier 3 budget. */
const PAGE_LIMIT = 1000;
/**
 * At most this many pages (10,000 messages): Slack pages from the thread's start, so a longer thread cannot
 * be read up to the question at all and is answered without context.
 */
const MAX_PAGES = 10;
/**
 * The whole read (pages, names, text) gives up after this long: one `reads` call's own timeout (see
 * slackClients), because an answer without context beats a late answer.
 */
const READ_DEADLINE_MS = 10_000;
/**
 * Distinct people and channels one read may look up (users.info and conversations.info share Tier 4, 100+
 * a minute, with every other answer): the rest are named from the cache, else by id.
 */
const READ_LOOKUPS = 100;

/**
 * Subtypes that are something someone said (https://docs.slack.dev/reference/events/message#subtypes):
 * plain messages, other apps' posts, replies also sent to the channel, files with a comment, `/me`.
 * Joins, leaves, topic and purpose changes and the like are noise.
 */
const SPOKEN_SUBTYPES = new Set([undefined, 'bot_message', 'thread_broadcast', 'file_share', 'me_message']);

/** A message of conversations.replies: the fields read here. */
interface WireMessage {
  ts?: string;
  user?: string;
  bot_id?: string;
  subtype?: string;
  text?: string;
  username?: string;
  bot_profile?: { name?: string };
  files?: unknown;
}

/**
 * Reads a thread's earlier messages with `conversations.replies` (https://docs.slack.dev/reference/methods/conversations.replies;
 * scopes channels/groups/mpim/im:history) on the `reads` client, which throws at once on a 429. Keeps what
 * people and other apps said before the question; drops the bot's own posts and noise subtypes.
 */
export class ThreadReader {
  constructor(
    private readonly web: WebClient,
    private readonly directory: SlackDirectory,
    private readonly identity: () => BotIdentity | undefined,
  ) {}

  /**
   * The messages of `place`'s thread before `place.before` that fit `budget`, oldest first; bounded (MAX_PAGES,
   * READ_DEADLINE_MS, READ_LOOKUPS) and aborted with `signal`. The budget may come later (it needs the history):
   * the pages are read meanwhile.
   */
  async read(place: ThreadPlace, budget: ThreadBudget | Promise<ThreadBudget>, signal?: AbortSignal): Promise<ThreadRead> {
    // Awaited only after the pages: a rejection meanwhile (the history failed) must not count as unhandled.
    Promise.resolve(budget).catch(() => undefined);
    const stop = new AbortController();
    const timer = setTimeout(() => stop.abort('timeout'), READ_DEADLINE_MS);
    const stopped = signal ? AbortSignal.any([stop.signal, signal]) : stop.signal;
    const ended = new Promise<ThreadRead>((resolve) => {
      const end = () => resolve({ ok: false, reason: stop.signal.aborted ? 'timeout' : 'aborted' });
      if (stopped.aborted) end();
      else stopped.addEventListener('abort', end, { once: true });
    });
    try {
      return await Promise.race([this.readAll(place, budget, stopped), ended]);
    } catch (error) {
      return failureOf(error);
    } finally {
      clearTimeout(timer);
      stop.abort('done');
    }
  }

  private async readAll(place: ThreadPlace, budget: ThreadBudget | Promise<ThreadBudget>, stopped: AbortSignal): Promise<ThreadRead> {
    const raw: WireMessage[] = [];
    let cursor: string | undefined;
    for (let page = 0; ; page++) {
      if (page === MAX_PAGES) return { ok: false, reason: 'too_long' };
      const answer = await this.web.conversations.replies({ channel: place.channel, ts: place.threadTs, limit: PAGE_LIMIT, ...(cursor ? { cursor } : {}) });
      if (stopped.aborted) return { ok: false, reason: 'aborted' };
      raw.push(...((answer.messages ?? []) as WireMessage[]));
      cursor = answer.response_metadata?.next_cursor;
      if (!answer.has_more || !cursor) break;
    }
    const { maxChars, exchanges } = await budget;
    return { ok: true, ...(await selectContext(this.spoken(raw, place.before), exchanges, maxChars, this.converter(stopped))) };
  }

  /** What people and other apps said before `before`, oldest first, once each (a page may repeat the parent). */
  private spoken(raw: WireMessage[], before: string): SpokenMessage[] {
    const bot = this.identity();
    const byTs = new Map<string, SpokenMessage>();
    for (const message of raw) {
      const { ts } = message;
      if (!ts || compareTs(ts, before) >= 0 || !SPOKEN_SUBTYPES.has(message.subtype)) continue;
      if (bot && (message.user === bot.botUserId || message.bot_id === bot.botId)) continue;
      byTs.set(ts, { ...message, ts });
    }
    return [...byTs.values()].sort((a, b) => compareTs(a.ts, b.ts));
  }

  /**
   * Converts batches of messages for one read: names the speakers and what the texts mention (READ_LOOKUPS
   * distinct ids looked up per read, waited for LOOKUP_WAIT_MS in all), and turns each text into what a person
   * reads. Gives the event loop a turn before each message, since one can be 40,000 characters of markup: the
   * read's deadline and other answers run meanwhile, and a stopped read stops converting.
   */
  private converter(stopped: AbortSignal): (batch: SpokenMessage[]) => Promise<ThreadMessage[]> {
    const requested = new Set<string>();
    const lookupsEnd = AbortSignal.any([stopped, AbortSignal.timeout(LOOKUP_WAIT_MS)]);
    return async (batch) => {
      const mentioned = batch.map((message) => referencedIds(message.text ?? ''));
      const users = [...batch.flatMap((message) => (isApp(message) || !message.user ? [] : [message.user])), ...mentioned.flatMap((ids) => ids.users)];
      const channels = mentioned.flatMap((ids) => ids.channels);
      const room = Math.max(0, READ_LOOKUPS - requested.size);
      const fresh = (ids: string[], max: number) => [...new Set(ids)].filter((id) => !requested.has(id)).slice(0, max);
      const newUsers = fresh(users, room);
      const newChannels = fresh(channels, room - newUsers.length);
      for (const id of [...newUsers, ...newChannels]) requested.add(id);
      await this.directory.lookUp({ users: newUsers, channels: newChannels }, lookupsEnd, room);
      const names = this.directory.cachedNames({ users, channels });
      const converted: ThreadMessage[] = [];
      for (const message of batch) {
        await nextTurn();
        if (stopped.aborted) throw new Error('thread read stopped');
        converted.push({
          ts: message.ts,
          speaker: isApp(message) ? appSpeaker(message) : `@${(message.user && names.users.get(message.user)) ?? message.user ?? 'someone'}`,
          text: toPlainText(message.text ?? '', names),
          files: slackFilesOf(message.files),
        });
      }
      return converted;
    };
  }
}

/** A message someone said, with its ts. */
type SpokenMessage = WireMessage & { ts: string };

/** Another app's post (`bot_message`, or any message carrying a bot id that is not ours). */
function isApp(message: WireMessage): boolean {
  return message.subtype === 'bot_message' || message.bot_id !== undefined;
}

/**
 * How another app's post is attributed: its name marked `(app)` and without a leading `@`, since any app may
 * post under any name (`username`, chat:write.customize) and must not pass as a person, whose names start with `@`.
 */
function appSpeaker(message: WireMessage): string {
  const name = (message.bot_profile?.name || message.username || '').replace(/^[\s@]+/, '');
  return `${name || 'an app'} (app)`;
}

/** A failed call as a typed failure (the classes and codes of @slack/web-api and Slack's error list). */
function failureOf(error: unknown): ThreadRead {
  const failure = classifySlackError(error);
  if (failure.kind === 'rate_limited') return { ok: false, reason: 'rate_limited' };
  if (failure.kind === 'transient') return { ok: false, reason: 'unreachable' };
  const code = failure.error;
  if (code === 'missing_scope') {
    const needed = error instanceof WebAPIPlatformError ? (error.data as { needed?: unknown }).needed : undefined;
    return { ok: false, reason: 'missing_scope', ...(typeof needed === 'string' && needed ? { scope: needed } : {}) };
  }
  if (code === 'not_in_channel' || code === 'channel_not_found') return { ok: false, reason: code };
  return { ok: false, reason: 'other', error: code };
}
