import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { mentionEvent, signSlackRequest } from '../fakes/slackRequests.js';
import { SIGNING_SECRET, startTestBot, type TestBot } from '../harness.js';
import { runBotToExit, useFakeServers } from '../processBot.js';
import { waitFor } from '../redis/helpers.js';

/** What a raw connection saw: the server's bytes, and whether the server closed it. */
interface RawOutcome {
  response: string;
  closed: boolean;
}

/** A raw TCP connection to the bot, so a test can send half a request and see what the server does. */
function rawConnection(url: string): { socket: Socket; outcome: (waitMs: number) => Promise<RawOutcome> } {
  const { port } = new URL(url);
  const socket = connect(Number(port), '127.0.0.1');
  socket.on('error', () => {});
  let response = '';
  let closed = false;
  socket.on('data', (chunk: Buffer) => (response += chunk.toString()));
  const closing = once(socket, 'close').then(() => (closed = true));
  return {
    socket,
    /** Resolves once the server answered a status line or closed the connection, or after `waitMs`. */
    async outcome(waitMs) {
      const deadline = Date.now() + waitMs;
      while (Date.now() < deadline && !closed && !response.includes('\r\n')) {
        await Promise.race([closing, new Promise((resolve) => setTimeout(resolve, 20))]);
      }
      return { response, closed };
    },
  };
}

const statusOf = (outcome: RawOutcome) => Number(/^HTTP\/1\.1 (\d{3})/.exec(outcome.response)?.[1] ?? 0);
const nowSeconds = () => Math.floor(Date.now() / 1000);

