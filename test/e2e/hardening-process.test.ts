import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { deliverEvent, mentionEvent } from '../fakes/slackRequests.js';
import { firstReplyVersions, SIGNING_SECRET, versionsOf } from '../harness.js';
import { spawnBot, useFakeServers } from '../processBot.js';

const injectFault = ['--import', pathToFileURL(join(resolve(import.meta.dirname, '..'), 'fixtures/injectFault.ts')).href];

describe('process-level failures are logged, never silent', () => {
  const fakes = useFakeServers();

  test('a stray promise rejection is logged with its error and the process keeps answering', async () => {
    const [slack, claude] = [fakes.slack(), fakes.claude()];
    const bot = await spawnBot(slack, claude, { HISTORY_STORE: 'memory', EDIT_INTERVAL_MS: '200', FAULT: 'reject' }, { nodeArgs: injectFault });
    try {
      bot.child.kill('SIGUSR2');
      await slack.waitFor(() => bot.output().includes('injected stray rejection'), 5_000);
      const line = bot.output().split('\n').find((l) => l.includes('injected stray rejection'))!;
      expect(JSON.parse(line).level).toBeGreaterThanOrEqual(50);

      claude.enqueue({ chunks: ['still ', 'serving'] });
      await deliverEvent(bot.url, SIGNING_SECRET, mentionEvent({ text: '<@UBOT> are you there?' }));
      await slack.waitFor(() => firstReplyVersions(slack).at(-1) === 'still serving', 10_000);
      expect(bot.child.exitCode).toBeNull();
    } finally {
      bot.child.kill('SIGKILL');
    }
  });

  test('an uncaught exception is logged, then the process drains like on SIGTERM and exits non-zero', async () => {
    const [slack, claude] = [fakes.slack(), fakes.claude()];
    const bot = await spawnBot(
      slack,
      claude,
      { HISTORY_STORE: 'memory', EDIT_INTERVAL_MS: '200', SHUTDOWN_GRACE_MS: '1000', FAULT: 'throw' },
      { nodeArgs: injectFault },
    );
    claude.enqueue({ chunks: Array.from({ length: 100 }, (_, i) => `p${i} `), delayMs: 100 });
    await deliverEvent(bot.url, SIGNING_SECRET, mentionEvent({ text: '<@UBOT> long question' }));
    await slack.waitFor(() => slack.callsOf('chat.update').length >= 1, 10_000);

    bot.child.kill('SIGUSR2');
    await slack.waitFor(() => bot.output().includes('injected uncaught exception'), 5_000);
    const late = await deliverEvent(bot.url, SIGNING_SECRET, mentionEvent({ text: '<@UBOT> too late' }));
    expect(late.status).toBe(503);

    expect(await bot.exited).toBe(1);
    const replyTs = slack.callsOf('chat.postMessage')[0]!.response.ts as string;
    expect(versionsOf(slack, replyTs).at(-1)).toMatch(/^p0 p1 .*Answer cut short by a restart of the bot/s);
  });
});
