import type { types } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { randomUUID } from 'node:crypto';
import { backoffDelay, sleep, type BackoffOptions } from '../backoff.js';
import type { Logger } from '../logger.js';
import type { SlackClients } from './slackClients.js';
import { classifySlackError, type SlackFailure } from './slackErrors.js';

/** The metadata `event_type` of every message the bot posts once (https://docs.slack.dev/messaging/message-metadata). */
export const POST_EVENT = 'claude_bot_post';
/**
 * Attempts at one post, the first included, with backoff between them (15 to 25 s in all, before the asker is
 * told): a Slack hiccup is ridden out, an outage is not waited for.
 */
const POST_RETRY = { attempts: 6, baseMs: 500, maxMs: 8_000 };
/** Pages of conversations.replies (or .history) read to find a post whose answer was lost (each up to PAGE_SIZE messages). */
const LOOKUP_PAGES = 5;
const PAGE_SIZE = 200;
/** Attempts at a lookup on its own (findPostRetrying): a 429 or a hiccup must not pass for "not posted". */
const LOOKUP_RETRY = { attempts: 4, baseMs: 1_000, maxMs: 8_000 };

/** Where a message goes: a thread (else the channel itself), and the message it must come after (the question, or the part before). */
export interface PostTarget {
  channel: string;
  threadTs?: string;
  /** A ts the post is newer than, to read less of a long thread when looking for it; absent: the whole thread. */
  after?: string;
}

/**
 * Posts one message (of an answer, or the /ask echo), once, and resolves with its ts. A 429, and a failure after which
 * Slack may or may not have posted it (5xx, `internal_error` and the other "try later" codes, a cut connection, a
 * timeout: Slack documents that "some aspect of the operation" may have succeeded), are retried up to
 * POST_RETRY.attempts times in all. Before a retry that may repeat a post, the thread (or channel) is read
 * (conversations.replies or .history, with `include_all_metadata`) for the message carrying `postId` in its metadata:
 * if Slack has it, that is the post, and nothing is posted twice. Rejects with the last Slack error otherwise
 * (a refusal at once: channel gone, text too long).
 */
export async function postOnce(
  slack: Pick<SlackClients, 'posts' | 'reads'>,
  logger: Logger,
  target: PostTarget,
  content: { text: string; blocks?: types.KnownBlock[] },
  postId: string = randomUUID(),
): Promise<string> {
  const metadata = { event_type: POST_EVENT, event_payload: { post_id: postId } };
  let mayExist = false;
  /** The ts of a post an unconfirmed try carried out, if Slack has it. */
  const posted = async (): Promise<string | undefined> => {
    const ts = mayExist ? await findPost(slack.reads, target, postId) : undefined;
    if (ts) logger.info({ channel: target.channel, threadTs: target.threadTs, ts }, 'a post whose answer was lost had reached Slack; not posting it again');
    return ts;
  };
  for (let attempt = 0; ; attempt++) {
    try {
      const ts = await posted();
      if (ts) return ts;
      const result = await slack.posts.chat.postMessage({
        channel: target.channel,
        ...(target.threadTs ? { thread_ts: target.threadTs } : {}),
        text: content.text,
        ...(content.blocks ? { blocks: content.blocks } : {}),
        metadata,
        unfurl_links: false,
        unfurl_media: false,
      });
      return result.ts!;
    } catch (error) {
      const failure = classifySlackError(error);
      // Only a 429 proves nothing was posted; a failed lookup leaves the question open for the next attempt.
      if (failure.kind === 'transient') mayExist = true;
      const waitMs = retryDelay(failure, attempt, POST_RETRY);
      if (waitMs === undefined) {
        // The last try may be the one Slack carried out: giving up on a posted message would leave it unfinished.
        const ts = await posted().catch(() => undefined);
        if (ts) return ts;
        throw error;
      }
      logger.warn({ channel: target.channel, threadTs: target.threadTs, failure, attempt, waitMs }, 'Slack did not confirm a post; retrying');
      await sleep(waitMs);
    }
  }
}

/**
 * The ts of the message in `target`'s thread (else its channel) that postOnce posted with `postId`, or undefined if
 * Slack has none (within LOOKUP_PAGES pages). Rejects when the conversation cannot be read.
 */
export async function findPost(reads: WebClient, target: PostTarget, postId: string): Promise<string | undefined> {
  let cursor: string | undefined;
  for (let page = 0; page < LOOKUP_PAGES; page++) {
    const query = { channel: target.channel, ...(target.after ? { oldest: target.after } : {}), include_all_metadata: true, limit: PAGE_SIZE, ...(cursor ? { cursor } : {}) };
    // A thread's replies come oldest first; a channel's history newest first, so a fresh post is on its first page.
    const { messages = [], response_metadata: next } = target.threadTs
      ? await reads.conversations.replies({ ...query, ts: target.threadTs })
      : await reads.conversations.history(query);
    // The SDK types event_payload as `{}`: any app's payload may come back.
    const found = messages.find(({ metadata }) => metadata?.event_type === POST_EVENT && Object.entries(metadata.event_payload ?? {}).some(([key, value]) => key === 'post_id' && value === postId));
    if (found?.ts) return found.ts;
    cursor = next?.next_cursor;
    if (!cursor) return undefined;
  }
  return undefined;
}

/** findPost, waiting out a 429 (its Retry-After) or a transient failure up to LOOKUP_RETRY.attempts times; rejects with the last error. */
export async function findPostRetrying(reads: WebClient, target: PostTarget, postId: string): Promise<string | undefined> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await findPost(reads, target, postId);
    } catch (error) {
      const waitMs = retryDelay(classifySlackError(error), attempt, LOOKUP_RETRY);
      if (waitMs === undefined) throw error;
      await sleep(waitMs);
    }
  }
}

/**
 * How long to wait before trying again after `failure` on try `attempt` (from 0): a 429's Retry-After, backoff after
 * a transient failure; undefined for any other failure, or when `options.attempts` are spent.
 */
function retryDelay(failure: SlackFailure, attempt: number, options: BackoffOptions & { attempts: number }): number | undefined {
  if (attempt + 1 >= options.attempts) return undefined;
  if (failure.kind === 'rate_limited') return failure.retryAfterMs;
  return failure.kind === 'transient' ? backoffDelay(attempt, options) : undefined;
}
