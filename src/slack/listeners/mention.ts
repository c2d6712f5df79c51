import type { AllMiddlewareArgs, SlackEventMiddlewareArgs } from '@slack/bolt';
import { handlePrompt, stripMention, type ListenerDeps } from './handlePrompt.js';

/** `app_mention` in a channel: answer in the thread of the mentioning message. */
export function mentionListener(deps: ListenerDeps) {
  return async function onMention({ event, context }: SlackEventMiddlewareArgs<'app_mention'> & AllMiddlewareArgs): Promise<void> {
    if (event.bot_id || event.subtype || !event.user) return;
    await handlePrompt(
      {
        teamId: context.teamId ?? event.team ?? '',
        channel: event.channel,
        threadTs: event.thread_ts ?? event.ts,
        userId: event.user,
        text: stripMention(event.text, context.botUserId),
        source: 'mention',
      },
      deps,
    );
  };
}
