import { copy } from '../../copy.js';
import { isDirectMessage, type AccessPolicy, type Refusal } from '../accessPolicy.js';
import type { SlackDirectory } from '../directory.js';
import { toMrkdwn } from '../render.js';
import type { EventDedupe } from '../eventDedupe.js';
import { classifySlackError } from '../slackErrors.js';
import type { RefusalNotices } from '../refusalNotices.js';
import type { SlackClients } from '../slackClients.js';
import { handlePrompt, type ListenerDeps } from './handlePrompt.js';
import type { IncomingMessage } from './incoming.js';

/** What the surfaces need besides the answer pipeline: the de-duplication of deliveries, names for plain text, who may ask. */
export interface SurfaceDeps extends ListenerDeps {
  dedupe: EventDedupe;
  directory: SlackDirectory;
  access: AccessPolicy;
  refusalNotices: RefusalNotices;
  /** The clients a post made once needs (postOnce.ts): the /ask echo. */
  slack: Pick<SlackClients, 'posts' | 'reads'>;
}

/**
 * The de-duplication key of a message: its identity, not the event that carried it, so a redelivery under
 * a new `event_id` and a DM that also arrives as `app_mention` are answered once.
 */
export const messageKey = (message: IncomingMessage): string => `message:${message.teamId}:${message.channel}:${message.ts}`;

/** The de-duplication key of a slash command: its `trigger_id` is unique per invocation, so a replayed request repeats it. */
export const commandKey = (teamId: string, triggerId: string): string => `command:${teamId}:${triggerId}`;

/** True for the first delivery of `key`; a later one is logged and must be dropped. */
export async function firstDelivery(deps: SurfaceDeps, key: string): Promise<boolean> {
  if (await deps.dedupe.claim(key)) return true;
  deps.logger.info({ key }, 'ignoring a repeated delivery');
  return false;
}

/**
 * Answers a user's message (mention or DM) once, in its thread, when the access policy allows it (else one
 * ephemeral tells the asker why, before anything else shows), with Slack's text: the request builder turns it
 * into plain text (names looked up) after the placeholder is up. Whether anything was asked needs no names
 * (only the bot's own mentions and whitespace read as nothing), so a message with neither text nor files gets
 * the usage hint at once.
 */
export async function answerMessage(message: IncomingMessage, source: 'mention' | 'dm', deps: SurfaceDeps): Promise<void> {
  if (!(await firstDelivery(deps, messageKey(message)))) return;
  const { teamId, channel, threadTs, userId, ts, files, text } = message;
  const refusal = await deps.access.refusal({
    channel,
    isDm: source === 'dm' || isDirectMessage(channel),
    userId,
    home: { teamId, ...(message.enterpriseId ? { enterpriseId: message.enterpriseId } : {}) },
    asker: message.askerTeam ? { teamId: message.askerTeam } : {},
    ...(message.sharedExternally === undefined ? {} : { sharedExternally: message.sharedExternally }),
  });
  if (refusal) {
    await refuse(message, refusal, deps);
    return;
  }
  if (!deps.directory.plainTextFromCache(text) && !files.length) {
    await deps.web.chat.postMessage({ channel, thread_ts: threadTs, text: toMrkdwn(copy.usage(deps.slashCommand)) });
    return;
  }
  await handlePrompt({ teamId, channel, threadTs, userId, text, source, ts, files }, deps);
}

/**
 * Tells the asker alone, in one ephemeral (in the message's thread when it is in one), why the bot does not answer,
 * unless they were told there in the last minute (RefusalNotices); if Slack refuses the ephemeral (the bot is not
 * in the channel, say), that is logged and nothing else is posted.
 */
async function refuse(message: IncomingMessage, refusal: Refusal, deps: SurfaceDeps): Promise<void> {
  const { channel, userId, ts, threadTs } = message;
  deps.logger.info({ channel, refusal }, 'not answering: the access policy refuses this question');
  if (!deps.refusalNotices.shouldTell(userId, channel, refusal)) return;
  await deps.web.chat
    .postEphemeral({ channel, user: userId, ...(threadTs === ts ? {} : { thread_ts: threadTs }), text: deps.access.explain(refusal) })
    .catch((error: unknown) => deps.logger.warn({ channel, refusal, failure: classifySlackError(error) }, 'could not tell the asker why the question is refused'));
}
