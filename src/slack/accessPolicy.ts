// Who may ask, and where (issue #13 §3): ALLOWED_CHANNELS, ALLOW_DMS and ALLOW_EXTERNAL_USERS, decided before
// anything visible happens. How Slack marks a user from another organisation, as this module reads it:
// - Events: the envelope's `is_ext_shared_channel` is true only in a channel shared with another organisation
//   (Slack Connect); the event's `user_team` (else `user_profile.team`, else `team`) is the asker's workspace
//   (`T…`), or for an Enterprise Grid user often their organisation (`E…`). Slack's own Bolt reads them the same
//   way: slackapi/bolt-python `slack_bolt/request/internals.py` `extract_actor_team_id` /
//   `extract_actor_enterprise_id` (PR #854, "actor IDs for Slack Connect events"); field list in @slack/types
//   `AppMentionEvent` and https://api.slack.com/enterprise/grid/developing (`user_team`, `source_team`).
// - Users of another workspace of the SAME Enterprise Grid organisation are colleagues, not external: the
//   organisation is the envelope's `authorizations[0].enterprise_id` (Bolt's `context.enterpriseId`).
// - Where the payload is silent or ambiguous (a `T…` that is not ours while ours is a Grid workspace), users.info:
//   `team_id`, `enterprise_user.enterprise_id`, `is_stranger` (https://docs.slack.dev/reference/methods/users.info,
//   https://docs.slack.dev/reference/objects/user-object).
// - Slash commands: `team_id`/`enterprise_id` are "where the user was in Slack when they triggered your app's
//   command" (https://docs.slack.dev/interactivity/implementing-slash-commands), and the listeners already drop
//   commands from any workspace but the bot's own, so an asker reaching /ask is a member.
import { copy } from '../copy.js';
import type { Logger } from '../logger.js';

/** The access rules (DESIGN.md §2). */
export interface AccessRules {
  /** ALLOWED_CHANNELS: the conversations other than DMs the bot answers in; undefined = wherever it is invited. */
  allowedChannels?: readonly string[];
  /** ALLOW_DMS: whether it answers direct messages (default true). */
  allowDms: boolean;
  /** ALLOW_EXTERNAL_USERS: whether it answers people from other organisations in shared channels (default false). */
  allowExternalUsers: boolean;
}

/** The workspace the bot is installed in, and its Enterprise Grid organisation when it belongs to one. */
export interface Home {
  teamId: string;
  enterpriseId?: string;
}

/** What Slack says of the asker's organisation: no payload has every field, so each may be missing. */
export interface OrgEvidence {
  /** A workspace (`T…`) or organisation (`E…`) id Slack gives as the user's: event `user_team`…, users.info `team_id`. */
  teamId?: string;
  /** The user's Enterprise Grid organisation (users.info `enterprise_user.enterprise_id`); null when Slack says none. */
  enterpriseId?: string | null;
  /** users.info `is_stranger`: Slack's mark for someone outside the bot's workspace and organisation. */
  isStranger?: boolean;
}

/** Whether the asker belongs to the bot's organisation: `unknown` when the evidence does not settle it. */
export type Membership = 'member' | 'external' | 'unknown';

/** Why a question is refused: not an allowed channel, DMs turned off, or an asker from another organisation. */
export type Refusal = 'channel' | 'dms' | 'external';

/** One question, as the access policy sees it. */
export interface AccessQuestion {
  channel: string;
  /** A direct message (channel type `im`, id `D…`): governed by ALLOW_DMS alone, never by ALLOWED_CHANNELS. */
  isDm: boolean;
  userId: string;
  home: Home;
  /** What the payload itself says of the asker. */
  asker: OrgEvidence;
  /** The envelope's `is_ext_shared_channel`: false when nobody from another organisation can be in the conversation. */
  sharedExternally?: boolean;
}

/** users.info for one user, never throwing: undefined when Slack would not tell (in time). */
export type UserLookup = (userId: string) => Promise<OrgEvidence | undefined>;

