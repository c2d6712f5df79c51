import type { AddressInfo } from 'node:net';
import { App, type BlockFeedbackButtonsAction, LogLevel as BoltLogLevel, type types } from '@slack/bolt';
import { WebAPIPlatformError, WebAPIRateLimitedError, type WebClient } from '@slack/web-api';
import { FakeSlack, slackClient } from './fakeSlack.js';
import { agentSessionStoppedEvent, appHomeOpenedEvent, deliverEvent, deliverInteraction, feedbackClick } from './slackRequests.js';

/** The Slack error code a call rejects with (fails the test if it resolves or fails otherwise). */
async function errorCode(call: Promise<unknown>): Promise<string> {
  try {
    await call;
  } catch (err) {
    if (err instanceof WebAPIPlatformError) return err.data.error;
    throw err;
  }
  throw new Error('expected the call to fail');
}

const THREAD = '1700000000.000001';
/** Where a channel stream must say whom it streams to. */
const RECIPIENT = { recipient_user_id: 'U123', recipient_team_id: 'T0001' };

describe('FakeSlack native streaming, through the real WebClient', () => {
  let slack: FakeSlack;
  let client: WebClient;
  beforeEach(async () => {
    slack = await FakeSlack.start();
    client = slackClient(slack);
  });
  afterEach(async () => {
    await slack.close();
  });

  /** Starts a markdown stream in C1's thread and returns its ts. */
  async function start(text = 'Hel'): Promise<string> {
    const started = await client.chat.startStream({ channel: 'C1', thread_ts: THREAD, markdown_text: text, ...RECIPIENT });
    return started.ts as string;
  }

  it('streams markdown: start, appends, stop with blocks and metadata; every version kept; the session goes processing → active', async () => {
    const started = await client.chat.startStream({ channel: 'C1', thread_ts: THREAD, markdown_text: 'Hel', ...RECIPIENT });
    expect(started).toMatchObject({ ok: true, channel: 'C1' });
    const ts = started.ts as string;
    expect(slack.agentSession('C1', THREAD)?.status).toBe('processing');
    await client.chat.appendStream({ channel: 'C1', ts, markdown_text: 'lo ' });
    await client.chat.appendStream({ channel: 'C1', ts, markdown_text: 'world' });
    const blocks = [{ type: 'context_actions', elements: [] }];
    const metadata = { event_type: 'answer', event_payload: { model: 'claude-sonnet-5-5' } };
    const stopped = await client.chat.stopStream({ channel: 'C1', ts, markdown_text: '.', blocks, metadata });

    expect(stopped.message).toMatchObject({ ts, text: 'Hello world.', streaming_state: 'completed', blocks });
    const [message] = slack.threadMessages('C1', THREAD);
    expect(message?.versions.map((v) => v.text)).toEqual(['Hel', 'Hello ', 'Hello world', 'Hello world.']);
    expect(message?.stream).toMatchObject({ state: 'completed', mode: 'markdown_text', chars: 12, metadata, recipientUserId: 'U123' });
    expect(slack.agentSession('C1', THREAD)?.history).toEqual(['processing', 'active']);
    const replies = await client.conversations.replies({ channel: 'C1', ts: THREAD });
    expect(replies.messages?.map((m) => m.text)).toEqual(['Hello world.']);
  });

  it('streams chunks: task_update and plan_update are kept in order, markdown_text chunks make the text', async () => {
    const thinking = { type: 'task_update' as const, id: 'think', title: 'Thinking', status: 'in_progress' as const };
    const started = await client.chat.startStream({ channel: 'D1', thread_ts: THREAD, chunks: [thinking] });
    const ts = started.ts as string;
    const done = { ...thinking, status: 'complete' as const, details: 'Weighed both options' };
    await client.chat.appendStream({ channel: 'D1', ts, chunks: [done, { type: 'plan_update', title: 'Answer' }] });
    await client.chat.appendStream({ channel: 'D1', ts, chunks: [{ type: 'markdown_text', text: '**Yes**' }] });
    await client.chat.stopStream({ channel: 'D1', ts, chunks: [{ type: 'markdown_text', text: ', because…' }] });

    const [message] = slack.threadMessages('D1', THREAD);
    expect(message?.text).toBe('**Yes**, because…');
    expect(message?.stream?.chunks.map((c) => `${c.type}:${c.status ?? c.title ?? c.text}`)).toEqual([
      'task_update:in_progress',
      'task_update:complete',
      'plan_update:Answer',
      'markdown_text:**Yes**',
      'markdown_text:, because…',
    ]);
    expect(message?.versions.map((v) => v.text)).toEqual(['', '', '**Yes**', '**Yes**, because…']);
  });

  it('refuses mixing markdown_text and chunks in one stream, both in one call, and an append with neither', async () => {
    const ts = await start();
    expect(await errorCode(client.chat.appendStream({ channel: 'C1', ts, chunks: [{ type: 'markdown_text', text: 'x' }] }))).toBe('invalid_arguments');
    expect(await errorCode(client.chat.appendStream({ channel: 'C1', ts, markdown_text: 'x', chunks: [] }))).toBe('invalid_arguments');
    expect(await errorCode(client.chat.appendStream({ channel: 'C1', ts }))).toBe('invalid_arguments');
    const chunked = await client.chat.startStream({ channel: 'D1', thread_ts: THREAD, chunks: [{ type: 'markdown_text', text: 'a' }] });
    expect(await errorCode(client.chat.appendStream({ channel: 'D1', ts: chunked.ts as string, markdown_text: 'b' }))).toBe('invalid_arguments');
    expect(await errorCode(client.chat.appendStream({ channel: 'D1', ts: chunked.ts as string, chunks: [{ type: 'task_update', id: 't', title: 'T', status: 'done' as never }] }))).toBe(
      'invalid_arguments',
    );
    expect(slack.messages.get(ts)?.text).toBe('Hel');
  });

  it('needs thread_ts, and recipient_user_id + recipient_team_id outside DMs', async () => {
    expect(await errorCode(client.apiCall('chat.startStream', { channel: 'C1', markdown_text: 'x', ...RECIPIENT }))).toBe('invalid_arguments');
    expect(await errorCode(client.chat.startStream({ channel: 'C1', thread_ts: THREAD, markdown_text: 'x', recipient_user_id: 'U123' }))).toBe(
      'missing_recipient_team_id',
    );
    expect(await errorCode(client.chat.startStream({ channel: 'C1', thread_ts: THREAD, markdown_text: 'x', recipient_team_id: 'T0001' }))).toBe(
      'missing_recipient_user_id',
    );
    await expect(client.chat.startStream({ channel: 'D1', thread_ts: THREAD, markdown_text: 'x' })).resolves.toMatchObject({ ok: true });
  });

  it('ends a stream after streamLifetimeMs: appends and stops answer message_not_in_streaming_state, chat.update finishes it', async () => {
    slack.streamLifetimeMs = 50;
    const ts = await start();
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(await errorCode(client.chat.appendStream({ channel: 'C1', ts, markdown_text: 'lo' }))).toBe('message_not_in_streaming_state');
    expect(await errorCode(client.chat.stopStream({ channel: 'C1', ts }))).toBe('message_not_in_streaming_state');
    await client.chat.update({ channel: 'C1', ts, text: 'Hello (expired)' });
    expect(slack.messages.get(ts)?.versions.map((v) => v.text)).toEqual(['Hel', 'Hello (expired)']);
  });

  it('answers msg_too_long once the streamed text would pass streamMaxChars, keeping what was streamed', async () => {
    slack.streamMaxChars = 20;
    expect(await errorCode(client.chat.startStream({ channel: 'D1', thread_ts: THREAD, markdown_text: 'x'.repeat(21) }))).toBe('msg_too_long');
    const ts = await start('a'.repeat(10));
    expect(await errorCode(client.chat.appendStream({ channel: 'C1', ts, markdown_text: 'b'.repeat(11) }))).toBe('msg_too_long');
    await client.chat.appendStream({ channel: 'C1', ts, markdown_text: 'b'.repeat(10) });
    expect(await errorCode(client.chat.stopStream({ channel: 'C1', ts, markdown_text: 'c' }))).toBe('msg_too_long');
    await client.chat.stopStream({ channel: 'C1', ts });
    expect(slack.messages.get(ts)?.text).toBe(`${'a'.repeat(10)}${'b'.repeat(10)}`);
  });

  it('after the user’s Stop, appends answer stopped_by_user, the session stays processing, and stopStream is accepted', async () => {
    const ts = await start();
    const stop = slack.stopStreamByUser('C1', ts);
    expect(stop).toEqual({ channel: 'C1', user: 'U123', thread_ts: THREAD, streaming_message_ts: [ts] });
    expect(await errorCode(client.chat.appendStream({ channel: 'C1', ts, markdown_text: 'lo' }))).toBe('stopped_by_user');
    expect(slack.agentSession('C1', THREAD)?.status).toBe('processing');
    await client.chat.stopStream({ channel: 'C1', ts, markdown_text: ' _(stopped)_' });
    expect(slack.messages.get(ts)?.text).toBe('Hel _(stopped)_');
    expect(slack.agentSession('C1', THREAD)?.status).toBe('active');
  });

  it('answers stopStream after the user’s Stop with stopStreamAfterUserStop when set (Slack does not say)', async () => {
    slack.stopStreamAfterUserStop = 'message_not_in_streaming_state';
    const ts = await start();
    slack.stopStreamByUser('C1', ts);
    expect(await errorCode(client.chat.stopStream({ channel: 'C1', ts }))).toBe('message_not_in_streaming_state');
    await client.chat.update({ channel: 'C1', ts, text: 'Hel — stopped' });
    expect(() => slack.stopStreamByUser('C1', ts)).toThrow(/no stream running/);
  });

  it('answers chat.update on a message still streaming with streaming_state_conflict, and accepts it once stopped', async () => {
    const ts = await start();
    expect(await errorCode(client.chat.update({ channel: 'C1', ts, text: 'edited' }))).toBe('streaming_state_conflict');
    await client.chat.stopStream({ channel: 'C1', ts });
    await client.chat.update({ channel: 'C1', ts, text: 'edited' });
    expect(slack.messages.get(ts)?.text).toBe('edited');
  });

  it.each(['feature_disabled', 'not_allowed', 'unknown_method', 'channel_type_not_supported', 'messages_tab_disabled'] as const)(
    'refuses chat.startStream with %s where streaming is refused, per team or for all',
    async (refusal) => {
      slack.refuseStreaming('T0002', refusal);
      const other = { channel: 'C1', thread_ts: THREAD, markdown_text: 'x', recipient_user_id: 'U9', recipient_team_id: 'T0002' };
      expect(await errorCode(client.chat.startStream(other))).toBe(refusal);
      await expect(start()).resolves.toBeTruthy();
      slack.refuseStreaming('all', refusal);
      expect(await errorCode(client.chat.startStream({ channel: 'D1', thread_ts: THREAD, markdown_text: 'x' }))).toBe(refusal);
    },
  );

  it('rate-limits appends per method with 429 + Retry-After', async () => {
    slack.rateLimit('chat.appendStream', { perMinute: 100, burst: 1 });
    const ts = await start();
    await client.chat.appendStream({ channel: 'C1', ts, markdown_text: 'l' });
    const err = await client.chat.appendStream({ channel: 'C1', ts, markdown_text: 'o' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WebAPIRateLimitedError);
    expect(slack.count429('chat.appendStream')).toBe(1);
  });

  it('runs the SDK’s chatStream() helper end to end: start → appends → stop', async () => {
    const streamer = client.chatStream({ channel: 'C1', thread_ts: THREAD, ...RECIPIENT, buffer_size: 5 });
    await streamer.append({ markdown_text: 'Hello' });
    await streamer.append({ markdown_text: ' world' });
    await streamer.append({ markdown_text: '!' });
    await streamer.stop({ blocks: [{ type: 'divider' }] });

    expect(slack.calls.map((c) => c.method)).toEqual(['chat.startStream', 'chat.appendStream', 'chat.stopStream']);
    const [message] = slack.threadMessages('C1', THREAD);
    expect(message?.ts).toBe(streamer.ts);
    expect(message?.versions.map((v) => v.text)).toEqual(['Hello', 'Hello world', 'Hello world!']);
    expect(message).toMatchObject({ text: 'Hello world!', blocks: [{ type: 'divider' }], stream: { state: 'completed', mode: 'chunks' } });
  });

  it('runs chatStream() for a text shorter than its buffer: an empty start, then the text with stop', async () => {
    const streamer = client.chatStream({ channel: 'D1', thread_ts: THREAD });
    await streamer.append({ markdown_text: 'Hi' });
    await streamer.stop();
    expect(slack.calls.map((c) => c.method)).toEqual(['chat.startStream', 'chat.stopStream']);
    expect(slack.threadMessages('D1', THREAD)[0]?.versions.map((v) => v.text)).toEqual(['', 'Hi']);
  });
});

describe('FakeSlack agent sessions and assistant threads', () => {
  let slack: FakeSlack;
  let client: WebClient;
  beforeEach(async () => {
    slack = await FakeSlack.start();
    client = slackClient(slack);
  });
  afterEach(async () => {
    await slack.close();
  });

  it('records agents.sessions.setStatus per thread and refuses an unknown status', async () => {
    await expect(client.agents.sessions.setStatus({ channel_id: 'C1', thread_ts: THREAD, status: 'processing' })).resolves.toMatchObject({ status: 'processing' });
    await client.agents.sessions.setStatus({ channel_id: 'C1', thread_ts: THREAD, status: 'active' });
    await client.agents.sessions.setStatus({ channel_id: 'C1', thread_ts: '1700000000.000002', status: 'closed' });
    expect(slack.agentSession('C1', THREAD)).toEqual({ status: 'active', history: ['processing', 'active'] });
    expect(slack.agentSession('C1', '1700000000.000002')?.status).toBe('closed');
    expect(await errorCode(client.agents.sessions.setStatus({ channel_id: 'C1', thread_ts: THREAD, status: 'busy' }))).toBe('invalid_arguments');
  });

  it('answers feature_disabled when scripted (an app without the Agents feature)', async () => {
    slack.failNext('agents.sessions.setStatus', { error: 'feature_disabled' });
    expect(await errorCode(client.agents.sessions.setStatus({ channel_id: 'C1', thread_ts: THREAD, status: 'processing' }))).toBe('feature_disabled');
    expect(slack.agentSession('C1', THREAD)).toBeUndefined();
  });

  it('sets the session status stopStream names in session_status', async () => {
    const started = await client.chat.startStream({ channel: 'D1', thread_ts: THREAD, markdown_text: 'x' });
    await client.chat.stopStream({ channel: 'D1', ts: started.ts as string, session_status: 'suspended' });
    expect(slack.agentSession('D1', THREAD)?.history).toEqual(['processing', 'suspended']);
  });

  it('renames a session with a 1–200 character title', async () => {
    await client.agents.sessions.rename({ channel_id: 'C1', thread_ts: THREAD, title: 'GIL question' });
    expect(slack.agentSession('C1', THREAD)?.title).toBe('GIL question');
    expect(await errorCode(client.agents.sessions.rename({ channel_id: 'C1', thread_ts: THREAD, title: 'x'.repeat(201) }))).toBe('invalid_arguments');
  });

  it('takes up to 4 suggested prompts with title and message, and assistant thread statuses', async () => {
    const prompts = [1, 2, 3, 4].map((n) => ({ title: `Prompt ${n}`, message: `Ask ${n}` }));
    await client.assistant.threads.setSuggestedPrompts({ channel_id: 'D1', prompts });
    expect(slack.callsOf('assistant.threads.setSuggestedPrompts')[0]?.params.prompts).toEqual(prompts);
    const five = [...prompts, { title: 'Prompt 5', message: 'Ask 5' }];
    expect(await errorCode(client.assistant.threads.setSuggestedPrompts({ channel_id: 'D1', prompts: five }))).toBe('invalid_arguments');
    expect(await errorCode(client.assistant.threads.setSuggestedPrompts({ channel_id: 'D1', prompts: [{ title: 'No message', message: '' }] }))).toBe(
      'invalid_arguments',
    );
    await client.assistant.threads.setStatus({ channel_id: 'D1', thread_ts: THREAD, status: 'is thinking…' });
    expect(await errorCode(client.assistant.threads.setStatus({ channel_id: '', thread_ts: THREAD, status: '' }))).toBe('channel_not_found');
  });
});

describe('agent events and feedback clicks, signed, into a real Bolt app', () => {
  let slack: FakeSlack;
  let app: App;
  let baseUrl: string;
  const stops: types.AgentSessionStoppedEvent[] = [];
  const homes: types.AppHomeOpenedEvent[] = [];
  const clicks: BlockFeedbackButtonsAction[] = [];
  beforeAll(async () => {
    slack = await FakeSlack.start();
    app = new App({ token: 'xoxb-test', signingSecret: 's3cret', clientOptions: { slackApiUrl: slack.apiUrl }, logLevel: BoltLogLevel.ERROR });
    app.event('agent_session_stopped', async ({ event }) => {
      stops.push(event as types.AgentSessionStoppedEvent);
    });
    app.event('app_home_opened', async ({ event }) => {
      homes.push(event);
    });
    app.action<BlockFeedbackButtonsAction>({ type: 'block_actions', action_id: 'feedback' }, async ({ ack, body }) => {
      await ack();
      clicks.push(body);
    });
    const server = await app.start(0);
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await app.stop();
    await slack.close();
  });

  it('delivers agent_session_stopped with the streams Slack stopped', async () => {
    const event = agentSessionStoppedEvent({ channel: 'C1', thread_ts: THREAD, streaming_message_ts: ['1700000000.000100'] });
    expect((await deliverEvent(baseUrl, 's3cret', event)).status).toBe(200);
    expect(stops).toEqual([event]);
    expect(event).toMatchObject({ type: 'agent_session_stopped', user: 'U123' });
  });

  it('delivers app_home_opened for the Messages tab', async () => {
    const event = appHomeOpenedEvent();
    expect((await deliverEvent(baseUrl, 's3cret', event)).status).toBe(200);
    expect(homes).toEqual([expect.objectContaining({ type: 'app_home_opened', tab: 'messages', channel: 'D123', user: 'U123' })]);
  });

  it('delivers a feedback_buttons click as form-encoded block_actions, which Bolt routes by action_id', async () => {
    const payload = feedbackClick({ value: 'negative', text: '👎' }, { messageTs: '1700000000.000100', channel: 'C1', threadTs: THREAD, user: 'U7' });
    expect((await deliverInteraction(baseUrl, 's3cret', payload)).status).toBe(200);
    expect(clicks).toHaveLength(1);
    expect(clicks[0]).toMatchObject({
      type: 'block_actions',
      user: { id: 'U7' },
      container: { type: 'message', message_ts: '1700000000.000100', channel_id: 'C1', thread_ts: THREAD },
      actions: [{ type: 'feedback_buttons', action_id: 'feedback', value: 'negative', text: { text: '👎' } }],
    });
    expect((await deliverInteraction(baseUrl, 'wrong-secret', payload)).status).toBe(401);
  });
});
