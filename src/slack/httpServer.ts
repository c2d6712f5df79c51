import type { BufferedIncomingMessage, HTTPReceiver } from '@slack/bolt';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse as parseForm } from 'node:querystring';
import { ConfigError } from '../config.js';
import type { Logger } from '../logger.js';
import { isRoutableSlackBody } from './requestBody.js';
import { checkSignatureHeaders, checkSlackSignature } from './requestSignature.js';

/** Seconds a draining instance asks callers to wait before retrying elsewhere. */
const RETRY_AFTER_SECONDS = 5;
/** A readiness check slower than this counts as "not ready": a probe must never hang on a stuck store. */
const READY_TIMEOUT_MS = 2_000;

/**
 * What one client can make the server hold. Slack's largest payloads for this bot are message events (text
 * up to 40,000 characters, repeated in rich-text blocks: a few hundred KB at worst) and interactive payloads
 * echoing a message; Bolt's 4 MB default is far above that. Slack waits 3 s for an answer, so a request that
 * takes 10 s to arrive is of no use to anyone. At most MAX_CONNECTIONS × BODY_LIMIT_BYTES of bodies are
 * ever buffered (128 MB), and only for requests whose signature headers are fresh.
 */
export const HTTP_LIMITS = {
  /** Largest signed request body (413 beyond). */
  bodyLimitBytes: 1024 * 1024,
  /** Largest unsigned body: only Slack's SSL check (`ssl_check=1&token=…`) comes without a signature. */
  sslCheckLimitBytes: 1024,
  headersTimeoutMs: 5_000,
  requestTimeoutMs: 10_000,
  /** Connections beyond this are closed at once (Node's `server.maxConnections`). */
  maxConnections: 128,
} as const;
/** How often Node looks for requests past their time-out (its default is 30 s, which would stretch them). */
const TIMEOUT_CHECK_MS = 1_000;
/** At most one "connections dropped" line per this period. */
const DROP_LOG_INTERVAL_MS = 60_000;

export interface HttpServerOptions {
  /** Bolt's receiver, built with the same signing secret; it handles verified `POST /slack/events`. */
  receiver: HTTPReceiver;
  signingSecret: string;
  /** True from SIGTERM on: events get 503 so Slack redelivers them to another instance. */
  isDraining: () => boolean;
  /** Whether the stores can take writes, for `GET /readyz`; a rejection or a 2 s wait counts as false. */
  ready: () => Promise<boolean>;
  logger: Logger;
  /** More routes, such as `/metrics`. */
  routes?: Routes;
}

export type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;
/** Handlers by path, then by HTTP method. */
export type Routes = Record<string, Record<string, Handler>>;

/**
 * The HTTP-mode server. Routes on the URL's path (a query string is ignored):
 * - `GET|HEAD /healthz`: 200 while the process runs (liveness, also while draining);
 * - `GET|HEAD /readyz`: 200 when `ready()` says the stores work and the process is not draining, else 503;
 * - `POST /slack/events`: events, slash commands and interactivity. Missing or stale signature headers are
 *   refused (401, including timestamps more than 5 minutes in the future) before the body is read; the body
 *   is read within HTTP_LIMITS (413 past it), its signature checked, and a body Bolt cannot route answered
 *   400, before Bolt's receiver sees the request.
 * - any of `routes`.
 * Any other path is 404, any other method 405 with `Allow`. No request can throw out of the handler:
 * an unexpected error is logged and answered 500. Connections, header and request times are bounded by HTTP_LIMITS.
 */
export function createHttpServer(options: HttpServerOptions): Server {
  const routes: Routes = { ...probeRoutes(options), '/slack/events': { POST: eventsHandler(options, text) }, ...options.routes };
  return limitedServer(routeRequests(routes, options.logger), options.logger);
}

