// Stop (issue #12 §2): Slack's own Stop on a native stream, and the Stop button on the edits path, through the
// real bot between the fakes. A stop cancels the HTTP stream to Claude, keeps the text so far with the "Stopped"
// note, stores that text in the thread's history, and leaves the agent session `active`.
import type { ButtonAction } from '@slack/bolt';
import { copy } from '../../src/copy.js';
import type { StoredMessage } from '../fakes/fakeSlack.js';
import type { RecordedRequest, StreamScript } from '../fakes/fakeAnthropic.js';
import { agentSessionStoppedEvent, blockActionsPayload, deliverEvent, deliverInteraction, type MentionEvent } from '../fakes/slackRequests.js';
import { SIGNING_SECRET, startTestBot, type TestBot } from '../harness.js';

const STOPPED = copy.notes.stopped;
const CHANNEL = 'C123';
const ASKER = 'U123';

/** A slow answer: 40 short sentences, 300 ms apart (12 s in all), so a stop always lands mid-stream. */
const PARTS = Array.from({ length: 40 }, (_, i) => `${i === 0 ? '' : ' '}Part ${i}.`);
const FULL = PARTS.join('');
const SLOW: StreamScript = { chunks: PARTS, delayMs: 300 };
/**
 * Claude goes silent after four sentences (until the bot's 60 s idle watchdog): nothing is appended after the
 * user's Stop, so only the agent_session_stopped event can stop the answer in time.
 */
const SILENT_AFTER_FOUR: StreamScript = { chunks: PARTS, delayMs: 100, fail: { afterChunks: 4, how: 'hang' } };

interface Block {
  type: string;
  text?: { text: string };
  elements?: { action_id?: string }[];
}

const blocksOf = (blocks: unknown[] | undefined): Block[] => (blocks ?? []) as Block[];
const hasStopButton = (blocks: unknown[] | undefined) =>
  blocksOf(blocks).some((block) => block.type === 'actions' && block.elements?.some((element) => element.action_id === 'answer_stop'));

/** The bot's messages in the question's thread, oldest first, deleted ones left out. */
function replies(t: TestBot, event: MentionEvent): StoredMessage[] {
  return t.slack.threadMessages(CHANNEL, event.ts).filter((message) => !message.deleted);
}

/** Asks for `script`'s answer and waits until Slack shows its third sentence; returns the question and the reply message. */
async function askAndWaitForText(t: TestBot, script = SLOW): Promise<{ event: MentionEvent; reply: StoredMessage }> {
  t.claude.enqueue(script);
  const event = await t.mention({ text: '<@UBOT> count slowly' });
  await t.slack.waitFor(() => replies(t, event)[0]?.text.includes('Part 2.') ?? false, 10_000);
  return { event, reply: replies(t, event)[0]! };
}

/** The user's Stop as Slack reports it: `agent_session_stopped`, signed. */
async function deliverStopped(t: TestBot, fields: ReturnType<TestBot['slack']['stopStreamByUser']>): Promise<void> {
  const response = await deliverEvent(t.url, SIGNING_SECRET, agentSessionStoppedEvent(fields));
  expect(response.status).toBe(200);
}

/** A click on the Stop button of `messageTs`, by `user`, signed as Slack POSTs block_actions. */
async function clickStop(t: TestBot, event: MentionEvent, messageTs: string, user: string): Promise<void> {
  const action = { type: 'button' as const, action_id: 'answer_stop', block_id: 'stop', text: { type: 'plain_text' as const, text: copy.stopButton }, value: 'stop' };
  const payload = blockActionsPayload<ButtonAction>(action, { messageTs, channel: CHANNEL, threadTs: event.ts, user });
  const response = await deliverInteraction(t.url, SIGNING_SECRET, payload);
  expect(response.status).toBe(200);
}

/** The fake Anthropic saw the bot close the stream's connection before the answer's end, and sent nothing after. */
function expectClaudeCancelled(request: RecordedRequest, stoppedAt: number): void {
  expect(request.clientClosedAt).toBeDefined();
  expect(request.clientClosedAt!).toBeGreaterThanOrEqual(stoppedAt);
  expect(request.chunkTimes.length).toBeLessThan(PARTS.length);
  expect(request.chunkTimes.every((at) => at <= request.clientClosedAt!)).toBe(true);
}

/**
 * Asks a follow-up in the thread and returns the answer history gave Claude for the first question: the
 * assistant turn of the follow-up's request.
 */
async function storedAnswer(t: TestBot, event: MentionEvent): Promise<string> {
  t.claude.enqueue({ chunks: ['Sure.'] });
  await t.mention({ text: '<@UBOT> and then?', thread_ts: event.ts });
  await t.idle();
  const messages = t.claude.requests.at(-1)!.body.messages as { role: string; content: unknown }[];
  const assistant = messages.filter((message) => message.role === 'assistant');
  expect(assistant).toHaveLength(1);
  return typeof assistant[0]!.content === 'string' ? assistant[0]!.content : JSON.stringify(assistant[0]!.content);
}

