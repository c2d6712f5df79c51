import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs, SlackEventMiddlewareArgs } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { copy } from '../../copy.js';
import type { Conversation } from '../../conversation.js';
import type { Logger } from '../../logger.js';
import { classifySlackError } from '../slackErrors.js';

/** What a Stop needs: the answers in flight, the client that tells a non-asker, the log. */
export interface StopDeps {
  conversation: Conversation;
  web: WebClient;
  logger: Logger;
}

/**
 * Slack's own Stop on a natively streamed answer (`agent_session_stopped`, sent only to apps subscribed to it:
 * https://docs.slack.dev/reference/events/agent_session_stopped). Slack shows that button to the answer's
 * recipient only, so whoever sent it may stop. The answer's reply moves the session back to `active`.
 */
export function agentSessionStoppedListener({ conversation, logger }: StopDeps) {
  return async function onAgentSessionStopped({ event, body }: SlackEventMiddlewareArgs<'agent_session_stopped'> & AllMiddlewareArgs): Promise<void> {
    const thread = { teamId: body.team_id, channel: event.channel, threadTs: event.thread_ts };
    const { result } = conversation.stop(thread, event.user, { anyone: true });
    logger.info({ ...thread, user: event.user, result }, 'Stop pressed (agent session)');
  };
}

/**
 * The Stop button under an answer being written (edits transport): acked at once; only the asker may stop
 * it, anyone else gets an ephemeral saying whose answer it is. A click after the answer ended does nothing.
 */
export function stopButtonListener({ conversation, web, logger }: StopDeps) {
  return async function onStopButton({ ack, body }: SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs): Promise<void> {
    await ack();
    const channel = body.container.channel_id ?? body.channel?.id;
    const threadTs = body.container.thread_ts ?? body.message?.thread_ts ?? body.container.message_ts;
    const teamId = body.team?.id ?? body.user.team_id;
    const user = body.user.id;
    if (typeof channel !== 'string' || typeof threadTs !== 'string' || typeof teamId !== 'string') return;
    const thread = { teamId, channel, threadTs };
    const stopped = conversation.stop(thread, user);
    logger.info({ ...thread, user, result: stopped.result }, 'Stop pressed (button)');
    if (stopped.result !== 'not_asker') return;
    try {
      // Already mrkdwn with a live mention of the asker (a Slack user id): toMrkdwn would make `<@…>` inert text.
      await web.chat.postEphemeral({ channel, user, thread_ts: threadTs, text: copy.notYourAnswer(stopped.askerId) });
    } catch (error) {
      logger.warn({ channel, failure: classifySlackError(error) }, 'could not tell the user whose answer it is');
    }
  };
}
