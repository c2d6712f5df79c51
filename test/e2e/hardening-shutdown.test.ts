import type { FakeSlack } from '../fakes/fakeSlack.js';
import { deliverEvent, mentionEvent } from '../fakes/slackRequests.js';
import { SIGNING_SECRET } from '../harness.js';
import { spawnBot, useFakeServers } from '../processBot.js';

const GRACE_MS = 1000;
/** The promise: the process is gone within SHUTDOWN_GRACE_MS + 5 s of SIGTERM, whatever Slack does. */
const DEADLINE_MS = GRACE_MS + 5000;

describe('shutdown has a hard deadline, whatever Slack does', () => {
  const fakes = useFakeServers();

  test.each<[string, (slack: FakeSlack) => void]>([
    ['Slack answers every call with HTTP 500', (slack) => ['chat.update', 'chat.postMessage'].forEach((method) => slack.failNext(method, { status: 500 }, 1000))],
    ['Slack answers every call with internal_error', (slack) => ['chat.update', 'chat.postMessage'].forEach((method) => slack.failNext(method, { error: 'internal_error' }, 1000))],
    ['Slack hangs', (slack) => (slack.latencyMs = 10 * 60_000)],
  ])('SIGTERM mid-answer while %s: the process exits within the grace period + 5 s', async (_name, breakSlack) => {
    const [slack, claude] = [fakes.slack(), fakes.claude()];
    const bot = await spawnBot(slack, claude, { HISTORY_STORE: 'memory', SHUTDOWN_GRACE_MS: String(GRACE_MS), EDIT_INTERVAL_MS: '200' });
    claude.enqueue({ chunks: Array.from({ length: 200 }, (_, i) => `p${i} `), delayMs: 100 });
    await deliverEvent(bot.url, SIGNING_SECRET, mentionEvent({ text: '<@UBOT> a long question' }));
    await slack.waitFor(() => slack.callsOf('chat.update').length >= 1, 10_000);
    breakSlack(slack);

    const signalledAt = Date.now();
    bot.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const exited = await Promise.race([
      bot.exited.then(() => true),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), DEADLINE_MS + 10_000))),
    ]);
    const elapsed = Date.now() - signalledAt;
    clearTimeout(timer);
    if (!exited) bot.child.kill('SIGKILL');
    expect(exited).toBe(true);
    expect(elapsed).toBeLessThan(DEADLINE_MS);
    expect(bot.child.signalCode).toBeNull();
  }, 40_000);
});
