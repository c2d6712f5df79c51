import type { WebClient } from '@slack/web-api';
import type { Conversation, Prompt } from '../../conversation.js';
import { copy } from '../../copy.js';
import type { Logger } from '../../logger.js';
import { ThreadBusyError } from '../../threadQueue.js';
import { toMrkdwn } from '../render.js';

export interface ListenerDeps {
  conversation: Conversation;
  web: WebClient;
  logger: Logger;
  slashCommand: string;
}

/** Answers a prompt from any surface (each surface has already answered an empty question with the usage hint). */
export async function handlePrompt(prompt: Prompt, deps: ListenerDeps): Promise<void> {
  const { conversation, web, logger } = deps;
  const context = { teamId: prompt.teamId, channel: prompt.channel, threadTs: prompt.threadTs, source: prompt.source };
  try {
    await conversation.answer(prompt);
  } catch (error) {
    if (error instanceof ThreadBusyError) {
      await web.chat
        .postEphemeral({ channel: prompt.channel, user: prompt.userId, thread_ts: prompt.threadTs, text: toMrkdwn(copy.busyThread) })
        .catch((ephemeralError: unknown) => logger.warn({ ...context, err: ephemeralError }, 'could not tell the user the thread is busy'));
      return;
    }
    logger.error({ ...context, err: error }, 'answer failed unexpectedly');
  }
}