describe('the HTTP edge holds little for unsigned or slow clients', () => {
  let t: TestBot;
  beforeAll(async () => {
    t = await startTestBot();
  });
  afterAll(() => t.stop());

  test.each<[string, () => Record<string, string>]>([
    ['no signature headers', () => ({})],
    ['a timestamp 10 minutes old', () => ({ 'X-Slack-Signature': 'v0=00', 'X-Slack-Request-Timestamp': String(nowSeconds() - 600) })],
    ['a timestamp 10 minutes ahead', () => ({ 'X-Slack-Signature': 'v0=00', 'X-Slack-Request-Timestamp': String(nowSeconds() + 600) })],
  ])('a POST with %s is refused 401 before its (4 MB) body is read', async (_name, headers) => {
    const raw = rawConnection(t.url);
    const head = Object.entries({ 'Content-Type': 'application/json', 'Content-Length': String(4 * 1024 * 1024 - 100), ...headers() })
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('');
    raw.socket.write(`POST /slack/events HTTP/1.1\r\nHost: bot\r\n${head}\r\n`);
    raw.socket.write(Buffer.alloc(64 * 1024, 'a'));
    // The rest of the body never comes: an answer now means the server did not wait for it.
    const outcome = await raw.outcome(8_000);
    raw.socket.destroy();
    expect(statusOf(outcome)).toBe(401);
  });

  test("Slack's unsigned SSL check is still answered 200; another unsigned form, or a long one, is 401", async () => {
    const post = (body: string) =>
      fetch(`${t.url}/slack/events`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body });
    expect((await post('ssl_check=1&token=legacy-token')).status).toBe(200);
    expect((await post('command=%2Fask&text=hi')).status).toBe(401);
    expect((await post(`ssl_check=1&token=${'x'.repeat(4096)}`)).status).toBe(401);
  });

  test('a signed body over 1 MB (far above any Slack payload) is refused 413', async () => {
    const body = JSON.stringify({
      type: 'event_callback',
      team_id: 'T0001',
      api_app_id: 'A0001',
      event_id: 'EvBIG',
      event: mentionEvent({ text: `<@UBOT> ${'x'.repeat(1536 * 1024)}` }),
    });
    const response = await fetch(`${t.url}/slack/events`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...signSlackRequest(SIGNING_SECRET, body) },
      body,
    }).catch((error: unknown) => error as Error);
    // The server may close the connection while fetch still sends: then there is no status to read, and no answer.
    if (response instanceof Response) expect(response.status).toBe(413);
    await t.idle();
    expect(t.slack.callsOf('chat.postMessage')).toHaveLength(0);
  });

  test('a client that stops sending its headers or its body is cut off by the time-outs, not held for minutes', async () => {
    const slowHeaders = rawConnection(t.url);
    slowHeaders.socket.write('POST /slack/events HTTP/1.1\r\nHost: bot\r\n');
    const slowBody = rawConnection(t.url);
    slowBody.socket.write(
      `POST /slack/events HTTP/1.1\r\nHost: bot\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n` +
        `X-Slack-Signature: v0=00\r\nX-Slack-Request-Timestamp: ${nowSeconds()}\r\n\r\n{"type":`,
    );
    // Node's defaults were 60 s for headers and 300 s for the whole request.
    const [headers, body] = await Promise.all([slowHeaders.outcome(25_000), slowBody.outcome(25_000)]);
    expect(headers.closed || statusOf(headers) === 408).toBe(true);
    expect(body.closed || statusOf(body) === 408).toBe(true);
    slowHeaders.socket.destroy();
    slowBody.socket.destroy();
    const aborted = t.logs.map((line) => JSON.parse(line) as { level: number; msg: string });
    expect(aborted.filter((line) => line.level >= 50)).toEqual([]);
  }, 30_000);

  test('connections beyond the cap are closed at once; the bot serves again once they go', async () => {
    const sockets = Array.from({ length: 160 }, () => rawConnection(t.url));
    await Promise.all(sockets.map(({ socket }) => once(socket, 'connect').catch(() => undefined)));
    const outcomes = await Promise.all(sockets.map((raw) => raw.outcome(2_000)));
    // Nothing was sent on any of them: only the cap closes a connection this soon.
    expect(outcomes.filter((outcome) => outcome.closed).length).toBeGreaterThanOrEqual(160 - 128);
    for (const { socket } of sockets) socket.destroy();
    await waitFor(async () => (await fetch(`${t.url}/healthz`).catch(() => undefined))?.status === 200);
  });

  test('a client hanging up mid-body is one info line without a stack, not an error', async () => {
    const from = t.logs.length;
    const raw = rawConnection(t.url);
    raw.socket.write(
      `POST /slack/events HTTP/1.1\r\nHost: bot\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n` +
        `X-Slack-Signature: v0=00\r\nX-Slack-Request-Timestamp: ${nowSeconds()}\r\n\r\n{"type":`,
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    raw.socket.destroy();
    await t.slack.waitFor(() => t.logs.length > from, 5_000);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const lines = t.logs.slice(from).map((line) => JSON.parse(line) as { level: number; msg: string; err?: unknown });
    expect(lines.filter((line) => line.level >= 40)).toEqual([]);
    const hangUp = lines.filter((line) => /closed its request/.test(line.msg));
    expect(hangUp).toHaveLength(1);
    expect(hangUp[0]!.err).toBeUndefined();
  });

  test('a signed button click (block_actions) nobody listens to is acknowledged at once, without an error line', async () => {
    const from = t.logs.length;
    const payload = {
      type: 'block_actions',
      api_app_id: 'A0001',
      team: { id: 'T0001', domain: 'test' },
      user: { id: 'U1', team_id: 'T0001' },
      channel: { id: 'C123', name: 'general' },
      container: { type: 'message', message_ts: '1700000000.000100', channel_id: 'C123' },
      trigger_id: '1.2.3',
      response_url: t.slack.responseUrl,
      actions: [{ type: 'button', action_id: 'some_button', block_id: 'b1', value: 'v', action_ts: String(Date.now() / 1000) }],
    };
    const body = `payload=${encodeURIComponent(JSON.stringify(payload))}`;
    const response = await fetch(`${t.url}/slack/events`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...signSlackRequest(SIGNING_SECRET, body) },
      body,
    });
    // Bolt's fallback for an unacknowledged request is a 404 after 3 s.
    expect(response.status).toBe(200);
    const lines = t.logs.slice(from).map((line) => JSON.parse(line) as { level: number });
    expect(lines.filter((line) => line.level >= 50)).toEqual([]);
  });
});

describe('start-up lines name the variable', () => {
  const fakes = useFakeServers();

  test('PORT already in use: one line naming PORT, exit 1', async () => {
    const holder = createServer();
    holder.listen(0);
    await once(holder, 'listening');
    const port = (holder.address() as { port: number }).port;
    try {
      const result = await runBotToExit({ PORT: String(port), HISTORY_STORE: 'memory' }, { fakes: fakes.servers() });
      expect(result.code).toBe(1);
      const lines = result.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/PORT \(\d+\) is already in use/);
      expect(result.stdout).not.toContain('"bot started"');
    } finally {
      holder.close();
    }
  });

  test.each([
    ['SLACK_API_URL', 'http://'],
    ['ANTHROPIC_BASE_URL', 'http://'],
    ['SLACK_API_URL', 'http://127.0.0.1:9/api/?x=1'],
    ['REDIS_URL', 'redis://:p%zz@127.0.0.1:6379'],
    ['SLACK_SIGNING_SECRET', 'abc'],
  ])('%s=%s: one line naming it, exit 1', async (variable, value) => {
    const result = await runBotToExit({ HISTORY_STORE: 'memory', [variable]: value }, { fakes: fakes.servers() });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([expect.stringMatching(new RegExp(`^Configuration error: ${variable} must be`))]);
  });
});
