import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Anthropic, {
  AnthropicError,
  APIConnectionError,
  APIError,
  AuthenticationError,
  NotFoundError,
  OverloadedError,
} from '@anthropic-ai/sdk';
import { App, isValidSlackRequest, LogLevel as BoltLogLevel, type types } from '@slack/bolt';
import { WebAPIPlatformError, WebAPIRateLimitedError, WebClient } from '@slack/web-api';
import { FakeAnthropic, type Script } from './fakeAnthropic.js';
import { FakeSlack, slackClient } from './fakeSlack.js';
import { closeServer, listenOnLoopback, pollUntil, readBody } from './httpUtil.js';
import { deliverCommand, deliverEvent, dmEvent, mentionEvent, signSlackRequest } from './slackRequests.js';

/** The error a promise rejects with (fails the test if it resolves). */
async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

describe('FakeSlack with the real @slack/web-api WebClient', () => {
  let slack: FakeSlack;
  beforeEach(async () => {
    slack = await FakeSlack.start();
  });
  afterEach(async () => {
    await slack.close();
  });

  it('records postMessage then update, with token, params and message state', async () => {
    const client = slackClient(slack);
    const blocks = [{ type: 'markdown', text: '**hi**' }];
    const posted = await client.chat.postMessage({ channel: 'C1', thread_ts: '1.000001', text: '_Thinking…_' });
    await client.chat.update({ channel: 'C1', ts: posted.ts as string, text: 'hi', blocks });

    expect(slack.calls.map((c) => c.method)).toEqual(['chat.postMessage', 'chat.update']);
    const [post, update] = slack.calls;
    expect(post?.token).toBe('xoxb-test');
    expect(post?.params).toMatchObject({ channel: 'C1', thread_ts: '1.000001', text: '_Thinking…_' });
    expect(update?.params.blocks).toEqual(blocks);
    expect(update?.status).toBe(200);
    const stored = slack.threadMessages('C1', '1.000001');
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ ts: posted.ts, text: 'hi', blocks, deleted: false });
    expect(stored[0]?.versions.map((v) => v.text)).toEqual(['_Thinking…_', 'hi']);
  });

  it('answers a JSON body and hands out increasing ts', async () => {
    const post = (text: string) =>
      fetch(`${slack.apiUrl}chat.postMessage`, {
        method: 'POST',
        headers: { Authorization: 'Bearer xoxb-json', 'Content-Type': 'application/json' },
        body: JSON.stringify({ channel: 'C1', text }),
      }).then((r) => r.json() as Promise<{ ok: boolean; ts: string }>);
    const first = await post('a');
    const second = await post('b');
    expect(first.ok).toBe(true);
    expect(Number(second.ts)).toBeGreaterThan(Number(first.ts));
    expect(slack.callsOf('chat.postMessage')[1]?.params).toEqual({ channel: 'C1', text: 'b' });
  });

  it('answers 429 with Retry-After when the bucket is empty, raising WebAPIRateLimitedError', async () => {
    const client = slackClient(slack);
    slack.rateLimit('chat.update', { perMinute: 6, burst: 1 });
    const { ts } = await client.chat.postMessage({ channel: 'C1', text: 'x' });
    await client.chat.update({ channel: 'C1', ts: ts as string, text: 'y' });

    const err = await rejectionOf(client.chat.update({ channel: 'C1', ts: ts as string, text: 'z' }));
    expect(err).toBeInstanceOf(WebAPIRateLimitedError);
    expect((err as WebAPIRateLimitedError).retryAfter).toBe(10);
    expect(slack.count429('chat.update')).toBe(1);
    expect(slack.callsOf('chat.update')[1]?.response).toEqual({ ok: false, error: 'ratelimited' });
  });

  it('refuses oversized content with msg_too_long as a WebAPIPlatformError', async () => {
    const client = slackClient(slack);
    slack.maxTextLength = 4_000;
    const err = await rejectionOf(client.chat.postMessage({ channel: 'C1', text: 'x'.repeat(4_001) }));
    expect(err).toBeInstanceOf(WebAPIPlatformError);
    expect((err as WebAPIPlatformError).data.error).toBe('msg_too_long');
    expect(slack.messages.size).toBe(0);
  });

  it('enforces block limits', async () => {
    const client = slackClient(slack);
    const errorOf = async (blocks: types.KnownBlock[]) =>
      ((await rejectionOf(client.chat.postMessage({ channel: 'C1', text: 't', blocks }))) as WebAPIPlatformError).data
        .error;
    expect(await errorOf(Array.from({ length: 51 }, () => ({ type: 'divider' })))).toBe('invalid_blocks');
    expect(await errorOf([{ type: 'section', text: { type: 'mrkdwn', text: 'x'.repeat(3_001) } }])).toBe(
      'invalid_blocks',
    );
    const half: types.MarkdownBlock = { type: 'markdown', text: 'x'.repeat(6_001) };
    expect(await errorOf([half, half])).toBe('msg_blocks_too_long');
  });

  it('checks context_actions blocks: feedback_buttons need an action_id and two plain_text buttons with values', async () => {
    const client = slackClient(slack);
    const button = (value: string) => ({ text: { type: 'plain_text' as const, text: value }, value });
    const feedback = { type: 'feedback_buttons' as const, action_id: 'fb', positive_button: button('positive'), negative_button: button('negative') };
    const accepted = await client.chat.postMessage({ channel: 'C1', text: 't', blocks: [{ type: 'context_actions', elements: [feedback] }] });
    expect(slack.messages.get(accepted.ts!)!.blocks).toEqual([{ type: 'context_actions', elements: [feedback] }]);
    const errorOf = async (elements: unknown[]) =>
      ((await rejectionOf(client.chat.postMessage({ channel: 'C1', text: 't', blocks: [{ type: 'context_actions', elements } as types.KnownBlock] }))) as WebAPIPlatformError)
        .data.error;
    expect(await errorOf([])).toBe('invalid_blocks');
    expect(await errorOf([{ ...feedback, action_id: undefined }])).toBe('invalid_blocks');
    expect(await errorOf([{ ...feedback, negative_button: { text: { type: 'mrkdwn', text: 'no' }, value: 'negative' } }])).toBe('invalid_blocks');
    expect(await errorOf([{ ...feedback, positive_button: { text: { type: 'plain_text', text: 'yes' } } }])).toBe('invalid_blocks');
    expect(await errorOf([{ type: 'button', text: { type: 'plain_text', text: 'x' } }])).toBe('invalid_blocks');
  });

  it('scripts failures, channel errors and unknown messages', async () => {
    const client = slackClient(slack);
    slack.failNext('chat.postMessage', { error: 'fatal_error' });
    slack.setChannelError('C2', 'not_in_channel');
    const codeOf = async (call: Promise<unknown>) => ((await rejectionOf(call)) as WebAPIPlatformError).data.error;

    expect(await codeOf(client.chat.postMessage({ channel: 'C1', text: 'a' }))).toBe('fatal_error');
    expect(await codeOf(client.chat.postMessage({ channel: 'C2', text: 'a' }))).toBe('not_in_channel');
    expect(await codeOf(client.chat.update({ channel: 'C1', ts: '1.000001', text: 'a' }))).toBe('message_not_found');
    await expect(client.chat.postMessage({ channel: 'C1', text: 'a' })).resolves.toMatchObject({ ok: true });
    expect(slack.calls.map((c) => c.response.ok)).toEqual([false, false, false, true]);
  });

  it('serves thread replies, deletes, ephemerals and response_url posts', async () => {
    const client = slackClient(slack);
    const parent = await client.chat.postMessage({ channel: 'C1', text: '<@U1> asked: hi' });
    const threadTs = parent.ts as string;
    const first = await client.chat.postMessage({ channel: 'C1', thread_ts: threadTs, text: 'one' });
    await client.chat.postMessage({ channel: 'C1', thread_ts: threadTs, text: 'two' });
    await client.chat.delete({ channel: 'C1', ts: first.ts as string });

    const replies = await client.conversations.replies({ channel: 'C1', ts: threadTs });
    expect(replies.messages?.map((m) => m.text)).toEqual(['<@U1> asked: hi', 'two']);
    expect(slack.threadMessages('C1', threadTs).map((m) => [m.text, m.deleted])).toEqual([
      ['one', true],
      ['two', false],
    ]);
    const ephemeral = await client.chat.postEphemeral({ channel: 'C1', user: 'U1', text: 'psst' });
    expect(ephemeral.message_ts).toMatch(/^\d+\.\d{6}$/);
    await fetch(slack.responseUrl, { method: 'POST', body: JSON.stringify({ text: 'usage' }), headers: { 'Content-Type': 'application/json' } });
    expect(slack.callsOf('response_url')[0]?.params).toEqual({ text: 'usage' });
  });

  it('keeps message metadata and returns it from conversations.replies only with include_all_metadata, after `oldest`', async () => {
    const client = slackClient(slack);
    const metadata = { event_type: 'claude_reply_part', event_payload: { post_id: 'p-1' } };
    const first = await client.chat.postMessage({ channel: 'C1', thread_ts: '1.000001', text: 'one' });
    const second = await client.chat.postMessage({ channel: 'C1', thread_ts: '1.000001', text: 'two', metadata });
    expect(Number(second.ts)).toBeGreaterThan(Number(first.ts));
    const plain = await client.conversations.replies({ channel: 'C1', ts: '1.000001' });
    expect(plain.messages?.map((m) => m.metadata)).toEqual([undefined, undefined]);
    const withMetadata = await client.conversations.replies({ channel: 'C1', ts: '1.000001', include_all_metadata: true, oldest: first.ts! });
    expect(withMetadata.messages?.map((m) => [m.text, m.metadata])).toEqual([['two', metadata]]);
    await expect(client.chat.postMessage({ channel: 'C1', text: 'x', metadata: { event_type: 'e' } as never })).rejects.toMatchObject({
      data: { error: 'invalid_metadata_format' },
    });
  });

  it('lists a channel\'s top-level messages newest first with conversations.history, with metadata on request', async () => {
    const client = slackClient(slack);
    const metadata = { event_type: 'claude_bot_post', event_payload: { post_id: 'p-2' } };
    const older = await client.chat.postMessage({ channel: 'C2', text: 'older' });
    await client.chat.postMessage({ channel: 'C2', thread_ts: older.ts!, text: 'a reply' });
    await client.chat.postMessage({ channel: 'C2', text: 'newer', metadata });
    const history = await client.conversations.history({ channel: 'C2', include_all_metadata: true, limit: 1 });
    expect(history.messages?.map((m) => [m.text, m.metadata])).toEqual([['newer', metadata]]);
    const rest = await client.conversations.history({ channel: 'C2', cursor: history.response_metadata!.next_cursor! });
    expect(rest.messages?.map((m) => [m.text, m.metadata])).toEqual([['older', undefined]]);
  });

  it('scripts a failure after the call was carried out: an ok:false answer, or a cut connection', async () => {
    const client = new WebClient('xoxb-test', { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } });
    slack.failNext('chat.postMessage', { error: 'internal_error', applied: true });
    slack.failNext('chat.postMessage', { applied: true, hangUp: true });
    await expect(client.chat.postMessage({ channel: 'C1', thread_ts: '1.000001', text: 'a' })).rejects.toMatchObject({ data: { error: 'internal_error' } });
    await expect(client.chat.postMessage({ channel: 'C1', thread_ts: '1.000001', text: 'b' })).rejects.toMatchObject({ code: 'slack_webapi_request_error' });
    expect(slack.threadMessages('C1', '1.000001').map((m) => m.text)).toEqual(['a', 'b']);
  });

  it('adds latency and waits for a condition', async () => {
    slack.latencyMs = 50;
    const started = Date.now();
    void slackClient(slack).auth.test();
    await slack.waitFor(() => slack.callsOf('auth.test').length === 1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    expect(slack.calls[0]?.response).toMatchObject({ ok: true, user_id: 'UBOT', team_id: 'T0001' });
    await expect(slack.waitFor(() => false, 30)).rejects.toThrow(/auth\.test→200/);
  });
});

