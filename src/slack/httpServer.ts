import { defaultBodyLimit, type BufferedIncomingMessage, type HTTPReceiver } from '@slack/bolt';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { parse as parseForm } from 'node:querystring';
import type { Logger } from '../logger.js';
import { isRoutableSlackBody } from './requestBody.js';
import { checkSlackSignature } from './requestSignature.js';

/** Seconds a draining instance asks callers to wait before retrying elsewhere. */
const RETRY_AFTER_SECONDS = 5;
/** A readiness check slower than this counts as "not ready": a probe must never hang on a stuck store. */
const READY_TIMEOUT_MS = 2_000;

export interface HttpServerOptions {
  /** Bolt's receiver, built with the same signing secret; it handles verified `POST /slack/events`. */
  receiver: HTTPReceiver;
  signingSecret: string;
  /** True from SIGTERM on: events get 503 so Slack redelivers them to another instance. */
  isDraining: () => boolean;
  /** Whether the stores can take writes, for `GET /readyz`; a rejection or a 2 s wait counts as false. */
  ready: () => Promise<boolean>;
  logger: Logger;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

/**
 * The HTTP-mode server. Routes on the URL's path (a query string is ignored):
 * - `GET|HEAD /healthz`: 200 while the process runs (liveness, also while draining);
 * - `GET|HEAD /readyz`: 200 when `ready()` says the stores work and the process is not draining, else 503;
 * - `POST /slack/events`: events, slash commands and interactivity. The body is read (413 past the limit),
 *   its signature checked here (401, including timestamps more than 5 minutes in the future), and a body
 *   Bolt cannot route answered 400, before Bolt's receiver sees the request.
 * Any other path is 404, any other method 405 with `Allow`. No request can throw out of the handler:
 * an unexpected error is logged and answered 500.
 */
export function createHttpServer(options: HttpServerOptions): Server {
  const { isDraining, logger } = options;
  const text = (res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void => {
    res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', ...headers }).end(body);
  };

  const live: Handler = (_req, res) => text(res, 200, 'ok');
  const readiness: Handler = async (_req, res) => {
    const ready = !isDraining() && (await within(options.ready(), READY_TIMEOUT_MS).catch(() => false));
    text(res, ready ? 200 : 503, ready ? 'ready' : 'not ready');
  };
  const events = eventsHandler(options, text);
  const routes: Record<string, Record<string, Handler>> = {
    '/healthz': { GET: live, HEAD: live },
    '/readyz': { GET: readiness, HEAD: readiness },
    '/slack/events': { POST: events },
  };

  return createServer((req, res) => {
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
  });
}

/** `POST /slack/events`: drain check, body limit, signature, routable body, then Bolt. */
function eventsHandler(
  { receiver, signingSecret, isDraining, logger }: HttpServerOptions,
  text: (res: ServerResponse, status: number, body: string, headers?: Record<string, string>) => void,
): Handler {
  return async (req, res) => {
    if (isDraining()) return text(res, 503, 'shutting down', { 'Retry-After': String(RETRY_AFTER_SECONDS) });
    // Bolt's own limit (4 MB): Slack's payloads are far smaller.
    const body = await readBody(req, defaultBodyLimit);
    if (body === undefined) {
      logger.warn({ bodyLimit: defaultBodyLimit }, 'refused a request body over the limit');
      return text(res, 413, 'request body too large');
    }
    // Bolt reads `rawBody` instead of the (now consumed) stream.
    const buffered = Object.assign(req, { rawBody: body }) as BufferedIncomingMessage;
    if (!isSslCheck(buffered)) {
      const rejection = checkSlackSignature(
        { body, signature: header(req, 'x-slack-signature'), timestamp: header(req, 'x-slack-request-timestamp') },
        signingSecret,
        Date.now(),
      );
      if (rejection) {
        logger.info({ rejection }, 'refused a request with an invalid signature');
        return text(res, 401, 'invalid signature');
      }
      if (!isRoutableSlackBody(buffered)) {
        logger.warn('refused a signed request whose body Bolt cannot route');
        return text(res, 400, 'malformed request body');
      }
    }
    receiver.requestListener(buffered, res);
  };
}

/** Slack's unsigned SSL check (`ssl_check=1`), detected exactly as Bolt detects it; Bolt answers it. */
function isSslCheck(req: BufferedIncomingMessage): boolean {
  return req.headers['content-type'] === 'application/x-www-form-urlencoded' && parseForm(req.rawBody.toString()).ssl_check === '1';
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
 * Reads the whole body, or resolves undefined once it exceeds `limit` bytes. The rest is read and
 * discarded rather than the connection cut, so the client can finish sending and read the 413.
 */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  if (Number(req.headers['content-length']) > limit) {
    req.resume();
    return Promise.resolve(undefined);
  }
  return new Promise((resolve, reject) => {
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
      resolve(undefined);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
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
