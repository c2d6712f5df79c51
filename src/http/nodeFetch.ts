import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import { brotliDecompressSync, createBrotliDecompress, createGunzip, createInflate, gunzipSync, inflateSync } from 'node:zlib';

/** `fetch` as the WebClients and the Anthropic client call it (a URL; method, headers, a body, redirect, signal), answering a `Response`. */
export type NodeFetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/**
 * Idle keep-alive sockets close after this long (ms): below the 5 s keep-alive timeout of common servers, so a
 * request does not go out on a socket the server is closing. undici uses 4 s for the same reason.
 */
const IDLE_SOCKET_MS = 4_000;
const agentOptions = { keepAlive: true, scheduling: 'lifo', timeout: IDLE_SOCKET_MS } as const;
const agents = { 'http:': new HttpAgent(agentOptions), 'https:': new HttpsAgent(agentOptions) };
/**
 * A request fails when its socket stays silent this long (ms) before the response ends: fetch (undici) gives up
 * after 300 s without headers or between body chunks, and a WebClient without `timeout` (the posting client)
 * relies on that, else a server that never answers holds its call, and the answer waiting on it, forever.
 */
export const SILENT_RESPONSE_MS = 300_000;
/**
 * A connection not made within this long (ms) fails the request, as undici's connect timeout (10 s) fails fetch's;
 * until then the Agent's idle timeout (4 s, set on each new socket) must not cut a slow connect short.
 */
const CONNECT_MS = 10_000;
/** Decoders of the content codings fetch decodes (Fetch standard; "x-gzip" is gzip): whole bodies, and streamed ones. */
const DECODERS: Record<string, { whole: (raw: Buffer) => Buffer; stream: () => NodeJS.ReadWriteStream }> = {
  gzip: { whole: gunzipSync, stream: createGunzip },
  'x-gzip': { whole: gunzipSync, stream: createGunzip },
  deflate: { whole: inflateSync, stream: createInflate },
  br: { whole: brotliDecompressSync, stream: createBrotliDecompress },
};
/** How many bytes of a streamed body may wait for its reader before the socket is paused (undici reads 64 KiB ahead too). */
const STREAM_BUFFER_BYTES = 64 * 1024;
/** Statuses whose Response must have no body (Fetch standard, "null body status"). */
const NULL_BODY = new Set([101, 204, 205, 304]);

/** How the Response's body is given: read whole before the Response resolves, or streamed as it arrives. */
export type BodyMode = 'whole' | 'streamed';

/**
 * A `fetch` over node:http(s) with a keep-alive Agent, for a request with a string body (or none); any other
 * body (FormData, a stream), a `Request` and `redirect: 'manual'` go to the global `fetch`. Why hand-written: once
 * @slack/bolt has loaded npm undici 7, the global fetch runs over undici 7's Agent, and on loopback this path
 * reaches the server in about half the time and half the CPU per call (bench/slackFetch.ts); for Claude's
 * stream the bench's CPU section measured 9 % less CPU per answer and 4 % less per token (README). As fetch does, it rejects with the signal's
 * reason on abort or timeout, and with a TypeError "fetch failed" (cause: the socket error) when the request
 * fails; unlike fetch it follows no redirect: a 3xx rejects with that TypeError (the WebClients ask for
 * `redirect: 'error'`; the Anthropic API does not redirect). The Response has the status, status text and
 * every response header, its body decoded (gzip, deflate or br, as fetch decodes them, whatever was asked
 * for): read whole (`'whole'`: Slack's small JSON answers), or streamed (`'streamed'`: Claude's server-sent
 * events), its stream erroring as fetch's does when the request is aborted or cut off. `silentMs`: see
 * SILENT_RESPONSE_MS.
 */
export function createNodeFetch(body: BodyMode, silentMs = SILENT_RESPONSE_MS): NodeFetch {
  return (input, init) => (input instanceof Request ? fetch(input, init) : send(input, init, body, silentMs));
}

