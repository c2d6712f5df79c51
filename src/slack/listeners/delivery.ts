import { copy } from '../../copy.js';
import type { EventDedupe } from '../eventDedupe.js';
import { toMrkdwn } from '../render.js';
import { handlePrompt, stripMention, type ListenerDeps } from './handlePrompt.js';
import type { IncomingMessage } from './incoming.js';

/** What the surfaces need besides the answer pipeline: the de-duplication of deliveries. */
export interface SurfaceDeps extends ListenerDeps {
  dedupe: EventDedupe;
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
 * Answers a user's message (mention or DM) once, in its thread. Attached files are not read yet: the answer
 * says so, and a message that is only files gets a short reply instead of a Claude call.
 */
export async function answerMessage(message: IncomingMessage, source: 'mention' | 'dm', botUserId: string | undefined, deps: SurfaceDeps): Promise<void> {
  if (!(await firstDelivery(deps, messageKey(message)))) return;
  const text = stripMention(message.text, botUserId);
  const { teamId, channel, threadTs, userId } = message;
  if (message.hasFiles && !text) {
    await deps.web.chat
      .postMessage({ channel, thread_ts: threadTs, text: toMrkdwn(copy.filesOnly) })
      .catch((error: unknown) => deps.logger.warn({ teamId, channel, threadTs, err: error }, 'could not say that files cannot be read'));
    return;
  }
  const notes = message.hasFiles ? [copy.notes.filesNotRead] : [];
  await handlePrompt({ teamId, channel, threadTs, userId, text, source, notes }, deps);
}
