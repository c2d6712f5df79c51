import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import { copy } from '../../copy.js';
import { isDirectMessage } from '../accessPolicy.js';
import { toMrkdwn, escapeMrkdwnWithin } from '../render.js';
import { postOnce } from '../postOnce.js';
import { classifySlackError } from '../slackErrors.js';
import { SLACK_TEXT_LIMIT } from '../split.js';
import { commandKey, firstDelivery, type SurfaceDeps } from './delivery.js';
import { handlePrompt } from './handlePrompt.js';
import { parseCommand } from './incoming.js';

/** The slash command: ack at once (with the refusal, if the access policy refuses), post the question in the channel, answer in its thread. */
export function askCommandListener(deps: SurfaceDeps) {
  return async function onAskCommand({ body, ack, respond }: SlackCommandMiddlewareArgs & AllMiddlewareArgs): Promise<void> {
    const command = parseCommand(body);
    if (!command) {
      await ack();
      deps.logger.debug({ command: body.command }, 'ignoring a malformed slash command');
      return;
    }
    if (!(await firstDelivery(deps, commandKey(command.teamId, command.triggerId)))) {
      await ack();
      return;
    }
    // The command's own payload settles who is asking (its team is the bot's: index.ts drops the others), so nothing
    // is looked up and the refusal fits in the ack: no API call to fail, and it shows even where the bot is not a
    // member (chat.postEphemeral would answer not_in_channel there).
    const { teamId, channel, userId } = command;
    const refusal = await deps.access.refusal({ channel, isDm: isDirectMessage(channel), userId, home: { teamId }, asker: { teamId } });
    if (refusal) {
      deps.logger.info({ channel, refusal }, 'not answering: the access policy refuses this question');
      await ack({ response_type: 'ephemeral', text: deps.access.explain(refusal) });
      return;
    }
    if (!command.text.trim()) {
      await ack({ response_type: 'ephemeral', text: toMrkdwn(copy.usage(deps.slashCommand)) });
      return;
    }
    await ack();
    // The echo shows names, so they are looked up first (after the ack: Slack waits only 3 s for it), bounded
    // like every conversion (SlackDirectory.lookUp); the answer converts the same Slack text again from the cache.
    const question = await deps.directory.plainText(command.text);
    if (!question) {
      await respond({ response_type: 'ephemeral', text: toMrkdwn(copy.usage(deps.slashCommand)) });
      return;
    }
    let threadTs: string;
    try {
      threadTs = await postOnce(deps.slack, deps.logger, { channel: command.channel }, { text: echoOf(command.userId, question) });
    } catch (error) {
      const failure = classifySlackError(error);
      deps.logger.warn({ channel: command.channel, failure }, 'could not post the question for a slash command');
      const cannotPost = failure.kind === 'gone';
      await respond({ response_type: 'ephemeral', text: toMrkdwn(cannotPost ? copy.notInChannel(deps.slashCommand) : copy.unavailable) });
      return;
    }
    // Claude gets the whole question; only the echo is shortened.
    await handlePrompt({ teamId, channel, threadTs, userId, text: command.text, source: 'command', ts: threadTs }, deps);
  };
}

/**
 * The question as posted in the channel: the plain text the user typed, escaped for mrkdwn once (so Slack
 * shows `a < b` and pings no one), shortened with "…" so the post fits one Slack message (split.ts).
 */
function echoOf(userId: string, question: string): string {
  const room = SLACK_TEXT_LIMIT - copy.commandQuestion(userId, '').length;
  return copy.commandQuestion(userId, escapeMrkdwnWithin(question, room));
}
