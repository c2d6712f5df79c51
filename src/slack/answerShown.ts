import type { WebClient } from '@slack/web-api';
import { copy } from '../copy.js';
import { toMrkdwn } from './render.js';

const PLACEHOLDER = toMrkdwn(copy.thinking);
const STILL_WRITING = toMrkdwn(copy.stillWriting);

/** Where an answer's messages are: its thread and its first message (the placeholder). */
export interface AnswerPlace {
  channel: string;
  threadTs: string;
  replyTs: string;
}

/**
 * True when Slack shows the answer that starts at `replyTs` as finished: the message is still there and
 * none of the bot's messages from it on in the thread shows the placeholder or the "…still writing" mark
 * that every unfinished version carries (a later answer of the same thread still streaming also counts as
 * unfinished: in doubt, the answer is given again). Reads one page of `conversations.replies` (Tier 3,
 * `oldest` = replyTs); a longer tail counts as unfinished. Rejects when Slack cannot be asked.
 */
export async function finalShown(web: WebClient, { channel, threadTs, replyTs }: AnswerPlace): Promise<boolean> {
  const page = await web.conversations.replies({ channel, ts: threadTs, oldest: replyTs, inclusive: true, limit: 200 });
  if (page.has_more) return false;
  const ours = (page.messages ?? []).filter((message) => message.bot_id && message.ts && compareTs(message.ts, replyTs) >= 0);
  if (!ours.some((message) => message.ts === replyTs)) return false;
  return ours.every(({ text = '' }) => text !== PLACEHOLDER && !text.includes(STILL_WRITING));
}

/** Orders Slack timestamps ("seconds.micros") numerically. */
function compareTs(a: string, b: string): number {
  const [aSeconds = '0', aMicros = '0'] = a.split('.');
  const [bSeconds = '0', bMicros = '0'] = b.split('.');
  return Number(aSeconds) - Number(bSeconds) || Number(aMicros.padEnd(6, '0')) - Number(bMicros.padEnd(6, '0'));
}
