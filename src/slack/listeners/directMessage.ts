import type { AllMiddlewareArgs, SlackEventMiddlewareArgs } from '@slack/bolt';
import { answerMessage, type SurfaceDeps } from './delivery.js';
import { parseDirectMessage } from './incoming.js';

/** A user's own message in a DM with the bot (`message.im`): answer in that message's thread. */
export function directMessageListener(deps: SurfaceDeps) {
  return async function onDirectMessage({ message, body, context }: SlackEventMiddlewareArgs<'message'> & AllMiddlewareArgs): Promise<void> {
    // Edits, deletions, joins and bot posts arrive with a subtype or bot_id: only plain user messages (with or
    // without files) are questions.
    if (message.channel_type !== 'im') return;
    if (message.subtype !== undefined && message.subtype !== 'file_share') return;
    if (('bot_id' in message && message.bot_id) || message.user === context.botUserId) return;
    const incoming = parseDirectMessage(message, { teamId: context.teamId, enterpriseId: context.enterpriseId, sharedExternally: body.is_ext_shared_channel });
    if (!incoming) {
      deps.logger.debug({ eventTs: message.event_ts }, 'ignoring a malformed direct message');
      return;
    }
    await answerMessage(incoming, 'dm', deps);
  };
}
