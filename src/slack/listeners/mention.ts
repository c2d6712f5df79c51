import type { AllMiddlewareArgs, SlackEventMiddlewareArgs } from '@slack/bolt';
import { answerMessage, type SurfaceDeps } from './delivery.js';
import { parseMention } from './incoming.js';

/** `app_mention` in a channel: answer in the thread of the mentioning message. */
export function mentionListener(deps: SurfaceDeps) {
  return async function onMention({ event, body, context }: SlackEventMiddlewareArgs<'app_mention'> & AllMiddlewareArgs): Promise<void> {
    // Bot posts and message subtypes (edits, deletions) are not questions; `file_share` is a user's message with files.
    if (event.bot_id || (event.subtype !== undefined && event.subtype !== 'file_share')) return;
    const message = parseMention(event, { teamId: context.teamId, enterpriseId: context.enterpriseId, sharedExternally: body.is_ext_shared_channel });
    if (!message) {
      deps.logger.debug({ eventTs: event.event_ts }, 'ignoring a malformed app_mention');
      return;
    }
    await answerMessage(message, 'mention', deps);
  };
}