/** The text so far: a proper prefix of the full answer, ending at a sentence, with at least what was on screen. */
function expectTextSoFar(text: string): void {
  expect(text.startsWith('Part 0. Part 1. Part 2.')).toBe(true);
  expect(FULL.startsWith(text)).toBe(true);
  expect(text.length).toBeLessThan(FULL.length);
}

describe('Stop on a native stream (SLACK_STREAMING=native)', () => {
  let t: TestBot;
  afterEach(() => t.stop());

  test("Slack's Stop and its agent_session_stopped event: Claude's stream is cancelled, the text so far ends Stopped, history keeps it, the session is active", async () => {
    t = await startTestBot({ SLACK_STREAMING: 'native' });
    const { event, reply } = await askAndWaitForText(t, SILENT_AFTER_FOUR);
    const stoppedAt = performance.timeOrigin + performance.now();
    await deliverStopped(t, t.slack.stopStreamByUser(CHANNEL, reply.ts));
    await t.idle();

    // Claude was silent since: no append met the Stop, the event alone stopped the answer.
    expect(t.slack.callsOf('chat.appendStream').filter((call) => call.response.error === 'stopped_by_user')).toEqual([]);
    expectClaudeCancelled(t.claude.requests[0]!, stoppedAt);
    const final = t.slack.messages.get(reply.ts)!;
    // Slack took the stream's end after its own Stop: the note was appended by chat.stopStream.
    expect(final.stream?.state).toBe('completed');
    expect(t.slack.callsOf('chat.update')).toHaveLength(0);
    expect(final.text.endsWith(`\n\n${STOPPED}`)).toBe(true);
    const textSoFar = final.text.slice(0, -`\n\n${STOPPED}`.length);
    expectTextSoFar(textSoFar);
    expect(t.slack.agentSession(CHANNEL, event.ts)?.status).toBe('active');
    expect(t.logs.some((line) => line.includes('"outcome":"stopped"'))).toBe(true);

    expect(await storedAnswer(t, event)).toBe(textSoFar);
  });

  test.each(['message_not_in_streaming_state', 'stopped_by_user', 'internal_error'])(
    'Slack refuses chat.stopStream after its Stop (%s): the note is added with chat.update and the session set active',
    async (refusal) => {
      t = await startTestBot({ SLACK_STREAMING: 'native' });
      t.slack.stopStreamAfterUserStop = refusal;
      const { event, reply } = await askAndWaitForText(t, SILENT_AFTER_FOUR);
      const stoppedAt = performance.timeOrigin + performance.now();
      await deliverStopped(t, t.slack.stopStreamByUser(CHANNEL, reply.ts));
      await t.idle();
      await t.slack.waitFor(() => t.slack.agentSession(CHANNEL, event.ts)?.status === 'active');

      expectClaudeCancelled(t.claude.requests[0]!, stoppedAt);
      const final = t.slack.messages.get(reply.ts)!;
      expect(t.slack.callsOf('chat.update').filter((call) => call.params.ts === reply.ts && call.response.ok)).not.toHaveLength(0);
      expect(final.text.endsWith(`\n\n${STOPPED}`)).toBe(true);
      expectTextSoFar(final.text.slice(0, -`\n\n${STOPPED}`.length));
      expect(hasStopButton(final.blocks)).toBe(false);
      const setStatus = t.slack.callsOf('agents.sessions.setStatus');
      expect(setStatus.map((call) => call.params)).toContainEqual(expect.objectContaining({ channel_id: CHANNEL, thread_ts: event.ts, status: 'active' }));
      expect(replies(t, event)).toHaveLength(1);
    },
  );

  test('no event at all, but an append answers stopped_by_user: the answer is stopped the same way', async () => {
    t = await startTestBot({ SLACK_STREAMING: 'native' });
    const { event, reply } = await askAndWaitForText(t);
    const stoppedAt = performance.timeOrigin + performance.now();
    t.slack.stopStreamByUser(CHANNEL, reply.ts);
    await t.idle();

    expect(t.slack.callsOf('chat.appendStream').some((call) => call.response.error === 'stopped_by_user')).toBe(true);
    expectClaudeCancelled(t.claude.requests[0]!, stoppedAt);
    const final = t.slack.messages.get(reply.ts)!;
    expect(final.text.endsWith(`\n\n${STOPPED}`)).toBe(true);
    const textSoFar = final.text.slice(0, -`\n\n${STOPPED}`.length);
    expectTextSoFar(textSoFar);
    expect(t.slack.agentSession(CHANNEL, event.ts)?.status).toBe('active');
    expect(await storedAnswer(t, event)).toBe(textSoFar);
  });
});

