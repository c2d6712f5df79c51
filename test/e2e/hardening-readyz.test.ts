import { HTTPReceiver } from '@slack/bolt';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createLogger } from '../../src/logger.js';
import { createHttpServer } from '../../src/slack/httpServer.js';
import { deliverEvent, mentionEvent } from '../fakes/slackRequests.js';
import { SIGNING_SECRET, startTestBot } from '../harness.js';

/** The HTTP server alone (a real Bolt receiver behind it), with the readiness and drain state under the test's control. */
async function serve(ready: () => Promise<boolean>, draining = () => false): Promise<{ url: string; server: Server }> {
  const server = createHttpServer({
    receiver: new HTTPReceiver({ signingSecret: SIGNING_SECRET }),
    signingSecret: SIGNING_SECRET,
    isDraining: draining,
    ready,
    logger: createLogger('silent'),
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe('GET /readyz: readiness, apart from /healthz (liveness)', () => {
  let server: Server | undefined;
  afterEach(async () => {
    if (!server) return;
    server.closeAllConnections();
    await new Promise((resolve) => server!.close(resolve));
    server = undefined;
  });

  test.each<[string, number, () => Promise<boolean>]>([
    ['the stores are ready', 200, async () => true],
    ['the stores cannot take writes', 503, async () => false],
    ['the readiness check fails', 503, async () => Promise.reject(new Error('SQLITE_CORRUPT'))],
    ['the readiness check never answers', 503, () => new Promise<boolean>(() => {})],
  ])('when %s, /readyz answers %i and /healthz still 200', async (_name, status, ready) => {
    const served = await serve(ready);
    server = served.server;
    expect((await fetch(`${served.url}/readyz`)).status).toBe(status);
    expect((await fetch(`${served.url}/readyz`, { method: 'HEAD' })).status).toBe(status);
    expect((await fetch(`${served.url}/healthz`)).status).toBe(200);
  });

  test('while draining, /readyz and events answer 503 (load balancers and Slack go elsewhere); /healthz stays 200', async () => {
    const served = await serve(async () => true, () => true);
    server = served.server;
    expect((await fetch(`${served.url}/readyz`)).status).toBe(503);
    const event = await deliverEvent(served.url, SIGNING_SECRET, mentionEvent());
    expect(event.status).toBe(503);
    expect(event.headers.get('retry-after')).toBe('5');
    expect((await fetch(`${served.url}/healthz`)).status).toBe(200);
  });

  test('the real bot answers /readyz 200 once started', async () => {
    const t = await startTestBot();
    try {
      expect((await fetch(`${t.url}/readyz`)).status).toBe(200);
    } finally {
      await t.stop();
    }
  });
});