describe('FakeAnthropic with the real @anthropic-ai/sdk', () => {
  let fake: FakeAnthropic;
  let client: Anthropic;
  beforeEach(async () => {
    fake = await FakeAnthropic.start();
    client = new Anthropic({ apiKey: 'sk-test', baseURL: fake.baseUrl, maxRetries: 0 });
  });
  afterEach(async () => {
    await fake.close();
  });

  /** Streams one answer, collecting text deltas; resolves with texts and the final message or error. */
  async function run(script: Script): Promise<{ texts: string[]; stopReason?: string | null; error?: unknown }> {
    fake.enqueue(script);
    const texts: string[] = [];
    const stream = client.messages.stream({
      model: 'claude-test',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'hi' }],
    });
    stream.on('text', (delta) => texts.push(delta));
    try {
      const final = await stream.finalMessage();
      return { texts, stopReason: final.stop_reason };
    } catch (error) {
      return { texts, error };
    }
  }

  it('streams text deltas and the stop reason, recording the request', async () => {
    const result = await run({ chunks: ['Hel', 'lo', '!'], delayMs: 5, stopReason: 'max_tokens' });
    expect(result).toEqual({ texts: ['Hel', 'lo', '!'], stopReason: 'max_tokens' });
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]?.endedAt).toBeGreaterThanOrEqual((fake.requests[0]?.at ?? Infinity) + 10);
    expect(fake.requests[0]?.body).toMatchObject({ model: 'claude-test', stream: true, messages: [{ role: 'user' }] });
    expect(fake.requests[0]?.headers.authorization).toBe('Bearer sk-test');
  });

  it('sends each frame as written (first delta arrives before the stream ends)', async () => {
    fake.enqueue({ chunks: ['a', 'b'], delayMs: 300 });
    const stream = client.messages.stream({ model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] });
    const firstText = new Promise<number>((resolve) => stream.once('text', () => resolve(Date.now())));
    await stream.finalMessage();
    expect(Date.now() - (await firstText)).toBeGreaterThanOrEqual(250);
  });

  it('surfaces a mid-stream error event as an APIError without status', async () => {
    const result = await run({ chunks: ['a', 'b', 'c'], fail: { afterChunks: 2, how: 'error_event' } });
    expect(result.texts).toEqual(['a', 'b']);
    expect(result.error).toBeInstanceOf(APIError);
    expect((result.error as APIError).status).toBeUndefined();
    expect((result.error as APIError).type).toBe('overloaded_error');
  });

  it('surfaces a dropped connection as a plain AnthropicError', async () => {
    const result = await run({ chunks: ['a', 'b'], fail: { afterChunks: 1, how: 'drop' } });
    expect(result.texts).toEqual(['a']);
    expect(result.error).toBeInstanceOf(AnthropicError);
    expect(result.error).not.toBeInstanceOf(APIError);
    // undici's "terminated" TypeError; under Jest it comes from another realm, so the SDK keeps only its text (no `cause`).
    expect((result.error as Error).message).toMatch(/terminated/);
  });

  it('hangs until aborted, and close() ends the hanging response', async () => {
    fake.enqueue({ chunks: ['a', 'b'], fail: { afterChunks: 1, how: 'hang' } });
    const stream = client.messages.stream({ model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] });
    const firstText = new Promise<void>((resolve) => stream.once('text', () => resolve()));
    const outcome = stream.finalMessage().then(
      () => 'completed',
      (err: unknown) => (err instanceof AnthropicError ? 'failed' : 'other'),
    );
    await firstText;
    const settledEarly = await Promise.race([outcome, new Promise((r) => setTimeout(() => r('pending'), 100))]);
    expect(settledEarly).toBe('pending');
    expect(fake.requests[0]?.endedAt).toBeUndefined();
    await fake.close();
    expect(await outcome).toBe('failed');
  });

  it("records when the client closed the connection mid-stream (abort), not when the stream ended or the fake cut it", async () => {
    fake.enqueue({ chunks: ['a', 'b', 'c'], delayMs: 5_000 });
    const stream = client.messages.stream({ model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] });
    await new Promise<void>((resolve) => stream.once('text', () => resolve()));
    const abortedAt = Date.now();
    stream.abort();
    await stream.finalMessage().catch(() => undefined);
    await pollUntil(() => fake.requests[0]?.clientClosedAt !== undefined, 3_000, () => 'the fake never saw the client close');
    expect(fake.requests[0]!.clientClosedAt).toBeGreaterThanOrEqual(abortedAt - 5);
    expect(fake.requests[0]!.chunkTimes).toHaveLength(1);

    await run({ chunks: ['done'] });
    await run({ chunks: ['a', 'b'], fail: { afterChunks: 1, how: 'drop' } });
    expect(fake.requests[1]!.endedAt).toBeDefined();
    expect(fake.requests[1]!.clientClosedAt).toBeUndefined();
    expect(fake.requests[2]!.endedAt).toBeDefined();
    expect(fake.requests[2]!.clientClosedAt).toBeUndefined();
  });

  it('answers HTTP errors with Anthropic error bodies and headers', async () => {
    const unauthorized = await run({
      httpError: { status: 401, type: 'authentication_error', message: 'invalid x-api-key' },
    });
    expect(unauthorized.error).toBeInstanceOf(AuthenticationError);
    expect((unauthorized.error as AuthenticationError).status).toBe(401);
    expect((unauthorized.error as AuthenticationError).requestID).toMatch(/^req_/);
    expect((unauthorized.error as AuthenticationError).apiMessage).toBe('invalid x-api-key');

    fake.enqueue({ httpError: { status: 529, type: 'overloaded_error', message: 'Overloaded', retryAfter: 3 } });
    const overloaded = await rejectionOf(
      client.messages.create({ model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }),
    );
    expect(overloaded).toBeInstanceOf(OverloadedError);
    expect((overloaded as OverloadedError).headers.get('retry-after')).toBe('3');
  });

  it('answers a non-streaming request with a JSON message', async () => {
    fake.enqueue({ chunks: ['Hello', ' there'], stopReason: 'end_turn' });
    const message = await client.messages.create({ model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] });
    expect(message.content).toEqual([expect.objectContaining({ type: 'text', text: 'Hello there' })]);
    expect(message.stop_reason).toBe('end_turn');
  });

  describe('thinking, several blocks, usage details, refusals', () => {
    /** Streams one answer with the SDK's own accumulator; resolves with its events and the final message. */
    async function streamed(script: Script, thinking?: Anthropic.ThinkingConfigParam) {
      fake.enqueue(script);
      const stream = client.messages.stream({ model: 'claude-test', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }], ...(thinking ? { thinking } : {}) });
      const thinkingDeltas: string[] = [];
      const signatures: string[] = [];
      const texts: string[] = [];
      const events: string[] = [];
      stream.on('thinking', (delta) => thinkingDeltas.push(delta));
      stream.on('signature', (signature) => signatures.push(signature));
      stream.on('text', (delta) => texts.push(delta));
      stream.on('streamEvent', (event) => events.push(event.type === 'content_block_delta' ? event.delta.type : event.type));
      const final = await stream.finalMessage();
      return { final, thinkingDeltas, signatures, texts, events };
    }

    it('streams a thinking block (thinking deltas, one signature) before the text, with thinking tokens', async () => {
      const { final, thinkingDeltas, signatures, texts, events } = await streamed({
        thinking: { chunks: ['Let me ', 'see.'], delayMs: 5 },
        chunks: ['An', 'swer'],
        usage: { thinkingTokens: 40, outputTokens: 45 },
      });
      expect(thinkingDeltas).toEqual(['Let me ', 'see.']);
      expect(signatures).toHaveLength(1);
      expect(texts).toEqual(['An', 'swer']);
      expect(events).toEqual([
        'message_start',
        'content_block_start',
        'thinking_delta',
        'thinking_delta',
        'signature_delta',
        'content_block_stop',
        'content_block_start',
        'text_delta',
        'text_delta',
        'content_block_stop',
        'message_delta',
        'message_stop',
      ]);
      expect(final.content).toEqual([
        { type: 'thinking', thinking: 'Let me see.', signature: signatures[0] },
        expect.objectContaining({ type: 'text', text: 'Answer' }),
      ]);
      expect(final.usage).toMatchObject({ output_tokens: 45, output_tokens_details: { thinking_tokens: 40 } });
      expect(fake.requests[0]?.thinkingTimes).toHaveLength(2);
    });

    it("sends an empty thinking block (signature only) when the request asks display: 'omitted'", async () => {
      const { final, thinkingDeltas, signatures } = await streamed(
        { thinking: { chunks: ['secret ', 'musing'] }, chunks: ['Hi'] },
        { type: 'adaptive', display: 'omitted' },
      );
      expect(thinkingDeltas).toEqual([]);
      expect(signatures).toHaveLength(1);
      expect(final.content[0]).toMatchObject({ type: 'thinking', thinking: '' });
      expect(fake.requests[0]?.body.thinking).toEqual({ type: 'adaptive', display: 'omitted' });
    });

    it('ends without a text block when max_tokens is reached while thinking', async () => {
      const { final, texts } = await streamed({ thinking: { chunks: ['hmm'] }, chunks: [], stopReason: 'max_tokens' });
      expect(texts).toEqual([]);
      expect(final.stop_reason).toBe('max_tokens');
      expect(final.content.map((block) => block.type)).toEqual(['thinking']);
    });

    it('puts further blocks, thinking or redacted, between text blocks at increasing indexes', async () => {
      const { final } = await streamed({
        chunks: ['one'],
        blocks: [{ thinking: ['again'] }, { text: ['two'] }, { redactedThinking: 'opaque' }, { text: ['three'] }],
      });
      expect(final.content.map((block) => block.type)).toEqual(['text', 'thinking', 'text', 'redacted_thinking', 'text']);
      expect(final.content.flatMap((block) => (block.type === 'text' ? [block.text] : []))).toEqual(['one', 'two', 'three']);
    });

    it('carries stop_details of a refusal and scripted input and cache counters', async () => {
      const { final } = await streamed({
        chunks: [],
        stopReason: 'refusal',
        stopDetails: { category: 'cyber', explanation: 'Could enable malware.' },
        usage: { inputTokens: 900, cacheCreationInputTokens: 600, cacheReadInputTokens: 300 },
      });
      expect(final.stop_reason).toBe('refusal');
      expect(final.stop_details).toEqual({ type: 'refusal', category: 'cyber', explanation: 'Could enable malware.' });
      expect(final.usage).toMatchObject({ input_tokens: 900, cache_creation_input_tokens: 600, cache_read_input_tokens: 300 });
    });

    it('pings while it pauses when asked (the SDK drops pings before its events)', async () => {
      fake.enqueue({ chunks: ['a'], firstTokenDelayMs: 300, pingEveryMs: 50 });
      const response = await fetch(`${fake.baseUrl}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'm', max_tokens: 10, stream: true, messages: [{ role: 'user', content: 'hi' }] }),
      });
      const body = await response.text();
      expect(body.match(/^event: ping$/gm)?.length).toBeGreaterThanOrEqual(5);
    });

    it('answers a non-streaming request with the same blocks', async () => {
      fake.enqueue({ thinking: { chunks: ['think'] }, chunks: ['Hi'], usage: { thinkingTokens: 7 } });
      const message = await client.messages.create({ model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] });
      expect(message.content.map((block) => block.type)).toEqual(['thinking', 'text']);
      expect(message.usage.output_tokens_details).toEqual({ thinking_tokens: 7 });
    });
  });

  describe('GET /v1/models/{id}', () => {
    it('answers the current models as active model objects', async () => {
      const model = await client.models.retrieve('claude-sonnet-5-5');
      expect(model).toMatchObject({ type: 'model', id: 'claude-sonnet-5-5', lifecycle: 'active', retires_at: null });
      expect(fake.modelRequests).toEqual(['claude-sonnet-5-5']);
    });

    it('answers a scripted lifecycle and retirement date', async () => {
      fake.models['claude-old'] = { lifecycle: 'deprecated', retiresAt: '2027-01-15T00:00:00Z' };
      expect(await client.models.retrieve('claude-old')).toMatchObject({ lifecycle: 'deprecated', retires_at: '2027-01-15T00:00:00Z' });
    });

    it('answers an unknown id with a 404 not_found_error the SDK raises as NotFoundError', async () => {
      const error = await rejectionOf(client.models.retrieve('claude-nope'));
      expect(error).toBeInstanceOf(NotFoundError);
      expect((error as NotFoundError).type).toBe('not_found_error');
    });

    it("answers a gateway's own non-Anthropic error when scripted so", async () => {
      fake.models['claude-sonnet-5-5'] = { raw: { status: 404, contentType: 'text/html', body: '<h1>Not Found</h1>' } };
      const error = await rejectionOf(client.models.retrieve('claude-sonnet-5-5'));
      expect(error).toBeInstanceOf(NotFoundError);
      expect((error as NotFoundError).type).toBeNull();
    });
  });

  it('surfaces a refused connection as APIConnectionError', async () => {
    await fake.close();
    const err = await rejectionOf(
      client.messages.create({ model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }),
    );
    expect(err).toBeInstanceOf(APIConnectionError);
  });
});

describe('signed Slack deliveries', () => {
  let server: Server;
  let baseUrl: string;
  const received: { headers: IncomingMessage['headers']; body: string }[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      void readBody(req).then((body) => {
        received.push({ headers: req.headers, body });
        res.writeHead(200).end();
      });
    });
    baseUrl = `http://127.0.0.1:${await listenOnLoopback(server)}`;
  });
  afterAll(async () => {
    await closeServer(server);
  });

  /** True when Bolt's own verifier accepts the request's signature for `secret`. */
  function verifies(secret: string, request: { headers: IncomingMessage['headers']; body: string }): boolean {
    return isValidSlackRequest({
      signingSecret: secret,
      body: request.body,
      headers: {
        'x-slack-signature': String(request.headers['x-slack-signature']),
        'x-slack-request-timestamp': Number(request.headers['x-slack-request-timestamp']),
      },
    });
  }

  it('signs with HMAC-SHA256 over v0:timestamp:body', () => {
    const headers = signSlackRequest('s3cret', 'body', 1_700_000_000);
    expect(headers).toEqual({
      'X-Slack-Signature': `v0=${createHmac('sha256', 's3cret').update('v0:1700000000:body').digest('hex')}`,
      'X-Slack-Request-Timestamp': '1700000000',
    });
  });

  it('delivers a signed event_callback envelope, with retry headers on request', async () => {
    received.length = 0;
    const event = mentionEvent({ text: '<@UBOT> why?' });
    await deliverEvent(baseUrl, 's3cret', event, { retryNum: 1, eventId: 'Ev1' });
    await deliverEvent(baseUrl, 's3cret', dmEvent(), { badSignature: true });
    const [first, second] = received;
    expect(first && verifies('s3cret', first)).toBe(true);
    expect(JSON.parse(first?.body ?? '')).toMatchObject({ type: 'event_callback', event_id: 'Ev1', team_id: 'T0001', event });
    expect(first?.headers['x-slack-retry-num']).toBe('1');
    expect(first?.headers['x-slack-retry-reason']).toBe('http_timeout');
    expect(second && verifies('s3cret', second)).toBe(false);
    expect(event.event_ts).toBe(event.ts);
    expect(mentionEvent().ts).not.toBe(event.ts);
  });

  it('delivers a signed form-encoded slash command', async () => {
    received.length = 0;
    await deliverCommand(baseUrl, 's3cret', { text: 'what is up', channel_id: 'C9' });
    const request = received[0];
    expect(request && verifies('s3cret', request)).toBe(true);
    expect(request?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    const form = new URLSearchParams(request?.body);
    expect(Object.fromEntries(form)).toMatchObject({ command: '/ask', text: 'what is up', channel_id: 'C9', user_id: 'U123' });
    expect(form.get('trigger_id')).toBeTruthy();
  });
});

