import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { brotliCompressSync, createGzip, deflateSync, gzipSync } from 'node:zlib';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { createSlackClients } from '../../src/slack/slackClients.js';
import { createNodeFetch } from '../../src/http/nodeFetch.js';
import { closeServer, listenOnLoopback, pollUntil, readBody } from '../fakes/httpUtil.js';
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

/** A response's body, read whole: a failure mid-body rejects here in either mode. */
const read = async (response: Promise<Response>): Promise<string> => (await response).text();

describe.each(['whole', 'streamed'] as const)('createNodeFetch(%s) answers as fetch does', (mode) => {
  const nodeFetch = createNodeFetch(mode);
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
    const response = await nodeFetch(`${server.url()}chat.update`, webCall());
    expect(received).toEqual({ method: 'POST', type: 'application/x-www-form-urlencoded', auth: `Bearer ${BOT_TOKEN}`, body: 'channel=C123&text=hi' });
    expect([response.status, response.statusText, response.headers.get('retry-after')]).toEqual([429, 'Too Many Requests', '7']);
    expect(response.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    expect(await response.json()).toEqual({ ok: false, error: 'ratelimited' });
  });

  test("rejects with the signal's reason when it times out before the answer or in the middle of the body", async () => {
    server.answer(() => undefined);
    await expect(nodeFetch(`${server.url()}chat.postMessage`, webCall(AbortSignal.timeout(50)))).rejects.toMatchObject({ name: 'TimeoutError' });
    server.answer((_request, response) => {
      response.writeHead(200, { 'Content-Type': 'application/json' });
      response.write('{"ok":');
    });
    await expect(read(nodeFetch(`${server.url()}chat.postMessage`, webCall(AbortSignal.timeout(200))))).rejects.toMatchObject({ name: 'TimeoutError' });
    const aborted = new AbortController();
    aborted.abort(new Error('stopped'));
    await expect(nodeFetch(`${server.url()}chat.postMessage`, webCall(aborted.signal))).rejects.toThrow('stopped');
  });

  test('rejects a redirect (there is none to follow) and an unreachable host with TypeError "fetch failed"', async () => {
    server.answer((_request, response) => {
      response.writeHead(302, { Location: 'http://127.0.0.1:1/elsewhere' });
      response.end();
    });
    await expect(nodeFetch(`${server.url()}chat.postMessage`, webCall())).rejects.toMatchObject({ message: 'fetch failed', cause: { message: 'redirect to http://127.0.0.1:1/elsewhere not followed' } });
    const unreachable = nodeFetch(`http://127.0.0.1:${await unusedPort()}/api/auth.test`, webCall());
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
    const response = await nodeFetch(`${server.url()}files.upload`, { method: 'POST', body: form, redirect: 'error' });
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
      expect(JSON.parse(await read(nodeFetch(`${server.url()}users.info`, webCall())))).toEqual({ ok: true, text: 'héllo' });
    }
    server.answer((_request, response) => {
      response.writeHead(200, { 'Content-Encoding': 'gzip' });
      response.end();
    });
    expect(await read(nodeFetch(`${server.url()}users.info`, webCall()))).toBe('');
  });

  test('without a signal, fails with TypeError "fetch failed" once the server is silent for silentMs, before its answer or mid-body', async () => {
    const quickToGiveUp = createNodeFetch(mode, 300);
    server.answer(() => undefined);
    await expect(quickToGiveUp(`${server.url()}chat.postMessage`, webCall())).rejects.toMatchObject({ message: 'fetch failed' });
    server.answer((_request, response) => {
      response.writeHead(200, { 'Content-Type': 'application/json' });
      response.write('{"ok":');
    });
    await expect(read(quickToGiveUp(`${server.url()}chat.postMessage`, webCall()))).rejects.toMatchObject({ message: 'fetch failed' });
  });

  test('an answer slower than the idle keep-alive socket timeout (4 s) still arrives, on a new or a kept-alive socket', async () => {
    server.answer((_request, response) => void setTimeout(() => response.end('{"ok":true}'), 5_000));
    expect(JSON.parse(await read(nodeFetch(`${server.url()}chat.postMessage`, webCall())))).toEqual({ ok: true });
    expect(JSON.parse(await read(nodeFetch(`${server.url()}chat.postMessage`, webCall())))).toEqual({ ok: true });
  }, 30_000);
});

