// The naive baseline: the seed chapter's pattern moved to Slack as most first attempts do it, one
// chat.update per streamed chunk, queued through p-throttle so that Slack sees one edit per interval.
import Anthropic from '@anthropic-ai/sdk';
import { WebClient } from '@slack/web-api';
import pThrottle from 'p-throttle';

export interface NaiveTarget {
  channel: string;
  threadTs: string;
  question: string;
}

/** Answers one question the naive way; resolves when its last queued edit has been sent. */
export async function naiveAnswer(web: WebClient, anthropic: Anthropic, target: NaiveTarget, intervalMs: number): Promise<void> {
  const placeholder = await web.chat.postMessage({ channel: target.channel, thread_ts: target.threadTs, text: 'Thinking…' });
  const edit = pThrottle({ limit: 1, interval: intervalMs })((text: string) =>
    web.chat.update({ channel: target.channel, ts: placeholder.ts!, text }),
  );
  const edits: Promise<unknown>[] = [];
  let text = '';
  const stream = anthropic.messages.stream({
    model: 'claude-sonnet-5-5',
    max_tokens: 2048,
    messages: [{ role: 'user', content: target.question }],
  });
  stream.on('text', (delta) => {
    text += delta;
    edits.push(edit(text));
  });
  await stream.finalMessage();
  edits.push(edit(text));
  await Promise.all(edits);
}
