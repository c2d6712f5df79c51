// Agent session status (issue #12 §3): `processing` while an answer runs, `active` when it ends, whatever the
// ending. The edits path sets it with agents.sessions.setStatus; a native stream gets it from chat.startStream
// and chat.stopStream. A workspace without the Agents feature (feature_disabled) is not asked again.
import type { ButtonAction } from '@slack/bolt';
import { copy } from '../../src/copy.js';
import type { RecordedCall } from '../fakes/fakeSlack.js';
import type { Script } from '../fakes/fakeAnthropic.js';
import { blockActionsPayload, deliverInteraction, type MentionEvent } from '../fakes/slackRequests.js';
import { SIGNING_SECRET, startTestBot, type TestBot } from '../harness.js';

const CHANNEL = 'C123';
const SET_STATUS = 'agents.sessions.setStatus';

/** Twenty sentences 100 ms apart: long enough to look at the session while the answer runs. */
const PARTS = Array.from({ length: 20 }, (_, i) => `${i === 0 ? '' : ' '}Step ${i}.`);
const BAD_REQUEST: Script = { httpError: { status: 400, type: 'invalid_request_error', message: 'messages: roles must alternate' } };

/** The setStatus calls for the thread of `event`, in order. */
function statusCalls(t: TestBot, event: MentionEvent): RecordedCall[] {
  return t.slack.callsOf(SET_STATUS).filter((call) => call.params.channel_id === CHANNEL && call.params.thread_ts === event.ts);
}

/** Asks `script`'s answer; once Slack shows text (or, for an HTTP error, at once) returns the session status then. */
async function askAndLook(t: TestBot, script: Script): Promise<{ event: MentionEvent; statusWhileRunning: string | undefined }> {
  t.claude.enqueue(script);
  const event = await t.mention({ text: '<@UBOT> go' });
  if (!('httpError' in script)) await t.slack.waitFor(() => t.slack.threadMessages(CHANNEL, event.ts)[0]?.text.includes('Step 1.') ?? false);
  else await t.slack.waitFor(() => t.slack.threadMessages(CHANNEL, event.ts).length > 0);
  return { event, statusWhileRunning: t.slack.agentSession(CHANNEL, event.ts)?.status };
}

/** The asker presses the Stop button of the answer's first message. */
async function pressStop(t: TestBot, event: MentionEvent): Promise<void> {
  const messageTs = t.slack.threadMessages(CHANNEL, event.ts)[0]!.ts;
  const action = { type: 'button' as const, action_id: 'answer_stop', block_id: 'stop', text: { type: 'plain_text' as const, text: copy.stopButton }, value: 'stop' };
  const response = await deliverInteraction(t.url, SIGNING_SECRET, blockActionsPayload<ButtonAction>(action, { messageTs, channel: CHANNEL, threadTs: event.ts, user: event.user }));
  expect(response.status).toBe(200);
}

describe('agent session status on the edits path (agents.sessions.setStatus)', () => {
  let t: TestBot;
  afterEach(() => t.stop());

  test.each<{ name: string; script: Script; stop?: boolean; final: RegExp }>([
    { name: 'a complete answer', script: { chunks: PARTS, delayMs: 100 }, final: /^Step 0\..*Step 19\.$/s },
    { name: 'a failed answer (Claude 400)', script: BAD_REQUEST, final: /Claude rejected the request/ },
    { name: 'a stopped answer', script: { chunks: PARTS, delayMs: 300 }, stop: true, final: /_\(Stopped\.\)_$/ },
  ])('$name: processing from the placeholder on, active once its final is shown', async ({ script, stop, final }) => {
    t = await startTestBot({ SLACK_STREAMING: 'edits' });
    const { event, statusWhileRunning } = await askAndLook(t, script);
    if (stop) await pressStop(t, event);
    await t.idle(15_000);
    await t.slack.waitFor(() => statusCalls(t, event).length === 2);

    const reply = t.slack.threadMessages(CHANNEL, event.ts)[0]!;
    expect(reply.text).toMatch(final);
    expect(statusCalls(t, event).map((call) => call.params.status)).toEqual(['processing', 'active']);
    if (!('httpError' in script)) expect(statusWhileRunning).toBe('processing');
    expect(t.slack.agentSession(CHANNEL, event.ts)).toMatchObject({ status: 'active', history: ['processing', 'active'] });
    // `active` follows the final edit: the session never shows idle while the answer is still being written.
    const [processing, active] = statusCalls(t, event);
    const edits = t.slack.callsOf('chat.update').filter((call) => call.params.ts === reply.ts);
    expect(processing!.at).toBeGreaterThanOrEqual(t.slack.callsOf('chat.postMessage')[0]!.at);
    if (edits.length > 0) expect(active!.at).toBeGreaterThanOrEqual(edits.at(-1)!.at);
  });
});

describe('agent session status on the native path (chat.startStream / chat.stopStream)', () => {
  let t: TestBot;
  afterEach(() => t.stop());

  test.each<[string, Script, RegExp]>([
    ['a complete answer', { chunks: PARTS, delayMs: 100 }, /^Step 0\..*Step 19\.$/s],
    ['a failed answer (Claude 400)', BAD_REQUEST, /Claude rejected the request/],
  ])('%s: chat.startStream sets processing, chat.stopStream active, and no setStatus call is made', async (_name, script, final) => {
    t = await startTestBot({ SLACK_STREAMING: 'native' });
    const { event, statusWhileRunning } = await askAndLook(t, script);
    await t.idle();

    const reply = t.slack.threadMessages(CHANNEL, event.ts)[0]!;
    expect(reply.stream?.state).toBe('completed');
    expect(reply.text).toMatch(final);
    if (!('httpError' in script)) expect(statusWhileRunning).toBe('processing');
    expect(t.slack.agentSession(CHANNEL, event.ts)).toMatchObject({ status: 'active', history: ['processing', 'active'] });
    expect(t.slack.callsOf(SET_STATUS)).toEqual([]);
  });
});

describe('a workspace without the Agents feature', () => {
  let t: TestBot;
  afterEach(() => t.stop());

  test('setStatus answering feature_disabled leaves the answer unaffected, and the next answer makes no setStatus call', async () => {
    t = await startTestBot({ SLACK_STREAMING: 'edits' });
    t.slack.failNext(SET_STATUS, { error: 'feature_disabled' });
    t.claude.enqueue({ chunks: ['First ', 'answer.'], delayMs: 50 }, { chunks: ['Second ', 'answer.'], delayMs: 50 });

    const first = await t.mention({ text: '<@UBOT> one' });
    await t.idle();
    expect(t.slack.threadMessages(CHANNEL, first.ts)[0]!.text).toBe('First answer.');
    expect(t.slack.callsOf(SET_STATUS)).toHaveLength(1);
    expect(t.slack.callsOf(SET_STATUS)[0]!.response.error).toBe('feature_disabled');

    const second = await t.mention({ text: '<@UBOT> two' });
    await t.idle();
    expect(t.slack.threadMessages(CHANNEL, second.ts)[0]!.text).toBe('Second answer.');
    expect(t.slack.callsOf(SET_STATUS)).toHaveLength(1);

    const lines = t.logs.map((line) => JSON.parse(line) as { level: number; msg: string; outcome?: string });
    expect(lines.filter((line) => line.msg === 'answer finished').map((line) => line.outcome)).toEqual(['complete', 'complete']);
    expect(lines.filter((line) => line.msg.includes('agents.sessions.setStatus unavailable'))).toHaveLength(1);
    expect(lines.filter((line) => line.level >= 50)).toEqual([]);
  });
});
