// Found by attacking the native transport: Stop semantics on both transports. Each test asserts what a user should see.
import type { ButtonAction } from '@slack/bolt';
import { copy } from '../../src/copy.js';
import type { StoredMessage } from '../fakes/fakeSlack.js';
import { agentSessionStoppedEvent, blockActionsPayload, deliverEvent, deliverInteraction, type MentionEvent } from '../fakes/slackRequests.js';
import { SIGNING_SECRET, startTestBot, type TestBot } from '../harness.js';

const CHANNEL = 'C123';
const STOPPED = copy.notes.stopped;

function replies(t: TestBot, threadTs: string): StoredMessage[] {
  return t.slack.threadMessages(CHANNEL, threadTs).filter((message) => !message.deleted);
}

async function clickStop(t: TestBot, messageTs: string, threadTs: string, user: string): Promise<void> {
  const action = { type: 'button' as const, action_id: 'answer_stop', block_id: 'stop', text: { type: 'plain_text' as const, text: copy.stopButton }, value: 'stop' };
  const payload = blockActionsPayload<ButtonAction>(action, { messageTs, channel: CHANNEL, threadTs, user });
  expect((await deliverInteraction(t.url, SIGNING_SECRET, payload)).status).toBe(200);
}

const parts = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `${i === 0 ? '' : ' '}${tag}${i}.`);

describe('a Stop meant for an earlier answer', () => {
  let t: TestBot;
  afterEach(() => t.stop());

  test.each(['edits', 'native'])(
    '%s: a click on answer 1 (already finished) delivered while answer 2 of the same thread runs must not stop answer 2',
    async (mode) => {
      t = await startTestBot({ SLACK_STREAMING: mode });
      const first = parts(3, 'A');
      const second = parts(30, 'B');
      t.claude.enqueue({ chunks: first, delayMs: 50 }, { chunks: second, delayMs: 150 });
      const q1: MentionEvent = await t.mention({ text: '<@UBOT> one' });
      await t.mention({ text: '<@UBOT> two', thread_ts: q1.ts });
      await t.slack.waitFor(() => replies(t, q1.ts).length === 2 && (replies(t, q1.ts)[1]!.text.includes('B2') ?? false), 10_000);
      const answer1 = replies(t, q1.ts)[0]!;
      expect(answer1.text).toBe(first.join(''));
      // The user clicked answer 1's Stop just as it finished (or Slack delivered the click late).
      if (mode === 'edits') await clickStop(t, answer1.ts, q1.ts, 'U123');
      else {
        const response = await deliverEvent(
          t.url,
          SIGNING_SECRET,
          agentSessionStoppedEvent({ channel: CHANNEL, thread_ts: q1.ts, user: 'U123', streaming_message_ts: [answer1.ts] }),
        );
        expect(response.status).toBe(200);
      }
      await t.idle(20_000);
      const answer2 = replies(t, q1.ts)[1]!;
      expect(answer2.text).toBe(second.join(''));
    },
    30_000,
  );
});