/** A DM with the bot: Slack's channel type `im`, or a `D…` conversation id (slash commands carry no type). */
export function isDirectMessage(channel: string, channelType?: string): boolean {
  return channelType === 'im' || channel.startsWith('D');
}

/**
 * Whether `evidence` places the asker in the bot's organisation (`home`): Slack's `is_stranger`, or an
 * organisation that is not ours, makes them external; our workspace or organisation id makes them a member;
 * another workspace is external unless ours is an Enterprise Grid workspace and Slack did not say which
 * organisation that other workspace belongs to (then `unknown`).
 */
export function membership({ teamId, enterpriseId, isStranger }: OrgEvidence, home: Home): Membership {
  if (isStranger) return 'external';
  const ours = (id: string | null | undefined) => id != null && (id === home.teamId || id === home.enterpriseId);
  if (ours(teamId) || ours(enterpriseId)) return 'member';
  if (typeof enterpriseId === 'string' || teamId?.startsWith('E')) return 'external';
  if (teamId === undefined) return 'unknown';
  return home.enterpriseId === undefined || enterpriseId === null ? 'external' : 'unknown';
}

/** The refusal the conversation alone earns: a DM while ALLOW_DMS=false, a channel outside ALLOWED_CHANNELS. */
export function placeRefusal({ channel, isDm }: Pick<AccessQuestion, 'channel' | 'isDm'>, rules: AccessRules): Refusal | undefined {
  if (isDm) return rules.allowDms ? undefined : 'dms';
  return rules.allowedChannels && !rules.allowedChannels.includes(channel) ? 'channel' : undefined;
}

/**
 * The access policy: `refusal()` says whether a question may be answered and, if not, why; `explain()` gives the
 * asker the words. The asker's organisation comes from the payload first; users.info is asked only when the
 * payload leaves it open in a conversation that may be shared with another organisation, and only while
 * ALLOW_EXTERNAL_USERS=false. When even users.info cannot tell, the question is answered (fail-open, with a
 * warning): a refusal must rest on Slack saying the asker is external, and a missing `users:read` scope or a slow
 * Slack must not lock colleagues out.
 */
export class AccessPolicy {
  constructor(
    private readonly rules: AccessRules,
    private readonly lookUp: UserLookup,
    private readonly logger: Logger,
  ) {}

  /**
   * Why `question` must not be answered, or undefined when it may be. An external asker is refused as such even
   * where the place alone would refuse too: the place's refusal names the workspace's channels. Never rejects.
   */
  async refusal(question: AccessQuestion): Promise<Refusal | undefined> {
    const refusal = placeRefusal(question, this.rules);
    if (this.rules.allowExternalUsers) return refusal;
    return (await this.askerMembership(question)) === 'external' ? 'external' : refusal;
  }

  /** One short sentence telling the asker why (mrkdwn, see copy.access). */
  explain(refusal: Refusal): string {
    // Only conversations a person can be sent to: a DM id in ALLOWED_CHANNELS has no effect (ALLOW_DMS governs DMs).
    const channels = this.rules.allowedChannels?.filter((id) => !isDirectMessage(id));
    switch (refusal) {
      case 'channel':
        return copy.access.notHere(channels ?? [], this.rules.allowDms);
      case 'dms':
        return copy.access.dmsOff(channels);
      case 'external':
        return copy.access.external;
    }
  }

  private async askerMembership(question: AccessQuestion): Promise<Membership> {
    const said = membership(question.asker, question.home);
    if (said !== 'unknown') return said;
    // A conversation not shared with another organisation holds only colleagues.
    if (question.sharedExternally === false) return 'member';
    const found = await this.lookUp(question.userId);
    const known = found ? membership(found, question.home) : 'unknown';
    if (known === 'unknown') {
      this.logger.warn({ channel: question.channel, userId: question.userId }, 'could not tell whether the asker is from another organisation; answering');
    }
    return known;
  }
}