function send(url: string | URL, init: RequestInit = {}, mode: BodyMode, silentMs: number): Promise<Response> {
  const stringBody = typeof init.body === 'string' || init.body === undefined || init.body === null;
  if (!stringBody || init.redirect === 'manual') return fetch(url, init);
  const target = new URL(url);
  const request = target.protocol === 'https:' ? httpsRequest : target.protocol === 'http:' ? httpRequest : undefined;
  if (!request) return Promise.reject(new TypeError(`fetch failed: unsupported protocol ${target.protocol}`));
  const signal = init.signal ?? undefined;
  if (signal?.aborted) return Promise.reject(signal.reason);
  const failure = (error: unknown) => (signal?.aborted ? signal.reason : new TypeError('fetch failed', { cause: error }));
  return new Promise<Response>((resolve, reject) => {
    const fail = (error: unknown) => reject(failure(error));
    const outgoing = request(
      target,
      { method: init.method ?? 'GET', headers: { 'accept-encoding': 'gzip', ...requestHeaders(init.headers) }, agent: agents[target.protocol as keyof typeof agents], signal },
      (incoming) => {
        const status = incoming.statusCode ?? 0;
        if (status >= 300 && status < 400) {
          incoming.destroy();
          return fail(new Error(`redirect to ${incoming.headers.location ?? '?'} not followed`));
        }
        const headers = responseHeaders(incoming);
        const answered = { status, statusText: incoming.statusMessage ?? '', headers };
        if (mode === 'streamed') {
          if (!NULL_BODY.has(status)) return resolve(new Response(streamOf(incoming, headers.get('content-encoding'), failure), answered));
          // Read to its end anyway, so its kept-alive socket goes back to the pool.
          incoming.resume();
          return resolve(new Response(null, answered));
        }
        const chunks: Buffer[] = [];
        incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
        incoming.on('error', fail);
        // A response cut short (the socket closed, the signal aborted) emits 'error' ("aborted").
        incoming.on('end', () => {
          try {
            resolve(new Response(NULL_BODY.has(status) ? null : decoded(Buffer.concat(chunks), headers.get('content-encoding')), answered));
          } catch (error) {
            fail(error);
          }
        });
      },
    );
    outgoing.on('error', fail);
    outgoing.on('socket', (socket) => {
      if (socket.connecting) socket.setTimeout(CONNECT_MS);
    });
    // From its connection on, the request's socket times out after silentMs (node:http applies it at 'connect').
    outgoing.setTimeout(silentMs, () =>
      outgoing.destroy(new Error(outgoing.socket?.connecting ? `no connection within ${CONNECT_MS} ms` : `no answer for ${silentMs} ms`)),
    );
    outgoing.end(init.body ?? undefined);
  });
}

/** A request's headers as node:http takes them (a plain object). */
function requestHeaders(headers: RequestInit['headers']): Record<string, string> {
  if (headers === undefined) return {};
  return headers instanceof Headers || Array.isArray(headers) ? Object.fromEntries(new Headers(headers)) : (headers as Record<string, string>);
}

/** All raw headers of a response, repeated ones kept. */
function responseHeaders(incoming: IncomingMessage): Headers {
  const headers = new Headers();
  for (let i = 0; i < incoming.rawHeaders.length; i += 2) headers.append(incoming.rawHeaders[i]!, incoming.rawHeaders[i + 1]!);
  return headers;
}

/** The codings of a Content-Encoding header, in the order they were applied; undefined when one is unknown to fetch. */
function codingsOf(contentEncoding: string | null): string[] | undefined {
  const codings = (contentEncoding ?? '').toLowerCase().split(',').map((coding) => coding.trim()).filter((coding) => coding && coding !== 'identity');
  return codings.every((coding) => DECODERS[coding]) ? codings : undefined;
}

/**
 * `raw` undone of its codings, last applied first (RFC 9110 §8.4); an empty body stays empty, and a body with a
 * coding fetch does not know is given as it came, as fetch gives it. Throws on a corrupt coding.
 */
function decoded(raw: Buffer, contentEncoding: string | null): Buffer {
  const codings = codingsOf(contentEncoding);
  if (raw.length === 0 || !codings) return raw;
  return codings.reduceRight((body, coding) => DECODERS[coding]!.whole(body), raw);
}

/**
 * The body of `incoming` as a byte stream, decoded as it arrives; it errors with `failure(cause)` when the
 * response is cut short or corrupt, and cancelling it (the reader gave up) closes the socket.
 */
function streamOf(incoming: IncomingMessage, contentEncoding: string | null, failure: (cause: unknown) => unknown): ReadableStream<Uint8Array> {
  // Last applied first (RFC 9110 §8.4).
  const decoders = (codingsOf(contentEncoding) ?? []).reverse().map((coding) => DECODERS[coding]!.stream() as unknown as Readable);
  const source: Readable = decoders.at(-1) ?? incoming;
  // Set once the stream is closed, errored or cancelled: a controller takes nothing after that.
  let ended = false;
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        const close = () => {
          if (!ended) controller.close();
          ended = true;
        };
        const cut = (error: unknown) => {
          if (!ended) controller.error(failure(error));
          ended = true;
        };
        source.on('data', (chunk: Buffer) => {
          if (ended) return;
          controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
          // Backpressure: the socket is read no faster than the reader takes the chunks.
          if ((controller.desiredSize ?? 1) <= 0) source.pause();
        });
        source.on('end', close);
        if (decoders.length === 0) {
          incoming.on('error', cut);
          return;
        }
        // An empty coded body is empty, as fetch gives it (a decoder fails on no input at all).
        let empty = true;
        incoming.once('data', () => (empty = false));
        // Any stream of the chain failing (the socket cut, a corrupt coding at any level) errors the body.
        const chain = [incoming, ...decoders];
        const failed = (error: unknown) => {
          for (const stream of chain) stream.destroy();
          if (empty && incoming.complete) close();
          else cut(error);
        };
        chain.reduce((from, to) => from.pipe(to as unknown as NodeJS.WritableStream) as unknown as Readable);
        for (const stream of chain) stream.on('error', failed);
      },
      pull() {
        source.resume();
      },
      cancel() {
        ended = true;
        incoming.destroy();
        for (const decoder of decoders) decoder.destroy();
      },
    },
    // A queue of bytes, not of chunks: with the default (one chunk) the socket would be paused after every
    // chunk until the reader asks again, Claude's events read one at a time.
    new ByteLengthQueuingStrategy({ highWaterMark: STREAM_BUFFER_BYTES }),
  );
}
