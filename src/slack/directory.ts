import type { WebClient } from '@slack/web-api';
import { LRUCache } from 'lru-cache';
import pLimit from 'p-limit';
import { sleep } from '../backoff.js';
import type { Logger } from '../logger.js';
import { referencedIds, toPlainText, type PlainTextNames } from './plainText.js';
import { classifySlackError } from './slackErrors.js';

/** What the bot needs to know about a conversation to tell Claude where it is. */
export interface ConversationInfo {
  /** The channel's name without `#`; undefined for a DM or a group DM. */
  name?: string;
  isIm: boolean;
  isMpim: boolean;
}

/** What users.info says of a person (https://docs.slack.dev/reference/objects/user-object): a name and where they belong. */
export interface UserInfo {
  /** Display name, else real name, else handle. */
  name?: string;
  /** `team_id`: the workspace (`T…`), or for some Enterprise Grid users the organisation (`E…`), the user belongs to. */
  teamId?: string;
  /** `enterprise_user.enterprise_id`; null when the user object describes no Enterprise Grid membership. */
  enterpriseId: string | null;
  /** `is_stranger`: Slack's mark for a user from outside the bot's workspace and organisation. */
  isStranger: boolean;
}

/** How long a name is trusted: people rename themselves and channels, but rarely. */
const NAME_TTL_MS = 15 * 60_000;
/** How long a failed lookup is remembered, so a missing scope or a rate limit is not asked about per message. */
const FAILURE_TTL_MS = 60_000;
/** Ids remembered per cache: a workspace's active people and channels, in a bounded amount of memory. */
const MAX_ENTRIES = 5_000;

/**
 * Distinct ids one conversion may look up (users.info, conversations.info, Tier 4: 100+ a minute): a person or
 * channel is rarely named more often in one message, and a message naming hundreds must not spend the
 * workspace's budget. Later ids are named from the cache, else by their label or id.
 */
export const MAX_LOOKUPS = 20;
/**
 * How long one conversion waits for its lookups, in ms: users.info answers in well under a second, and a slow
 * Slack must not hold the answer up (the reads client alone would wait 10 s, twice). Names that come later
 * are cached for the next message.
 */
export const LOOKUP_WAIT_MS = 2_000;
/**
 * Lookups in flight at once, across all answers of the process: enough that a burst of questions (each waits
 * for its channel and its asker before Claude is asked) takes a round trip or two, not one per few answers.
 * Slack's tiers count calls per minute, which a cap on calls in flight does not bound: the caches and the
 * per-conversion caps do. The reads client itself sends at most 100 at once (the WebClient's default).
 */
const LOOKUP_CONCURRENCY = 100;

/** Which ids a conversion wants named: users and conversations. */
export interface NameRequest {
  users: readonly string[];
  channels: readonly string[];
}

/** A cached lookup result; `value` undefined when Slack would not tell (lru-cache cannot hold undefined). */
interface Entry<T> {
  value?: T;
}

/**
 * Names of Slack users and conversations (users.info, conversations.info), cached for a while, and the
 * conversion of Slack markup into the plain text a person reads (src/slack/plainText.ts) with those names.
 * Lookups never throw: what Slack will not tell (missing scope, deleted user, rate limit) is undefined, and
 * each kind of failure is logged once, at debug.
 */
export class SlackDirectory {
  private readonly users: LRUCache<string, Entry<UserInfo>>;
  private readonly conversations: LRUCache<string, Entry<ConversationInfo>>;
  private readonly logged = new Set<string>();
  private readonly limit = pLimit(LOOKUP_CONCURRENCY);

  constructor(
    private readonly web: WebClient,
    private readonly botUserId: () => string | undefined,
    private readonly logger?: Logger,
  ) {
    this.users = this.cache('users.info', async (user) => {
      const found = (await this.limit(() => this.web.users.info({ user }))).user;
      if (!found) return undefined;
      const name = found.profile?.display_name || found.profile?.real_name || found.real_name || found.name || undefined;
      return {
        ...(name ? { name } : {}),
        ...(found.team_id ? { teamId: found.team_id } : {}),
        enterpriseId: found.enterprise_user?.enterprise_id || null,
        isStranger: found.is_stranger === true,
      };
    });
    this.conversations = this.cache('conversations.info', async (channel) => {
      const found = (await this.limit(() => this.web.conversations.info({ channel }))).channel;
      if (!found) return undefined;
      const isIm = found.is_im === true;
      const isMpim = found.is_mpim === true;
      // A group DM has a generated name (`mpdm-a--b-1`) that no person reads.
      return { ...(isIm || isMpim || !found.name ? {} : { name: found.name }), isIm, isMpim };
    });
  }