describe('Stop during thinking, twice, and racing the final (native)', () => {
  let t: TestBot;
  afterEach(() => t.stop());

  test('Stop while Claude only thinks: the message ends with the Stopped note, stream completed, session active, one message', async () => {
    t = await startTestBot({ SLACK_STREAMING: 'native', THINKING_DISPLAY: 'summary' });
    t.claude.enqueue({ thinking: { chunks: Array.from({ length: 60 }, (_, i) => `Thought ${i}. `), delayMs: 200 }, chunks: ['Never ', 'shown.'] });
    const event = await t.mention();
    await t.slack.waitFor(() => t.slack.callsOf('chat.appendStream').length >= 1, 10_000);
    const ts = t.slack.callsOf('chat.startStream')[0]!.response.ts as string;
    const fields = t.slack.stopStreamByUser(CHANNEL, ts);
    await deliverEvent(t.url, SIGNING_SECRET, agentSessionStoppedEvent(fields));
    await deliverEvent(t.url, SIGNING_SECRET, agentSessionStoppedEvent(fields));
    await t.idle();
    await t.slack.waitFor(() => t.slack.agentSession(CHANNEL, event.ts)?.status === 'active');
    const [reply, ...more] = replies(t, event.ts);
    expect(more).toEqual([]);
    expect(reply!.text.trim()).toBe(STOPPED);
    expect(reply!.stream?.state).toBe('completed');
    // The thinking task must not be left in_progress.
    const chunks = t.slack.calls.filter((c) => c.params.ts === ts || c.response?.ts === ts).flatMap((c) => (c.params.chunks as { type: string; status?: string }[] | undefined) ?? []);
    expect(chunks.filter((c) => c.type === 'task_update').at(-1)?.status).toBe('complete');
  });

  test('Stop after thinking, Slack refuses stopStream after its Stop (stopped_by_user): one message, note, no in_progress task', async () => {
    t = await startTestBot({ SLACK_STREAMING: 'native', THINKING_DISPLAY: 'summary' });
    t.slack.stopStreamAfterUserStop = 'stopped_by_user';
    t.claude.enqueue({ thinking: { chunks: Array.from({ length: 60 }, (_, i) => `Thought ${i}. `), delayMs: 200 }, chunks: ['Never ', 'shown.'] });
    const event = await t.mention();
    await t.slack.waitFor(() => t.slack.callsOf('chat.appendStream').length >= 1, 10_000);
    const ts = t.slack.callsOf('chat.startStream')[0]!.response.ts as string;
    await deliverEvent(t.url, SIGNING_SECRET, agentSessionStoppedEvent(t.slack.stopStreamByUser(CHANNEL, ts)));
    await t.idle();
    await t.slack.waitFor(() => t.slack.agentSession(CHANNEL, event.ts)?.status === 'active');
    const [reply, ...more] = replies(t, event.ts);
    expect(more).toEqual([]);
    expect(reply!.text.trim()).toBe(STOPPED);
  });

  test('Stop races the final: Slack stops the stream just as the final stopStream goes out; one message, whole text kept', async () => {
    t = await startTestBot({ SLACK_STREAMING: 'native' });
    t.slack.stopStreamAfterUserStop = 'stopped_by_user';
    const chunks = parts(10, 'C');
    t.claude.enqueue({ chunks, delayMs: 40 });
    const event = await t.mention();
    await t.slack.waitFor(() => t.slack.callsOf('chat.startStream').length === 1);
    const ts = t.slack.callsOf('chat.startStream')[0]!.response.ts as string;
    // Slack's Stop lands just before the final.
    t.slack.methodLatencyMs.set('chat.stopStream', 300);
    await t.slack.waitFor(() => t.claude.requests[0]?.endedAt !== undefined, 10_000);
    const fields = t.slack.stopStreamByUser(CHANNEL, ts);
    await deliverEvent(t.url, SIGNING_SECRET, agentSessionStoppedEvent(fields));
    await t.idle();
    await t.slack.waitFor(() => t.slack.agentSession(CHANNEL, event.ts)?.status === 'active');
    const [reply, ...more] = replies(t, event.ts);
    expect(more).toEqual([]);
    expect(reply!.text.replace(/\u200b/g, '')).toContain(chunks.join(''));
  });
});

describe('Stop button during thinking, clicked twice (edits)', () => {
  let t: TestBot;
  afterEach(() => t.stop());

  test('two clicks while Claude thinks: one final, the note, no Stop button left, session active', async () => {
    t = await startTestBot({ SLACK_STREAMING: 'edits', THINKING_DISPLAY: 'summary' });
    t.claude.enqueue({ thinking: { chunks: Array.from({ length: 60 }, (_, i) => `Thought ${i}. `), delayMs: 200 }, chunks: ['Never ', 'shown.'] });
    const event = await t.mention();
    await t.slack.waitFor(() => t.slack.callsOf('chat.update').length >= 1, 10_000);
    const ts = t.slack.callsOf('chat.postMessage')[0]!.response.ts as string;
    await Promise.all([clickStop(t, ts, event.ts, 'U123'), clickStop(t, ts, event.ts, 'U123')]);
    await t.idle();
    await t.slack.waitFor(() => t.slack.agentSession(CHANNEL, event.ts)?.status === 'active');
    const [reply, ...more] = replies(t, event.ts);
    expect(more).toEqual([]);
    expect(reply!.text.trim()).toBe(STOPPED);
    expect(JSON.stringify(reply!.blocks ?? [])).not.toContain('answer_stop');
    expect(t.logs.filter((line) => JSON.parse(line).level >= 50)).toEqual([]);
  });
});