/** `GET|HEAD /healthz` and `GET|HEAD /readyz`, as createHttpServer describes them. */
export function probeRoutes({ isDraining, ready }: Pick<HttpServerOptions, 'isDraining' | 'ready'>): Routes {
  const live: Handler = (_req, res) => text(res, 200, 'ok');
  const readiness: Handler = async (_req, res) => {
    const isReady = !isDraining() && (await within(ready(), READY_TIMEOUT_MS).catch(() => false));
    text(res, isReady ? 200 : 503, isReady ? 'ready' : 'not ready');
  };
  return { '/healthz': { GET: live, HEAD: live }, '/readyz': { GET: readiness, HEAD: readiness } };
}

/** Routes each request on its path (a query string is ignored), then method: 404, 405 with `Allow`, or 500 (logged) for an unexpected error. */
export function routeRequests(routes: Routes, logger: Logger): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const path = pathOf(req.url);
    const methods = path !== undefined && Object.hasOwn(routes, path) ? routes[path] : undefined;
    const handler = methods && Object.hasOwn(methods, req.method ?? '') ? methods[req.method!] : undefined;
    const answer = async () => {
      if (!methods) return text(res, 404, 'not found');
      if (!handler) return text(res, 405, 'method not allowed', { Allow: Object.keys(methods).join(', ') });
      await handler(req, res);
    };
    answer().catch((error: unknown) => {
      logger.error({ err: error, method: req.method, path }, 'HTTP request failed');
      if (res.headersSent) res.destroy();
      else text(res, 500, 'internal error');
    });
  };
}

/** A server for `listener` with HTTP_LIMITS' header and request times and connection cap (dropped connections logged at most once a minute). */
export function limitedServer(listener: (req: IncomingMessage, res: ServerResponse) => void, logger: Logger): Server {
  const server = createServer(
    {
      headersTimeout: HTTP_LIMITS.headersTimeoutMs,
      requestTimeout: HTTP_LIMITS.requestTimeoutMs,
      connectionsCheckingInterval: TIMEOUT_CHECK_MS,
    },
    listener,
  );
  server.maxConnections = HTTP_LIMITS.maxConnections;
  let lastDropLog = -Infinity;
  let dropped = 0;
  server.on('drop', () => {
    dropped += 1;
    if (Date.now() - lastDropLog < DROP_LOG_INTERVAL_MS) return;
    logger.warn({ droppedSinceLastLine: dropped, maxConnections: HTTP_LIMITS.maxConnections }, 'dropped connections beyond the limit');
    lastDropLog = Date.now();
    dropped = 0;
  });
  return server;
}

/** Answers `body` as plain text. */
function text(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', ...headers }).end(body);
}

/**
 * Listens on `port` (0: any free port) of `host` (all interfaces when absent) and resolves with the port; a
 * port in use or not allowed rejects with ConfigError, one line naming `variable` (PORT, METRICS_PORT).
 */
export async function listen(server: Server, port: number, { variable = 'PORT', host }: { variable?: string; host?: string } = {}): Promise<number> {
  server.listen(port, host);
  try {
    await once(server, 'listening');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new ConfigError(`${variable} (${port}) is already in use by another process (EADDRINUSE): stop it or choose another port`);
    if (code === 'EACCES') throw new ConfigError(`${variable} (${port}) needs privileges the bot does not have (EACCES): choose a port above 1023`);
    throw new ConfigError(`${variable} (${port}) cannot be listened on: ${code ?? (error as Error).message}`);
  }
  return (server.address() as AddressInfo).port;
}

/**
 * `POST /slack/events`: drain check; signature headers (present, fresh) before any of the body is read, so an
 * unsigned or replayed request costs nothing; the body within its limit; the signature; a routable body; Bolt.
 */
