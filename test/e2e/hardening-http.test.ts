import { request } from 'node:http';
import { FakeAnthropic } from '../fakes/fakeAnthropic.js';
import { FakeSlack } from '../fakes/fakeSlack.js';
import { deliverEvent, mentionEvent, signSlackRequest } from '../fakes/slackRequests.js';
import { firstReplyVersions, SIGNING_SECRET, versionsOf } from '../harness.js';
import { spawnBot, type BotProcess } from '../processBot.js';

/** What the bot answered to one raw request. */
interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTP request exactly as given (any method, any path, any headers), with node:http rather than fetch's rules. */
function send(url: string, method: string, path: string, opts: { headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = request(`${url}${path}`, { method, headers: opts.headers }, (res) => {
      answered = true;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      // 'close' rather than 'end': a 413 closes the connection, possibly before the body's end is seen.
      res.on('close', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    // A server that answers before reading a huge body may close the connection while it is still being sent.
    req.on('error', (error) => (answered ? undefined : reject(error)));
    req.end(opts.body);
  });
}

/** A POST to /slack/events with `body` signed by the bot's secret (or with `timestamp`, seconds). */
function signed(body: string, contentType: string, timestamp?: number): { headers: Record<string, string>; body: string } {
  return { headers: { 'Content-Type': contentType, ...signSlackRequest(SIGNING_SECRET, body, timestamp) }, body };
}

const json = 'application/json';
const form = 'application/x-www-form-urlencoded';
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** Requests other than the two the bot serves, with the status each must get. */
const requests: [string, string, string, () => { headers?: Record<string, string>; body?: string | Buffer }, number][] = [
  ['an unknown path', 'GET', '/', () => ({}), 404],
  ['a query string on /healthz', 'GET', '/healthz?x=1', () => ({}), 200],
  ['a trailing slash on /healthz', 'GET', '/healthz/', () => ({}), 404],
  ['PUT on the events path', 'PUT', '/slack/events', () => ({ body: '{}' }), 405],
  ['a trailing slash on the events path', 'POST', '/slack/events/', () => signed('{}', json), 404],
  ['OPTIONS on the events path', 'OPTIONS', '/slack/events', () => ({}), 405],
  ['an odd method', 'PROPFIND', '/slack/events', () => ({}), 405],
  ['DELETE on /healthz', 'DELETE', '/healthz', () => ({}), 405],
  ['a POST without signing headers', 'POST', '/slack/events', () => ({ headers: { 'Content-Type': json }, body: '{"type":"event_callback"}' }), 401],
  ['a POST without any headers or body', 'POST', '/slack/events', () => ({}), 401],
  ['a signed body that is not JSON', 'POST', '/slack/events', () => signed('{"type": ', json), 400],
  ['a signed JSON null', 'POST', '/slack/events', () => signed('null', json), 400],
  ['a signed form payload=null', 'POST', '/slack/events', () => signed('payload=null', form), 400],
  ['a signed JSON array', 'POST', '/slack/events', () => signed('[]', json), 400],
  ['a signed JSON number', 'POST', '/slack/events', () => signed('5', json), 400],
  ['a signed empty object', 'POST', '/slack/events', () => signed('{}', json), 400],
  ['a signed event that is null', 'POST', '/slack/events', () => signed('{"type":"event_callback","event":null}', json), 400],
  ['a signed event whose user is null', 'POST', '/slack/events', () => signed('{"type":"event_callback","event":{"type":"app_mention","user":null}}', json), 400],
  ['a signed block action without a user', 'POST', '/slack/events', () => signed(`payload=${encodeURIComponent('{"type":"block_actions","actions":[]}')}`, form), 400],
  ['a signed interaction whose channel is null', 'POST', '/slack/events', () => signed(`payload=${encodeURIComponent('{"type":"shortcut","user":{"id":"U1"},"channel":null}')}`, form), 400],
  ['a body over 4 MB', 'POST', '/slack/events', () => signed('x'.repeat(5 * 1024 * 1024), json), 413],
  ['a signature dated 6 minutes in the future', 'POST', '/slack/events', () => signed('{"type":"event_callback"}', json, nowSeconds() + 6 * 60), 401],
];

describe('no request kills the real process', () => {
  let slack: FakeSlack;
  let claude: FakeAnthropic;
  let bot: BotProcess;
  beforeAll(async () => {
    [slack, claude] = await Promise.all([FakeSlack.start(), FakeAnthropic.start()]);
    bot = await spawnBot(slack, claude, { HISTORY_STORE: 'memory', EDIT_INTERVAL_MS: '200' });
  });
  afterAll(async () => {
    bot.child.kill('SIGTERM');
    await bot.exited;
    await Promise.all([slack.close(), claude.close()]);
  });

  test('while an answer streams, every odd request gets its status and the answer still completes', async () => {
    claude.enqueue({ chunks: Array.from({ length: 20 }, (_, i) => `w${i} `), delayMs: 50 });
    const event = mentionEvent({ text: '<@UBOT> a long one' });
    expect((await deliverEvent(bot.url, SIGNING_SECRET, event)).status).toBe(200);
    await claude.waitForRequests(1);

    for (const [, method, path, build, status] of requests) {
      const answer = await send(bot.url, method, path, build());
      expect(`${method} ${path} → ${answer.status}`).toBe(`${method} ${path} → ${status}`);
      if (status === 405) expect(answer.headers.allow).toBeDefined();
    }

    await slack.waitFor(() => firstReplyVersions(slack).at(-1) === 'w0 w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 w12 w13 w14 w15 w16 w17 w18 w19', 10_000);
    expect(bot.child.exitCode).toBeNull();
    expect(bot.output()).not.toMatch(/unhandled promise rejection|uncaught exception/);
  }, 60_000);

  test.each(requests)('%s (%s %s) leaves the process answering mentions end to end', async (_name, method, path, build, status) => {
    expect((await send(bot.url, method, path, build())).status).toBe(status);
    const before = slack.callsOf('chat.postMessage').length;
    claude.enqueue({ chunks: ['still ', 'here'] });
    expect((await deliverEvent(bot.url, SIGNING_SECRET, mentionEvent({ text: '<@UBOT> are you up?' }))).status).toBe(200);
    await slack.waitFor(() => {
      const reply = slack.callsOf('chat.postMessage')[before];
      return reply !== undefined && versionsOf(slack, reply.response.ts).at(-1) === 'still here';
    }, 10_000);
    expect(bot.child.exitCode).toBeNull();
  }, 30_000);

  test('HEAD /healthz answers 200 without a body, for load balancers', async () => {
    const answer = await send(bot.url, 'HEAD', '/healthz');
    expect(answer.status).toBe(200);
    expect(answer.body).toBe('');
  });

  test('the allowed methods are listed on a 405', async () => {
    expect((await send(bot.url, 'PUT', '/slack/events')).headers.allow).toBe('POST');
    expect((await send(bot.url, 'POST', '/healthz')).headers.allow).toBe('GET, HEAD');
  });

  test('a mention signed 4 minutes in the future is still answered (clocks drift); 6 minutes is refused and not answered', async () => {
    const before = slack.callsOf('chat.postMessage').length;
    const late = await deliverEvent(bot.url, SIGNING_SECRET, mentionEvent({ text: '<@UBOT> from the future' }), { timestamp: nowSeconds() + 6 * 60 });
    expect(late.status).toBe(401);
    claude.enqueue({ chunks: ['drift ', 'is fine'] });
    const drifted = await deliverEvent(bot.url, SIGNING_SECRET, mentionEvent({ text: '<@UBOT> a bit ahead' }), { timestamp: nowSeconds() + 4 * 60 });
    expect(drifted.status).toBe(200);
    await slack.waitFor(() => slack.callsOf('chat.postMessage').length === before + 1, 10_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(slack.callsOf('chat.postMessage')).toHaveLength(before + 1);
    expect(claude.requests.at(-1)!.body.messages.at(-1).content).toBe('a bit ahead');
  });
});
