import type { AllMiddlewareArgs, SlackEventMiddlewareArgs } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { SuggestedPrompt } from '../../config.js';
import { copy } from '../../copy.js';
import type { Logger } from '../../logger.js';
import { classifySlackError } from '../slackErrors.js';

/** What the Messages tab needs: the prompts to pin (SUGGESTED_PROMPTS) and a client whose 429s throw at once. */
export interface MessagesTabDeps {
  /** Best effort: a 429 must throw, not pause the client that posts answers (slackClients.ts). */
  client: WebClient;
  /** None: nothing is pinned (ALLOW_DMS=false). */
  prompts: readonly SuggestedPrompt[];
  logger: Logger;
}

/**
 * A user opened the bot's Messages tab (`app_home_opened` with `tab: 'messages'`): pin the suggested prompts
 * above the composer of that user's DM. For an `agent_view` app Slack's docs call
 * `assistant.threads.setSuggestedPrompts` with the DM's `channel_id` and no `thread_ts` (with one, the call
 * silently fails): https://docs.slack.dev/reference/methods/assistant.threads.setSuggestedPrompts,
 * https://docs.slack.dev/tools/bolt-js/concepts/adding-agent-features. The call is idempotent, so a
 * redelivered event needs no de-duplication. A refusal (missing scope, feature_disabled, 429) is logged once:
 * the tab still works, without the prompts.
 */
export function messagesTabListener({ client, prompts, logger }: MessagesTabDeps) {
  return async function onAppHomeOpened({ event }: SlackEventMiddlewareArgs<'app_home_opened'> & AllMiddlewareArgs): Promise<void> {
    if (event.tab !== 'messages' || prompts.length === 0) return;
    try {
      await client.assistant.threads.setSuggestedPrompts({ channel_id: event.channel, title: copy.suggestedPromptsTitle, prompts: [...prompts] });
    } catch (error) {
      logger.warn({ channel: event.channel, failure: classifySlackError(error) }, 'could not set the suggested prompts of the Messages tab');
    }
  };
}
