import { deliverEvent, mentionEvent } from '../fakes/slackRequests.js';
import { SIGNING_SECRET, startTestBot, type TestBot } from '../harness.js';

describe('HTTP mode', () => {
  let t: TestBot;
  beforeEach(async () => {
    t = await startTestBot();
  });
  afterEach(() => t.stop());

  test('GET /healthz answers 200', async () => {
    const response = await fetch(`${t.url}/healthz`);
    expect(response.status).toBe(200);
  });

  test('a request with a bad signature is rejected with 401 and not answered', async () => {
    const response = await deliverEvent(t.url, SIGNING_SECRET, mentionEvent(), { badSignature: true });
    expect(response.status).toBe(401);
  });

  test('a request signed more than 5 minutes ago is rejected with 401', async () => {
    const stale = Math.floor(Date.now() / 1000) - 6 * 60;
    const response = await deliverEvent(t.url, SIGNING_SECRET, mentionEvent(), { timestamp: stale });
    expect(response.status).toBe(401);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(t.claude.requests).toHaveLength(0);
    expect(t.slack.callsOf('chat.postMessage')).toHaveLength(0);
  });
});
