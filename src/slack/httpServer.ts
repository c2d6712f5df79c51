import type { HTTPReceiver } from '@slack/bolt';
import { createServer, type Server } from 'node:http';

/** Seconds a draining instance asks callers to wait before retrying elsewhere. */
const RETRY_AFTER_SECONDS = 5;

/**
 * The HTTP-mode server: `GET /healthz`, then Bolt's receiver (signature check, events, commands,
 * interactivity on `/slack/events`). While draining it answers 503 so Slack redelivers to another instance
 * and load balancers stop routing here.
 */
export function createHttpServer(receiver: HTTPReceiver, isDraining: () => boolean): Server {
  return createServer((req, res) => {
    if (isDraining()) {
      res.writeHead(503, { 'Retry-After': String(RETRY_AFTER_SECONDS) }).end('shutting down');
      return;
    }
    if (req.method === 'GET' && req.url === '/healthz') {
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok');
      return;
    }
    receiver.requestListener(req, res);
  });
}