  /** A user's display name (profile display name, else real name, else handle), waiting as `user` does. */
  async userName(userId: string): Promise<string | undefined> {
    return (await this.user(userId))?.name;
  }

  /**
   * What users.info says of a user (cached like names), waiting at most LOOKUP_WAIT_MS: undefined when Slack would
   * not tell in time (missing scope, unknown user, rate limit, slow answer; a late answer still fills the cache).
   */
  user(userId: string): Promise<UserInfo | undefined> {
    return this.within(this.users.fetch(userId));
  }

  /** A conversation's name and kind, waiting at most LOOKUP_WAIT_MS as `user` does. */
  conversation(channel: string): Promise<ConversationInfo | undefined> {
    return this.within(this.conversations.fetch(channel));
  }

  /**
   * Slack markup → plain text: entities decoded once, mentions/channels/links as a person reads them, the bot's
   * own mentions removed; the names it mentions looked up first (lookUp: at most MAX_LOOKUPS, LOOKUP_WAIT_MS).
   */
  async plainText(text: string, signal?: AbortSignal): Promise<string> {
    const ids = referencedIds(text);
    await this.lookUp(ids, signal);
    return toPlainText(text, this.cachedNames(ids));
  }

  /** Slack markup → plain text with the names already cached: no lookups, so it never waits. */
  plainTextFromCache(text: string): string {
    return toPlainText(text, this.cachedNames(referencedIds(text)));
  }

  /**
   * Loads the names of the first `max` distinct ids `request` lists (users first; the bot's own never), at most
   * LOOKUP_CONCURRENCY calls in flight across the process; waits for them at most LOOKUP_WAIT_MS, or until
   * `signal` aborts. Lookups still running then go on filling the cache. Never rejects.
   */
  async lookUp(request: NameRequest, signal?: AbortSignal, max = MAX_LOOKUPS): Promise<void> {
    const botUserId = this.botUserId();
    const users = unique(request.users.filter((id) => id !== botUserId)).map((id) => () => this.users.fetch(id));
    const channels = unique(request.channels).map((id) => () => this.conversations.fetch(id));
    const loads = [...users, ...channels].slice(0, max).map((load) => load());
    if (loads.length === 0) return;
    const settled = new AbortController();
    await Promise.race([Promise.allSettled(loads), sleep(LOOKUP_WAIT_MS, signal ? AbortSignal.any([signal, settled.signal]) : settled.signal)]);
    settled.abort();
  }

  /** Names for `request`'s ids, and the bot's id, from the cache alone. */
  cachedNames(request: NameRequest): PlainTextNames {
    const botUserId = this.botUserId();
    const users = new Map(request.users.flatMap((id) => nameOf(id, this.users.get(id)?.value?.name)));
    const channels = new Map(request.channels.flatMap((id) => nameOf(id, this.conversations.get(id)?.value?.name)));
    return { ...(botUserId ? { botUserId } : {}), users, channels };
  }

  /** The value of a cache `fetch`, or undefined when it takes longer than LOOKUP_WAIT_MS (it goes on filling the cache). */
  private async within<T>(fetching: Promise<Entry<T> | undefined>): Promise<T | undefined> {
    const answered = new AbortController();
    const found = await Promise.race([fetching, sleep(LOOKUP_WAIT_MS, answered.signal).then(() => undefined)]);
    answered.abort();
    return found?.value;
  }

  /**
   * A bounded TTL cache whose `fetch` shares one call among concurrent lookups of an id; a failure is cached
   * as "unknown" for FAILURE_TTL_MS.
   */
  private cache<T extends object | string>(method: string, load: (id: string) => Promise<T | undefined>): LRUCache<string, Entry<T>> {
    return new LRUCache<string, Entry<T>>({
      max: MAX_ENTRIES,
      ttl: NAME_TTL_MS,
      fetchMethod: async (id, _stale, { options }) => {
        try {
          const value = await load(id);
          if (value === undefined) options.ttl = FAILURE_TTL_MS;
          return value === undefined ? {} : { value };
        } catch (error) {
          options.ttl = FAILURE_TTL_MS;
          this.logOnce(method, id, error);
          return {};
        }
      },
    });
  }

  private logOnce(method: string, id: string, error: unknown): void {
    const failure = classifySlackError(error);
    const key = `${method}:${'error' in failure ? failure.error : failure.kind}`;
    if (this.logged.has(key)) return;
    this.logged.add(key);
    this.logger?.debug({ method, id, failure }, 'a Slack lookup failed; names fall back to what the message itself says');
  }
}

/** `[id, name]` when there is a name. */
function nameOf(id: string, name: string | undefined): [string, string][] {
  return name === undefined ? [] : [[id, name]];
}

function unique(ids: readonly string[]): string[] {
  return [...new Set(ids)];
}