describe("createNodeFetch('streamed') gives the body as it arrives", () => {
  const server = useServer();
  const nodeFetch = createNodeFetch('streamed');
  const event = (n: number) => `event: ping\ndata: {"n":${n}}\n\n`;

  test('the Response resolves at the headers, and each event can be read before the next is sent', async () => {
    let sendNext: () => void = () => undefined;
    server.answer((_request, response) => {
      response.writeHead(200, { 'Content-Type': 'text/event-stream' });
      let n = 0;
      sendNext = () => (n < 3 ? response.write(event(n++)) : response.end());
      sendNext();
    });
    const response = await nodeFetch(`${server.url()}messages`, { method: 'POST', body: '{}' });
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    const seen: string[] = [];
    for (let next = await reader.read(); !next.done; next = await reader.read()) {
      seen.push(decoder.decode(next.value));
      sendNext();
    }
    expect(seen).toEqual([event(0), event(1), event(2)]);
  });

  test('a gzip-coded stream is decoded as it arrives', async () => {
    server.answer((_request, response) => {
      response.writeHead(200, { 'Content-Type': 'text/event-stream', 'Content-Encoding': 'gzip' });
      const gzip = createGzip();
      gzip.pipe(response);
      gzip.write(event(0));
      gzip.end(event(1));
    });
    expect(await read(nodeFetch(`${server.url()}messages`, { method: 'POST', body: '{}' }))).toBe(event(0) + event(1));
  });

  test('an abort mid-stream errors the body with the signal\'s reason; a cut connection with TypeError "fetch failed"', async () => {
    server.answer((_request, response) => {
      response.writeHead(200, { 'Content-Type': 'text/event-stream' });
      response.write(event(0));
    });
    const stopped = new AbortController();
    const response = await nodeFetch(`${server.url()}messages`, { method: 'POST', body: '{}', signal: stopped.signal });
    const reader = response.body!.getReader();
    await reader.read();
    stopped.abort(new DOMException('stopped', 'AbortError'));
    await expect(reader.read()).rejects.toMatchObject({ name: 'AbortError', message: 'stopped' });

    server.answer((_request, response) => {
      response.writeHead(200, { 'Content-Type': 'text/event-stream' });
      response.write(event(0), () => response.socket?.destroy());
    });
    await expect(read(nodeFetch(`${server.url()}messages`, { method: 'POST', body: '{}' }))).rejects.toMatchObject({ message: 'fetch failed' });
  });

  test('cancelling the body closes its connection', async () => {
    let closed = false;
    server.answer((request, response) => {
      response.writeHead(200, { 'Content-Type': 'text/event-stream' });
      response.write(event(0));
      request.socket.on('close', () => (closed = true));
    });
    const response = await nodeFetch(`${server.url()}messages`, { method: 'POST', body: '{}' });
    await response.body!.cancel();
    await pollUntil(() => closed, 5_000, () => 'the socket stayed open');
  });
});

describe('createNodeFetch: faults found by attacking it', () => {
  const server = useServer();

  test.each(['whole', 'streamed'] as const)('%s: a corrupt coding under another (gzip, gzip) fails the body with TypeError "fetch failed", whichever level is corrupt', async (mode) => {
    const nodeFetch = createNodeFetch(mode);
    const bodies = [gzipSync(Buffer.from('not gzip inside')), Buffer.from('not gzip at all')];
    for (const body of bodies) {
      server.answer((_request, response) => {
        response.writeHead(200, { 'Content-Type': 'text/event-stream', 'Content-Encoding': 'gzip, gzip' });
        response.end(body);
      });
      await expect(read(nodeFetch(`${server.url()}messages`, { method: 'POST', body: '{}' }))).rejects.toMatchObject({ message: 'fetch failed' });
    }
  });

  test.each(['whole', 'streamed'] as const)('%s: a 204 (no body) leaves their kept-alive connection to the next request', async (mode) => {
    const nodeFetch = createNodeFetch(mode);
    server.answer((_request, response) => {
      response.writeHead(204);
      response.end();
    });
    for (let i = 0; i < 3; i++) expect((await nodeFetch(`${server.url()}messages`, { method: 'POST', body: '{}' })).status).toBe(204);
    expect(server.connections()).toBe(1);
  });
});
