import type { WebClient } from '@slack/web-api';
import { LRUCache } from 'lru-cache';
import type { Logger } from '../logger.js';
import { referencedIds, toPlainText } from './plainText.js';
import { classifySlackError } from './slackErrors.js';

/** What the bot needs to know about a conversation to tell Claude where it is. */
export interface ConversationInfo {
  /** The channel's name without `#`; undefined for a DM or a group DM. */
  name?: string;
  isIm: boolean;
  isMpim: boolean;
}

/** How long a name is trusted: people rename themselves and channels, but rarely. */
const NAME_TTL_MS = 15 * 60_000;
/** How long a failed lookup is remembered, so a missing scope or a rate limit is not asked about per message. */
const FAILURE_TTL_MS = 60_000;
/** Ids remembered per cache: a workspace's active people and channels, in a bounded amount of memory. */
const MAX_ENTRIES = 5_000;

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
  private readonly users: LRUCache<string, Entry<string>>;
  private readonly conversations: LRUCache<string, Entry<ConversationInfo>>;
  private readonly logged = new Set<string>();

  constructor(
    private readonly web: WebClient,
    private readonly botUserId: () => string | undefined,
    private readonly logger?: Logger,
  ) {
    this.users = this.cache('users.info', async (user) => {
      const found = (await this.web.users.info({ user })).user;
      return found?.profile?.display_name || found?.profile?.real_name || found?.real_name || found?.name || undefined;
    });
    this.conversations = this.cache('conversations.info', async (channel) => {
      const found = (await this.web.conversations.info({ channel })).channel;
      if (!found) return undefined;
      const isIm = found.is_im === true;
      const isMpim = found.is_mpim === true;
      // A group DM has a generated name (`mpdm-a--b-1`) that no person reads.
      return { ...(isIm || isMpim || !found.name ? {} : { name: found.name }), isIm, isMpim };
    });
  }

  /** A user's display name (profile display name, else real name, else handle). */
  async userName(userId: string): Promise<string | undefined> {
    return (await this.users.fetch(userId))?.value;
  }

  /** A conversation's name and kind. */
  async conversation(channel: string): Promise<ConversationInfo | undefined> {
    return (await this.conversations.fetch(channel))?.value;
  }

  /** Slack markup → plain text: entities decoded once, mentions/channels/links as a person reads them, the bot's own mentions removed. */
  async plainText(text: string): Promise<string> {
    const botUserId = this.botUserId();
    const ids = referencedIds(text);
    const [users, channels] = await Promise.all([
      namesOf(
        ids.users.filter((id) => id !== botUserId),
        (id) => this.userName(id),
      ),
      namesOf(ids.channels, async (id) => (await this.conversation(id))?.name),
    ]);
    return toPlainText(text, { ...(botUserId ? { botUserId } : {}), users, channels });
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

/** id → name for the ids `lookup` can name, looked up concurrently. */
async function namesOf(ids: readonly string[], lookup: (id: string) => Promise<string | undefined>): Promise<Map<string, string>> {
  const names = await Promise.all(ids.map(async (id) => [id, await lookup(id)] as const));
  return new Map(names.filter((pair): pair is readonly [string, string] => pair[1] !== undefined));
}
