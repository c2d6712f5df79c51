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

const mentionSchema = z.object({ user: slackId, channel: slackId, ts: messageTs, thread_ts: messageTs.optional(), text: z.string(), files });
const directMessageSchema = z
  .object({ user: slackId, channel: slackId, ts: messageTs, thread_ts: messageTs.optional(), text: z.string().optional(), files })
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
export function parseMention(event: unknown, teamId: unknown): IncomingMessage | undefined {
  return toMessage(mentionSchema.safeParse(event).data, teamId);
}

/** The message of a `message.im` event (team from the envelope), or undefined when a field is missing or malformed. */
export function parseDirectMessage(event: unknown, teamId: unknown): IncomingMessage | undefined {
  return toMessage(directMessageSchema.safeParse(event).data, teamId);
}

/** A slash command body, or undefined when a field is missing or malformed. */
export function parseCommand(body: unknown): IncomingCommand | undefined {
  const command = commandSchema.safeParse(body).data;
  return command && { teamId: command.team_id, channel: command.channel_id, userId: command.user_id, text: command.text, triggerId: command.trigger_id };
}

function toMessage(event: z.infer<typeof mentionSchema> | z.infer<typeof directMessageSchema> | undefined, teamId: unknown): IncomingMessage | undefined {
  const team = slackId.safeParse(teamId).data;
  if (!event || !team) return undefined;
  return {
    teamId: team,
    channel: event.channel,
    ts: event.ts,
    threadTs: event.thread_ts ?? event.ts,
    userId: event.user,
    text: event.text ?? '',
    files: slackFilesOf(event.files),
  };
}