function eventsHandler(
  { receiver, signingSecret, isDraining, logger }: HttpServerOptions,
  text: (res: ServerResponse, status: number, body: string, headers?: Record<string, string>) => void,
): Handler {
  /** 401, and the connection closes: an unsigned client cannot keep us reading (or discarding) its body. */
  const unsigned = (res: ServerResponse, rejection: string) => {
    logger.info({ rejection }, 'refused a request with an invalid signature');
    text(res, 401, 'invalid signature', { Connection: 'close' });
  };
  return async (req, res) => {
    if (isDraining()) return text(res, 503, 'shutting down', { 'Retry-After': String(RETRY_AFTER_SECONDS) });
    const signed = { signature: header(req, 'x-slack-signature'), timestamp: header(req, 'x-slack-request-timestamp') };
    const headerRejection = checkSignatureHeaders(signed, Date.now());
    // Slack's SSL check is the one unsigned request: a small form, read only that far.
    const maybeSslCheck = headerRejection === 'missing_headers' && isForm(req);
    if (headerRejection && !maybeSslCheck) return unsigned(res, headerRejection);
    const read = await readBody(req, maybeSslCheck ? HTTP_LIMITS.sslCheckLimitBytes : HTTP_LIMITS.bodyLimitBytes);
    if (read === 'aborted') {
      // The client's doing (it hung up, or took longer than the request time-out): nothing to answer, nothing wrong here.
      logger.info({ path: '/slack/events' }, 'a client closed its request before sending the whole body');
      return;
    }
    if (read === 'too_large') {
      if (maybeSslCheck) return unsigned(res, 'missing_headers');
      logger.warn({ bodyLimit: HTTP_LIMITS.bodyLimitBytes }, 'refused a request body over the limit');
      // The rest is being discarded (see readBody) within the request time-out, so the client can read the 413.
      return text(res, 413, 'request body too large');
    }
    // Bolt reads `rawBody` instead of the (now consumed) stream.
    const buffered = Object.assign(req, { rawBody: read }) as BufferedIncomingMessage;
    if (maybeSslCheck) {
      if (!isSslCheck(buffered)) return unsigned(res, 'missing_headers');
    } else {
      const rejection = checkSlackSignature({ body: read, ...signed }, signingSecret, Date.now());
      if (rejection) return unsigned(res, rejection);
      if (!isRoutableSlackBody(buffered)) {
        logger.warn('refused a signed request whose body Bolt cannot route');
        return text(res, 400, 'malformed request body');
      }
    }
    receiver.requestListener(buffered, res);
  };
}

/** A form body, as Slack's SSL check is sent. */
function isForm(req: IncomingMessage): boolean {
  return req.headers['content-type'] === 'application/x-www-form-urlencoded';
}

/** Slack's unsigned SSL check (`ssl_check=1`), detected exactly as Bolt detects it; Bolt answers it. */
function isSslCheck(req: BufferedIncomingMessage): boolean {
  return isForm(req) && parseForm(req.rawBody.toString()).ssl_check === '1';
}

/** The request's path without query string, or undefined for a target that is not a valid URL path. */
function pathOf(url: string | undefined): string | undefined {
  try {
    return new URL(url ?? '', 'http://localhost').pathname;
  } catch {
    return undefined;
  }
}

/** A single-valued header; repeated or absent headers give undefined. */
function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' ? value : undefined;
}

/**
 * Reads the whole body; 'too_large' once it exceeds `limit` bytes (the rest is read and discarded rather than
 * the connection cut, so the client can finish sending and read the 413); 'aborted' when the client hung up
 * or Node's request time-out cut it off first.
 */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too_large' | 'aborted'> {
  if (Number(req.headers['content-length']) > limit) {
    req.resume();
    return Promise.resolve('too_large');
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      req.off('data', onData);
      req.resume();
      resolve('too_large');
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks)));
    // After 'end' these settle nothing: a promise resolves once.
    req.once('error', () => resolve('aborted'));
    req.once('close', () => resolve('aborted'));
  });
}

/** `promise`'s value, or false when it takes longer than `ms`. */
async function within(promise: Promise<boolean>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
