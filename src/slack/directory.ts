import type { WebClient } from '@slack/web-api';

/** What the bot needs to know about a conversation to tell Claude where it is. */
export interface ConversationInfo {
  /** The channel's name without `#`; undefined for a DM or a group DM. */
  name?: string;
  isIm: boolean;
  isMpim: boolean;
}

/**
 * Names of Slack users and conversations (users.info, conversations.info), cached for a while, and the
 * conversion of Slack markup into the plain text a person reads (src/slack/plainText.ts) with those names.
 * Lookups never throw: what Slack will not tell (missing scope, deleted user, rate limit) is undefined.
 *
 * SKELETON: the issue-11 text work replaces this stub with the real lookups and conversion.
 */
export class SlackDirectory {
  constructor(
    private readonly web: WebClient,
    private readonly botUserId: () => string | undefined,
  ) {}

  /** A user's display name (profile display name, else real name, else handle). */
  async userName(userId: string): Promise<string | undefined> {
    void this.web;
    void userId;
    return undefined;
  }

  /** A conversation's name and kind. */
  async conversation(channel: string): Promise<ConversationInfo | undefined> {
    void channel;
    return undefined;
  }

  /** Slack markup → plain text: entities decoded once, mentions/channels/links as a person reads them, the bot's own mentions removed. */
  async plainText(text: string): Promise<string> {
    const bot = this.botUserId();
    return (bot ? text.replace(new RegExp(`<@${bot}(?:\\|[^>]*)?>`, 'g'), '') : text).trim();
  }
}
