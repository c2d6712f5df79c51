import type { AllMiddlewareArgs, BlockFeedbackButtonsAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { copy } from '../../copy.js';
import type { Logger } from '../../logger.js';
import type { BotMetrics } from '../../metrics/botMetrics.js';
import type { FeedbackValue } from '../answerBlocks.js';
import { toMrkdwn } from '../render.js';
import { classifySlackError } from '../slackErrors.js';

/** What a feedback click needs: the client that thanks the clicker, the model the answers come from (CLAUDE_MODEL), the log, the metrics. */
export interface FeedbackDeps {
  web: WebClient;
  model: string;
  logger: Logger;
  metrics: Pick<BotMetrics, 'feedbackClicked'>;
}

const THANKS = toMrkdwn(copy.feedback.thanks);
const VALUES: readonly string[] = ['positive', 'negative'] satisfies FeedbackValue[];

/**
 * A 👍/👎 click under an answer (`block_actions` from `feedback_buttons`): acked at once, logged as one
 * `feedback` info line and counted, and thanked with an ephemeral to the clicker in the thread. The answer is never
 * edited. A value the bot never sent is ignored (acked, not logged as feedback).
 */
export function feedbackListener({ web, model, logger, metrics }: FeedbackDeps) {
  return async function onFeedback({ ack, body, action }: SlackActionMiddlewareArgs<BlockFeedbackButtonsAction> & AllMiddlewareArgs): Promise<void> {
    await ack();
    const channel = body.container.channel_id ?? body.channel?.id;
    const messageTs = body.container.message_ts ?? body.message?.ts;
    const threadTs = body.container.thread_ts ?? body.message?.thread_ts ?? messageTs;
    const user = body.user.id;
    if (!VALUES.includes(action.value) || typeof channel !== 'string') {
      logger.debug({ channel, value: action.value }, 'ignoring a feedback click the bot did not offer');
      return;
    }
    logger.info({ team: body.team?.id, channel, messageTs, user, value: action.value, model }, 'feedback');
    metrics.feedbackClicked(action.value, body.team?.id);
    try {
      await web.chat.postEphemeral({ channel, user, ...(threadTs ? { thread_ts: threadTs } : {}), text: THANKS });
    } catch (error) {
      logger.warn({ channel, failure: classifySlackError(error) }, 'could not thank the user for their feedback');
    }
  };
}
