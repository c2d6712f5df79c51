import type { FetchFunction } from '@slack/web-api';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';

/** What a WebClient's `fetch` option is called with (method, headers, a string or FormData body, redirect, signal), answering a `Response`. */
export type WebFetch = (url: string | URL, init?: Parameters<FetchFunction>[1]) => Promise<Response>;

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
/** Decoders of the content codings fetch decodes (Fetch standard; "x-gzip" is gzip). */
const DECODERS: Record<string, (raw: Buffer) => Buffer> = { gzip: gunzipSync, 'x-gzip': gunzipSync, deflate: inflateSync, br: brotliDecompressSync };
/** Statuses whose Response must have no body (Fetch standard, "null body status"). */
const NULL_BODY = new Set([101, 204, 205, 304]);

/**
 * The Slack WebClients' `fetch`: a Web API call (a string body, `redirect: 'error'`, which is how
 * @slack/web-api 8 sends every call) goes over node:http(s) with a keep-alive Agent; anything else (a FormData
 * upload, another redirect mode) goes to the global `fetch`. Why hand-written: once @slack/bolt has loaded
 * npm undici 7, the global fetch runs over undici 7's Agent, and on loopback this path reaches the server in
 * about half the time and half the CPU per call (bench/slackFetch.ts). As fetch does, it rejects with the
 * signal's reason on abort or timeout, with a TypeError "fetch failed" (cause: the socket error) when the
 * request fails, and with a TypeError on a 3xx (there is no redirect to follow); the Response has the
 * status, status text and every response header, its body already read and decoded (gzip, deflate or br, as
 * fetch decodes them, whatever was asked for). `silentMs`: see SILENT_RESPONSE_MS.
 */
export function createSlackFetch(silentMs = SILENT_RESPONSE_MS): WebFetch {
  return (url, init) => send(url, init, silentMs);
}

/** The Slack WebClients' `fetch` (see createSlackFetch). */
export const slackFetch: WebFetch = createSlackFetch();

function send(url: string | URL, init: Parameters<WebFetch>[1] = {}, silentMs: number): Promise<Response> {
  const webApiCall = (typeof init.body === 'string' || init.body === undefined) && init.redirect === 'error';
  if (!webApiCall) return fetch(url, init);
  const target = new URL(url);
  const request = target.protocol === 'https:' ? httpsRequest : target.protocol === 'http:' ? httpRequest : undefined;
  if (!request) return Promise.reject(new TypeError(`fetch failed: unsupported protocol ${target.protocol}`));
  const signal = init.signal;
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise<Response>((resolve, reject) => {
    const fail = (error: unknown) => reject(signal?.aborted ? signal.reason : new TypeError('fetch failed', { cause: error }));
    const outgoing = request(
      target,
      {
        method: init.method ?? 'GET',
        headers: { 'accept-encoding': 'gzip', ...init.headers },
        agent: agents[target.protocol as keyof typeof agents],
        signal,
      },
      (incoming) => {
        const status = incoming.statusCode ?? 0;
        if (status >= 300 && status < 400) {
          incoming.destroy();
          return fail(new Error('unexpected redirect'));
        }
        const chunks: Buffer[] = [];
        incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
        incoming.on('error', fail);
        // A response cut short (the socket closed, the signal aborted) emits 'error' ("aborted").
        incoming.on('end', () => {
          try {
            resolve(responseOf(incoming, status, Buffer.concat(chunks)));
          } catch (error) {
            fail(error);
          }
        });
      },
    );
    outgoing.on('error', fail);
    outgoing.setTimeout(silentMs, () => outgoing.destroy(new Error(`no answer for ${silentMs} ms`)));
    outgoing.end(init.body);
  });
}

/** The Response fetch would give for `incoming`: all raw headers (repeated ones kept), the body decoded. Throws on a corrupt coding. */
function responseOf(incoming: IncomingMessage, status: number, raw: Buffer): Response {
  const headers = new Headers();
  for (let i = 0; i < incoming.rawHeaders.length; i += 2) headers.append(incoming.rawHeaders[i]!, incoming.rawHeaders[i + 1]!);
  // fetch decodes the body and keeps the header; so do we (a server may send a coding we did not ask for).
  const body = NULL_BODY.has(status) ? null : decoded(raw, headers.get('content-encoding'));
  return new Response(body, { status, statusText: incoming.statusMessage ?? '', headers });
}

/**
 * `raw` undone of the codings `contentEncoding` lists, last applied first (RFC 9110 §8.4); an empty body stays
 * empty, and a body with a coding fetch does not know is given as it came, as fetch gives it.
 */
function decoded(raw: Buffer, contentEncoding: string | null): Buffer {
  const codings = (contentEncoding ?? '').toLowerCase().split(',').map((coding) => coding.trim()).filter((coding) => coding && coding !== 'identity');
  if (raw.length === 0 || codings.some((coding) => !DECODERS[coding])) return raw;
  return codings.reduceRight((body, coding) => DECODERS[coding]!(body), raw);
}
