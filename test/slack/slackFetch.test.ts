import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { createSlackClients } from '../../src/slack/slackClients.js';
import { createSlackFetch, slackFetch } from '../../src/slack/slackFetch.js';
import { closeServer, listenOnLoopback, readBody } from '../fakes/httpUtil.js';
import { API_KEY, BOT_TOKEN, SIGNING_SECRET } from '../harness.js';
import { unusedPort } from '../deploy/deployFiles.js';

/** A loopback server answering with `handle`; counts the connections it accepted. */
function useServer() {
  let server: Server;
  let url = '';
  let connections = 0;
  let handle: (request: IncomingMessage, response: ServerResponse) => void = (_request, response) => response.end();
  beforeEach(async () => {
    connections = 0;
    server = createServer((request, response) => handle(request, response));
    server.on('connection', () => connections++);
    url = `http://127.0.0.1:${await listenOnLoopback(server)}/api/`;
  });
  afterEach(() => closeServer(server));
  return {
    url: () => url,
    connections: () => connections,
    answer: (next: typeof handle) => (handle = next),
  };
}

/** What a WebClient sends: a form body, redirects refused. */
const webCall = (signal?: AbortSignal) => ({
  method: 'POST',
  headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: `Bearer ${BOT_TOKEN}` },
  body: 'channel=C123&text=hi',
  redirect: 'error' as const,
  signal,
});

describe('the Slack clients over one kept-alive connection', () => {
  const server = useServer();

  test('successive calls of the three clients go over the connection the first one opened', async () => {
    server.answer((_request, response) => {
      response.writeHead(200, { 'Content-Type': 'application/json' });
      response.end(JSON.stringify({ ok: true, channel: 'C123', ts: '1.000001' }));
    });
    const config = loadConfig({ SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_SIGNING_SECRET: SIGNING_SECRET, ANTHROPIC_API_KEY: API_KEY, SLACK_API_URL: server.url() });
    const { web, edits, reads } = createSlackClients(config, createLogger('silent'), () => undefined);
    for (let i = 0; i < 5; i++) {
      await web.chat.postMessage({ channel: 'C123', text: `post ${i}` });
      await edits.chat.update({ channel: 'C123', ts: '1.000001', text: `edit ${i}` });
      await reads.conversations.info({ channel: 'C123' });
    }
    expect(server.connections()).toBe(1);
  });
});