describe('a real Bolt app between the fakes', () => {
  let slack: FakeSlack;
  let app: App;
  let baseUrl: string;
  beforeAll(async () => {
    slack = await FakeSlack.start();
    app = new App({
      token: 'xoxb-test',
      signingSecret: 's3cret',
      clientOptions: { slackApiUrl: slack.apiUrl },
      logLevel: BoltLogLevel.ERROR,
    });
    app.event('app_mention', async ({ event, say }) => {
      await say({ text: `echo: ${event.text}`, thread_ts: event.thread_ts ?? event.ts });
    });
    app.command('/ask', async ({ command, ack, client }) => {
      await ack();
      await client.chat.postMessage({ channel: command.channel_id, text: `<@${command.user_id}> asked: ${command.text}` });
    });
    const server = await app.start(0);
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await app.stop();
    await slack.close();
  });

  it('accepts signed events and commands, answering through FakeSlack', async () => {
    const event = mentionEvent({ text: '<@UBOT> ping' });
    expect((await deliverEvent(baseUrl, 's3cret', event)).status).toBe(200);
    expect((await deliverCommand(baseUrl, 's3cret', { text: 'why?' })).status).toBe(200);
    expect((await deliverEvent(baseUrl, 's3cret', mentionEvent(), { badSignature: true })).status).toBe(401);
    await slack.waitFor(() => slack.callsOf('chat.postMessage').length === 2);

    expect(slack.threadMessages('C123', event.ts).map((m) => m.text)).toEqual(['echo: <@UBOT> ping']);
    expect([...slack.messages.values()].map((m) => m.text)).toContain('<@U123> asked: why?');
    expect(slack.callsOf('auth.test').length).toBeGreaterThanOrEqual(1);
  });
});
