import type { FakeSlack } from '../fakes/fakeSlack.js';
import { deliverEvent, mentionEvent } from '../fakes/slackRequests.js';
import { SIGNING_SECRET } from '../harness.js';
import { spawnBot, useFakeServers } from '../processBot.js';

const GRACE_MS = 1000;
/**
 * The promise: the process is gone within SHUTDOWN_GRACE_MS + 5 s of SIGTERM, whatever Slack does. Checked against
 * what Slack does rather than that stopwatch, which a loaded machine stretches: it ends itself in half the time
 * Slack would hold it (a final edit is retried for 60 s; a hanging Slack answers in 10 minutes).
 */
const SLACK_WOULD_LET_IT_GO_MS = 60_000;

describe('shutdown has a hard deadline, whatever Slack does', () => {
  const fakes = useFakeServers();

  test.each<[string, (slack: FakeSlack) => void]>([
    ['Slack answers every call with HTTP 500', (slack) => ['chat.update', 'chat.postMessage'].forEach((method) => slack.failNext(method, { status: 500 }, 1000))],
    ['Slack answers every call with internal_error', (slack) => ['chat.update', 'chat.postMessage'].forEach((method) => slack.failNext(method, { error: 'internal_error' }, 1000))],
    ['Slack hangs', (slack) => (slack.latencyMs = 10 * 60_000)],
  ])('SIGTERM mid-answer while %s: the process ends itself, long before Slack would let it', async (_name, breakSlack) => {
    const [slack, claude] = [fakes.slack(), fakes.claude()];
    const bot = await spawnBot(slack, claude, { HISTORY_STORE: 'memory', SHUTDOWN_GRACE_MS: String(GRACE_MS), EDIT_INTERVAL_MS: '200' });
    claude.enqueue({ chunks: Array.from({ length: 200 }, (_, i) => `p${i} `), delayMs: 100 });
    await deliverEvent(bot.url, SIGNING_SECRET, mentionEvent({ text: '<@UBOT> a long question' }));
    await slack.waitFor(() => slack.callsOf('chat.update').length >= 1, 10_000);
    breakSlack(slack);

    bot.child.kill('SIGTERM');
    // Half the time Slack's failure lasts (and within Jest's 40 s): a process waiting for Slack is still there.
    let timer: NodeJS.Timeout | undefined;
    const exited = await Promise.race([
      bot.exited.then(() => true),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), SLACK_WOULD_LET_IT_GO_MS / 2))),
    ]);
    clearTimeout(timer);
    if (!exited) bot.child.kill('SIGKILL');
    expect(exited).toBe(true);
    expect(bot.child.signalCode).toBeNull();
  }, 40_000);
});