describe('slackFetch answers as fetch does', () => {
  const server = useServer();

  test('sends the method, headers and body; gives the status, status text, every header and the gzip-decoded body', async () => {
    let received: { method?: string; type?: string; auth?: string; body?: string } = {};
    server.answer(async (request, response) => {
      received = { method: request.method, type: request.headers['content-type'], auth: request.headers.authorization, body: await readBody(request) };
      response.writeHead(429, 'Too Many Requests', [
        ['Content-Type', 'application/json'],
        ['Content-Encoding', 'gzip'],
        ['Retry-After', '7'],
        ['Set-Cookie', 'a=1'],
        ['Set-Cookie', 'b=2'],
      ]);
      response.end(gzipSync(JSON.stringify({ ok: false, error: 'ratelimited' })));
    });
    const response = await slackFetch(`${server.url()}chat.update`, webCall());
    expect(received).toEqual({ method: 'POST', type: 'application/x-www-form-urlencoded', auth: `Bearer ${BOT_TOKEN}`, body: 'channel=C123&text=hi' });
    expect([response.status, response.statusText, response.headers.get('retry-after')]).toEqual([429, 'Too Many Requests', '7']);
    expect(response.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    expect(await response.json()).toEqual({ ok: false, error: 'ratelimited' });
  });

  test("rejects with the signal's reason when it times out before the answer or in the middle of the body", async () => {
    server.answer(() => undefined);
    await expect(slackFetch(`${server.url()}chat.postMessage`, webCall(AbortSignal.timeout(50)))).rejects.toMatchObject({ name: 'TimeoutError' });
    server.answer((_request, response) => {
      response.writeHead(200, { 'Content-Type': 'application/json' });
      response.write('{"ok":');
    });
    await expect(slackFetch(`${server.url()}chat.postMessage`, webCall(AbortSignal.timeout(200)))).rejects.toMatchObject({ name: 'TimeoutError' });
    const aborted = new AbortController();
    aborted.abort(new Error('stopped'));
    await expect(slackFetch(`${server.url()}chat.postMessage`, webCall(aborted.signal))).rejects.toThrow('stopped');
  });

  test('rejects a redirect (there is none to follow) and an unreachable host with TypeError "fetch failed"', async () => {
    server.answer((_request, response) => {
      response.writeHead(302, { Location: 'http://127.0.0.1:1/elsewhere' });
      response.end();
    });
    await expect(slackFetch(`${server.url()}chat.postMessage`, webCall())).rejects.toMatchObject({ message: 'fetch failed', cause: { message: 'unexpected redirect' } });
    const unreachable = slackFetch(`http://127.0.0.1:${await unusedPort()}/api/auth.test`, webCall());
    await expect(unreachable).rejects.toMatchObject({ message: 'fetch failed', cause: { code: 'ECONNREFUSED' } });
  });

  test('sends a FormData body (a file upload) as multipart', async () => {
    let type = '';
    let body = '';
    server.answer(async (request, response) => {
      type = request.headers['content-type'] ?? '';
      body = await readBody(request);
      response.end('{"ok":true}');
    });
    const form = new FormData();
    form.append('file', new Blob(['file bytes']), 'notes.txt');
    const response = await slackFetch(`${server.url()}files.upload`, { method: 'POST', body: form, redirect: 'error' });
    expect(response.status).toBe(200);
    expect(type).toMatch(/^multipart\/form-data; boundary=/);
    expect(body).toContain('file bytes');
  });

  test('decodes every coding fetch decodes, asked for or not: deflate, br, GZIP in capitals, gzip then br; an empty gzip body is empty', async () => {
    const json = Buffer.from(JSON.stringify({ ok: true, text: 'héllo' }));
    const sent: [string, Buffer][] = [
      ['deflate', deflateSync(json)],
      ['br', brotliCompressSync(json)],
      ['GZIP', gzipSync(json)],
      ['gzip, br', brotliCompressSync(gzipSync(json))],
    ];
    for (const [coding, body] of sent) {
      server.answer((_request, response) => {
        response.writeHead(200, { 'Content-Type': 'application/json', 'Content-Encoding': coding });
        response.end(body);
      });
      expect(await (await slackFetch(`${server.url()}users.info`, webCall())).json()).toEqual({ ok: true, text: 'héllo' });
    }
    server.answer((_request, response) => {
      response.writeHead(200, { 'Content-Encoding': 'gzip' });
      response.end();
    });
    expect(await (await slackFetch(`${server.url()}users.info`, webCall())).text()).toBe('');
  });

  test('without a signal, fails with TypeError "fetch failed" once the server is silent for silentMs, before its answer or mid-body', async () => {
    const quickToGiveUp = createSlackFetch(300);
    server.answer(() => undefined);
    await expect(quickToGiveUp(`${server.url()}chat.postMessage`, webCall())).rejects.toMatchObject({ message: 'fetch failed' });
    server.answer((_request, response) => {
      response.writeHead(200, { 'Content-Type': 'application/json' });
      response.write('{"ok":');
    });
    await expect(quickToGiveUp(`${server.url()}chat.postMessage`, webCall())).rejects.toMatchObject({ message: 'fetch failed' });
  });

  test('an answer slower than the idle keep-alive socket timeout (4 s) still arrives, on a new or a kept-alive socket', async () => {
    server.answer((_request, response) => void setTimeout(() => response.end('{"ok":true}'), 5_000));
    expect(await (await slackFetch(`${server.url()}chat.postMessage`, webCall())).json()).toEqual({ ok: true });
    expect(await (await slackFetch(`${server.url()}chat.postMessage`, webCall())).json()).toEqual({ ok: true });
  }, 30_000);
});
