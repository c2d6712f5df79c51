import type { AllMiddlewareArgs, SlackEventMiddlewareArgs } from '@slack/bolt';
import { handlePrompt, stripMention, type ListenerDeps } from './handlePrompt.js';

/** A user's own message in a DM with the bot (`message.im`): answer in that message's thread. */
export function directMessageListener(deps: ListenerDeps) {
  return async function onDirectMessage({ message, context }: SlackEventMiddlewareArgs<'message'> & AllMiddlewareArgs): Promise<void> {
    // Edits, deletions, joins and bot posts arrive with a subtype or bot_id: only plain user messages are questions.
    if (message.channel_type !== 'im' || message.subtype !== undefined || message.bot_id || !message.user) return;
    if (message.user === context.botUserId) return;
    await handlePrompt(
      {
        teamId: context.teamId ?? message.team ?? '',
        channel: message.channel,
        threadTs: message.thread_ts ?? message.ts,
        userId: message.user,
        text: stripMention(message.text ?? '', context.botUserId),
        source: 'dm',
      },
      deps,
    );
  };
}
