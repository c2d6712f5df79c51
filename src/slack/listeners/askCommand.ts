import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import { copy } from '../../copy.js';
import { toMrkdwn, escapeMrkdwn } from '../render.js';
import { classifySlackError } from '../slackErrors.js';
import { handlePrompt, type ListenerDeps } from './handlePrompt.js';

/** The slash command: ack at once, post the question in the channel, answer in its thread. */
export function askCommandListener(deps: ListenerDeps) {
  return async function onAskCommand({ command, ack, respond }: SlackCommandMiddlewareArgs & AllMiddlewareArgs): Promise<void> {
    const question = command.text.trim();
    if (!question) {
      await ack({ response_type: 'ephemeral', text: toMrkdwn(copy.usage(deps.slashCommand)) });
      return;
    }
    await ack();
    let threadTs: string;
    try {
      const posted = await deps.web.chat.postMessage({
        channel: command.channel_id,
        text: copy.commandQuestion(command.user_id, escapeMrkdwn(question)),
      });
      threadTs = posted.ts!;
    } catch (error) {
      const failure = classifySlackError(error);
      deps.logger.warn({ channel: command.channel_id, failure }, 'could not post the question for a slash command');
      const cannotPost = failure.kind === 'gone';
      await respond({ response_type: 'ephemeral', text: toMrkdwn(cannotPost ? copy.notInChannel(deps.slashCommand) : copy.unavailable) });
      return;
    }
    await handlePrompt(
      { teamId: command.team_id, channel: command.channel_id, threadTs, userId: command.user_id, text: question, source: 'command' },
      deps,
    );
  };
}
