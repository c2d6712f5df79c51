import { createServer } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deliverEvent, mentionEvent } from '../fakes/slackRequests.js';
import { BOT_TOKEN, firstReplyVersions, SIGNING_SECRET } from '../harness.js';
import { runBotToExit, spawnBot, useFakeServers, type FinishedProcess } from '../processBot.js';

/** The process failed start-up the way an operator can act on: exit 1, one stderr line, never "bot started", no token. */
function expectOneLineFailure(result: FinishedProcess): string {
  expect(result.code).toBe(1);
  expect(result.stdout).not.toContain('bot started');
  const lines = result.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(result.stderr).not.toContain(BOT_TOKEN);
  expect(result.stderr).not.toMatch(/\n\s+at /);
  return lines[0]!;
}

describe('start-up checks through the real process', () => {
  const fakes = useFakeServers();

  test.each(['invalid_auth', 'token_revoked', 'account_inactive'])(
    'a bot token Slack refuses (%s) stops start-up with one line naming SLACK_BOT_TOKEN and the reason',
    async (error) => {
      fakes.slack().failNext('auth.test', { error });
      const line = expectOneLineFailure(await runBotToExit({ HISTORY_STORE: 'memory' }, { fakes: fakes.servers() }));
      expect(line).toContain('SLACK_BOT_TOKEN');
      expect(line).toContain(error);
    },
  );

  test('an unreachable Slack stops start-up with one line saying so', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as { port: number }).port;
    await new Promise((resolve) => closed.close(resolve));
    const result = await runBotToExit({ HISTORY_STORE: 'memory', SLACK_API_URL: `http://127.0.0.1:${port}/api/` }, { fakes: fakes.servers() });
    const line = expectOneLineFailure(result);
    expect(line).toMatch(/could not reach Slack.*SLACK_BOT_TOKEN.*ECONNREFUSED/);
  });

  test('Slack failing auth.test with HTTP 500 every time stops start-up with one line', async () => {
    fakes.slack().failNext('auth.test', { status: 500 }, 10);
    const line = expectOneLineFailure(await runBotToExit({ HISTORY_STORE: 'memory' }, { fakes: fakes.servers() }));
    expect(line).toContain('HTTP 500');
  });

  test('a port already in use stops start-up with one line', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const line = expectOneLineFailure(await runBotToExit({ HISTORY_STORE: 'memory', PORT: String(port) }, { fakes: fakes.servers() }));
      expect(line).toContain('EADDRINUSE');
    } finally {
      blocker.close();
    }
  });

  test('a history file that is a directory stops start-up with one line and no stack', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'history-dir-'));
    expectOneLineFailure(await runBotToExit({ HISTORY_DB_PATH: directory }, { fakes: fakes.servers() }));
  });

  test('a good token: auth.test is called before "bot started", and mentions are answered', async () => {
    const [slack, claude] = [fakes.slack(), fakes.claude()];
    const bot = await spawnBot(slack, claude, { HISTORY_STORE: 'memory', EDIT_INTERVAL_MS: '200' });
    try {
      expect(slack.callsOf('auth.test').length).toBeGreaterThanOrEqual(1);
      claude.enqueue({ chunks: ['up ', 'and running'] });
      await deliverEvent(bot.url, SIGNING_SECRET, mentionEvent({ text: '<@UBOT> hi' }));
      await slack.waitFor(() => firstReplyVersions(slack).at(-1) === 'up and running', 10_000);
    } finally {
      bot.child.kill('SIGTERM');
      await bot.exited;
    }
  });
});