describe('the Stop button (SLACK_STREAMING=edits)', () => {
  let t: TestBot;
  afterEach(() => t.stop());

  test('the placeholder and the streaming message carry the Stop button, with the answer in section blocks', async () => {
    t = await startTestBot({ SLACK_STREAMING: 'edits' });
    const { event, reply } = await askAndWaitForText(t);
    const placeholder = blocksOf(reply.versions[0]!.blocks);
    expect(placeholder.map((block) => block.type)).toEqual(['section', 'actions']);
    expect(placeholder[0]!.text!.text).toBe(reply.versions[0]!.text);
    expect(hasStopButton(reply.versions[0]!.blocks)).toBe(true);

    const streaming = blocksOf(t.slack.messages.get(reply.ts)!.blocks);
    expect(hasStopButton(streaming)).toBe(true);
    expect(streaming.at(-1)!.type).toBe('actions');
    const sections = streaming.filter((block) => block.type === 'section').map((block) => block.text!.text);
    expect(sections.join('\n')).toContain('Part 0. Part 1.');
    await clickStop(t, event, reply.ts, ASKER);
    await t.idle();
  });

  test("the asker's click stops the answer: Claude's stream is cancelled, the final is the text so far + Stopped, no Stop button is left", async () => {
    t = await startTestBot({ SLACK_STREAMING: 'edits' });
    const { event, reply } = await askAndWaitForText(t);
    const stoppedAt = performance.timeOrigin + performance.now();
    await clickStop(t, event, reply.ts, ASKER);
    await t.idle();

    expectClaudeCancelled(t.claude.requests[0]!, stoppedAt);
    const messages = replies(t, event);
    expect(messages).toHaveLength(1);
    const final = messages[0]!;
    expect(final.text.endsWith(`\n\n${STOPPED}`)).toBe(true);
    const textSoFar = final.text.slice(0, -`\n\n${STOPPED}`.length);
    expectTextSoFar(textSoFar);
    for (const message of messages) expect(hasStopButton(message.blocks)).toBe(false);
    // Feedback buttons may follow a stopped answer; if blocks are there, they show the same text.
    const sections = blocksOf(final.blocks).filter((block) => block.type === 'section');
    if (sections.length > 0) expect(sections.map((block) => block.text!.text).join('\n\n')).toBe(final.text);
    expect(t.slack.callsOf('chat.postEphemeral')).toHaveLength(0);
    expect(t.slack.agentSession(CHANNEL, event.ts)?.status).toBe('active');
    expect(await storedAnswer(t, event)).toBe(textSoFar);
  });

  test("another user's click gets an ephemeral naming the asker, and the answer goes on to its end", async () => {
    t = await startTestBot({ SLACK_STREAMING: 'edits' });
    t.slack.addUser({ id: 'U999', name: 'other' });
    const { event, reply } = await askAndWaitForText(t, { chunks: PARTS, delayMs: 100 });
    await clickStop(t, event, reply.ts, 'U999');
    await t.slack.waitFor(() => t.slack.callsOf('chat.postEphemeral').length === 1);
    const ephemeral = t.slack.callsOf('chat.postEphemeral')[0]!;
    expect(ephemeral.params).toMatchObject({ channel: CHANNEL, user: 'U999', thread_ts: event.ts });
    expect(ephemeral.params.text).toContain(`<@${ASKER}>`);
    await t.idle(20_000);

    expect(t.claude.requests[0]!.clientClosedAt).toBeUndefined();
    expect(t.claude.requests[0]!.chunkTimes).toHaveLength(PARTS.length);
    const final = replies(t, event)[0]!;
    expect(final.text).toBe(FULL);
    expect(hasStopButton(final.blocks)).toBe(false);
    expect(t.logs.some((line) => line.includes('"outcome":"complete"'))).toBe(true);
  });

  test('a click after the answer finished does nothing: no error, no edit, no ephemeral', async () => {
    t = await startTestBot({ SLACK_STREAMING: 'edits' });
    t.claude.enqueue({ chunks: ['Done ', 'already.'], delayMs: 20 });
    const event = await t.mention({ text: '<@UBOT> quick one' });
    await t.idle();
    const reply = replies(t, event)[0]!;
    expect(reply.text).toBe('Done already.');
    // The session's `active` status is set after the answer ends, on its own pace: let it land before counting.
    await t.slack.waitFor(() => t.slack.callsOf('agents.sessions.setStatus').some((call) => call.params.status === 'active'));
    const callsBefore = t.slack.calls.length;
    const logsBefore = t.logs.length;

    await clickStop(t, event, reply.ts, ASKER);
    // The listener's log line shows the click was handled (and found nothing running) before the checks below.
    await t.slack.waitFor(() => t.logs.slice(logsBefore).some((line) => line.includes('"msg":"Stop pressed"')));
    const lines = t.logs.slice(logsBefore).map((line) => JSON.parse(line) as { level: number; msg: string; result?: string });
    expect(lines.find((line) => line.msg === 'Stop pressed')?.result).toBe('not_running');
    expect(lines.filter((line) => line.level >= 50)).toEqual([]);
    expect(t.slack.calls.slice(callsBefore)).toEqual([]);
    expect(t.slack.messages.get(reply.ts)!.text).toBe('Done already.');
  });
});
