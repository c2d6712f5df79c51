import type { WebClient } from '@slack/web-api';
import { copy } from '../copy.js';
import { STOP_ACTION_ID } from './answerBlocks.js';
import { toMrkdwn } from './render.js';
import { compareTs } from './slackTs.js';

/** What a reply's first post shows before any of the answer: the placeholder, or the queued line. */
const STATUS_POSTS = new Set([toMrkdwn(copy.thinking), toMrkdwn(copy.queued)]);
const STILL_WRITING = toMrkdwn(copy.stillWriting);

/** Where an answer's messages are: its thread and its first message (the placeholder). */
export interface AnswerPlace {
  channel: string;
  threadTs: string;
  replyTs: string;
}

/** What Slack shows of an answer that starts at a known message (one orphaned by a crash). */
export interface ShownAnswer {
  /**
   * True when Slack shows the answer as finished: its first message is still there and none of the bot's
   * messages from it on in the thread shows a status post (the placeholder, the queued line), the "…still
   * writing" mark or the Stop button (an unfinished version carries one of them; a thinking line only the
   * Stop button) (a later answer of the same thread still streaming also counts as
   * unfinished: in doubt, the answer is given again).
   */
  finalShown: boolean;
  /**
   * The answer's further messages (its continuation), oldest first: the same bot's messages after the first
   * one, up to the next question a person asked in the thread (a mention of the bot, or any message of a
   * person in a DM), so a later answer of the thread is never taken for part of this one.
   */
  continuation: string[];
}

/**
 * Reads how Slack shows the answer that starts at `replyTs`, from one page of `conversations.replies`
 * (Tier 3, `oldest` = replyTs); a longer tail counts as unfinished. A native stream Slack still holds open was
 * cut off mid-answer: it is stopped (chat.update cannot edit it until then) and counts as unfinished. Rejects
 * when Slack cannot be asked.
 */
export async function readAnswer(web: WebClient, { channel, threadTs, replyTs }: AnswerPlace): Promise<ShownAnswer> {
  // Slack answers message_not_in_streaming_state for any other message, and for a stream already stopped.
  const wasStreaming = await web.chat.stopStream({ channel, ts: replyTs }).then(
    () => true,
    () => false,
  );
  if (wasStreaming) return { finalShown: false, continuation: [] };
  const page = await web.conversations.replies({ channel, ts: threadTs, oldest: replyTs, inclusive: true, limit: 200 });
  const messages = (page.messages ?? []).filter((message) => message.ts && compareTs(message.ts, replyTs) >= 0);
  const first = messages.find((message) => message.ts === replyTs);
  if (!first?.bot_id) return { finalShown: false, continuation: [] };
  const ours = messages.filter((message) => message.bot_id);
  const finalShown = !page.has_more && !ours.some(unfinished);
  const continuation: string[] = [];
  for (const message of messages) {
    if (message.ts === replyTs) continue;
    if (!message.bot_id && (channel.startsWith('D') || (first.user && message.text?.includes(`<@${first.user}`)))) break;
    if (message.bot_id === first.bot_id) continuation.push(message.ts!);
  }
  return { finalShown, continuation };
}

/** Whether a message of the bot's shows an answer still being written (see ShownAnswer.finalShown). */
function unfinished({ text = '', blocks = [] }: { text?: string; blocks?: { type?: string; elements?: { action_id?: string }[] }[] }): boolean {
  const stoppable = blocks.some((block) => block.type === 'actions' && block.elements?.some((element) => element.action_id === STOP_ACTION_ID));
  return STATUS_POSTS.has(text) || text.includes(STILL_WRITING) || stoppable;
}
