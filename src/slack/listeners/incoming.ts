// What the listeners accept from Slack, checked at the edge: a payload missing a field a listener relies on,
// or holding one in an unexpected shape, is ignored whole rather than half-handled (an answer at the top
// level, a `<@…>` built from a crafted id). Shapes: https://docs.slack.dev/reference/events/app_mention,
// https://docs.slack.dev/reference/events/message.im, https://docs.slack.dev/interactivity/implementing-slash-commands
import { z } from 'zod';
import { slackFilesOf, type SlackFile } from '../slackFile.js';

/** A Slack id (`U…`, `W…`, `C…`, `D…`, `G…`, `T…`): upper-case letters and digits only. */
const slackId = z.string().regex(/^[A-Z][A-Z0-9]+$/);
/** A message timestamp, `seconds.micros`. */
const messageTs = z.string().regex(/^\d+\.\d+$/);
/** Files on a message: each one is checked by `slackFilesOf`, which drops those it cannot read. */
const files = z.array(z.unknown()).optional();

/**
 * Where the asker belongs, as the event names it (Slack Connect, Enterprise Grid; see accessPolicy.ts). Only the
 * access policy reads these, and it can look the user up instead: a malformed one is dropped, not the event.
 */
const askerTeam = {
  user_team: slackId.optional().catch(undefined),
  user_profile: z.object({ team: slackId.optional().catch(undefined) }).optional().catch(undefined),
  team: slackId.optional().catch(undefined),
};

const mentionSchema = z.object({ user: slackId, channel: slackId, ts: messageTs, thread_ts: messageTs.optional(), text: z.string(), files, ...askerTeam });
const directMessageSchema = z
  .object({ user: slackId, channel: slackId, ts: messageTs, thread_ts: messageTs.optional(), text: z.string().optional(), files, ...askerTeam })
  .refine((message) => message.text !== undefined || (message.files?.length ?? 0) > 0, 'neither text nor files');
const commandSchema = z.object({ team_id: slackId, channel_id: slackId, user_id: slackId, text: z.string(), trigger_id: z.string().min(1) });

/** A user's message that asks something (a mention or a DM), with the fields every listener relies on. */
export interface IncomingMessage {
  teamId: string;
  channel: string;
  ts: string;
  /** The thread to answer in: the message's own thread, or the message itself. */
  threadTs: string;
  userId: string;
  /** Raw text (Slack markup, mentions included); empty when the message is only files. */
  text: string;
  /** The files attached to the message (those that parse as Slack files). */
  files: SlackFile[];
  /** The Enterprise Grid organisation of the bot's workspace (the envelope's authorization), when it is in one. */
  enterpriseId?: string;
  /** The asker's workspace or organisation as the event names it: `user_team`, else `user_profile.team`, else `team`. */
  askerTeam?: string;
  /** The envelope's `is_ext_shared_channel`: whether the conversation is shared with another organisation. */
  sharedExternally?: boolean;
}

/** What the listeners take from an event's envelope and Bolt's context besides the event itself. */
export interface Envelope {
  /** Bolt's `context.teamId`: the bot's workspace. */
  teamId: unknown;
  /** Bolt's `context.enterpriseId` (from the envelope's `authorizations`). */
  enterpriseId?: unknown;
  /** The envelope's `is_ext_shared_channel`. */
  sharedExternally?: unknown;
}

/** A slash command invocation with the fields the command listener relies on. */
export interface IncomingCommand {
  teamId: string;
  channel: string;
  userId: string;
  text: string;
  /** Unique per invocation, so a replayed request carries the same one. */
  triggerId: string;
}

/** The message of an `app_mention` event (team from the envelope), or undefined when a field is missing or malformed. */
export function parseMention(event: unknown, envelope: Envelope): IncomingMessage | undefined {
  return toMessage(mentionSchema.safeParse(event).data, envelope);
}

/** The message of a `message.im` event (team from the envelope), or undefined when a field is missing or malformed. */
export function parseDirectMessage(event: unknown, envelope: Envelope): IncomingMessage | undefined {
  return toMessage(directMessageSchema.safeParse(event).data, envelope);
}

/** A slash command body, or undefined when a field is missing or malformed. */
export function parseCommand(body: unknown): IncomingCommand | undefined {
  const command = commandSchema.safeParse(body).data;
  return command && { teamId: command.team_id, channel: command.channel_id, userId: command.user_id, text: command.text, triggerId: command.trigger_id };
}

function toMessage(event: z.infer<typeof mentionSchema> | z.infer<typeof directMessageSchema> | undefined, envelope: Envelope): IncomingMessage | undefined {
  const team = slackId.safeParse(envelope.teamId).data;
  if (!event || !team) return undefined;
  const enterpriseId = slackId.safeParse(envelope.enterpriseId).data;
  const askerTeam = event.user_team ?? event.user_profile?.team ?? event.team;
  return {
    ...(enterpriseId ? { enterpriseId } : {}),
    ...(askerTeam ? { askerTeam } : {}),
    ...(typeof envelope.sharedExternally === 'boolean' ? { sharedExternally: envelope.sharedExternally } : {}),
    teamId: team,
    channel: event.channel,
    ts: event.ts,
    threadTs: event.thread_ts ?? event.ts,
    userId: event.user,
    text: event.text ?? '',
    files: slackFilesOf(event.files),
  };
}
