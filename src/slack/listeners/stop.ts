import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs, SlackEventMiddlewareArgs } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { copy } from '../../copy.js';
import type { Conversation } from '../../conversation.js';
import type { StopRelay, StopRequest } from '../../coordination/stopRelay.js';
import type { Logger } from '../../logger.js';
import { classifySlackError } from '../slackErrors.js';

/** What a Stop needs: the answers in flight, the relay to the instance running the answer, the client that tells a non-asker, the log. */
export interface StopDeps {
  conversation: Conversation;
  stops: StopRelay;
  web: WebClient;
  logger: Logger;
}

/**
 * Applies a Stop in this instance (the relay's handler): stops the thread's answer if it runs here and the
 * user may stop it; a user who may not gets an ephemeral saying whose answer it is. An instance not running
 * the answer does nothing, and so does a Stop after the answer ended.
 */
export async function applyStop({ teamId, channel, threadTs, userId, anyone, messageTs }: StopRequest, { conversation, web, logger }: Omit<StopDeps, 'stops'>): Promise<void> {
  const stopped = conversation.stop({ teamId, channel, threadTs }, userId, { anyone, messageTs });
  // With several instances every one hears every Stop: only the one running the answer has news.
  const log = { teamId, channel, threadTs, user: userId, result: stopped.result };
  if (stopped.result === 'not_running') logger.debug(log, 'Stop pressed');
  else logger.info(log, 'Stop pressed');
  if (stopped.result !== 'not_asker') return;
  try {
    await web.chat.postEphemeral({ channel, user: userId, thread_ts: threadTs, text: copy.notYourAnswer(stopped.askerId) });
  } catch (error) {
    logger.warn({ channel, failure: classifySlackError(error) }, 'could not tell the user whose answer it is');
  }
}

/**
 * Slack's own Stop on a natively streamed answer (`agent_session_stopped`, sent only to apps subscribed to it:
 * https://docs.slack.dev/reference/events/agent_session_stopped). Slack shows that button to the answer's
 * recipient only, so whoever sent it may stop. The answer's reply moves the session back to `active`.
 */
export function agentSessionStoppedListener({ stops }: StopDeps) {
  return async function onAgentSessionStopped({ event, body }: SlackEventMiddlewareArgs<'agent_session_stopped'> & AllMiddlewareArgs): Promise<void> {
    const messageTs = event.streaming_message_ts ?? [];
    await stops.publish({ teamId: body.team_id, channel: event.channel, threadTs: event.thread_ts, userId: event.user, anyone: true, messageTs });
  };
}

/**
 * The Stop button under an answer being written (edits transport): acked at once; only the asker may stop
 * it, anyone else gets an ephemeral saying whose answer it is. A click after the answer ended does nothing.
 */
export function stopButtonListener({ stops }: StopDeps) {
  return async function onStopButton({ ack, body }: SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs): Promise<void> {
    await ack();
    const channel = body.container.channel_id ?? body.channel?.id;
    const threadTs = body.container.thread_ts ?? body.message?.thread_ts ?? body.container.message_ts;
    const teamId = body.team?.id ?? body.user.team_id;
    const user = body.user.id;
    if (typeof channel !== 'string' || typeof threadTs !== 'string' || typeof teamId !== 'string') return;
    const messageTs = body.container.message_ts ?? body.message?.ts;
    await stops.publish({ teamId, channel, threadTs, userId: user, anyone: false, messageTs: messageTs ? [messageTs] : [] });
  };
}
