import { deliverEvent, mentionEvent } from '../fakes/slackRequests.js';
import type { FakeSlack } from '../fakes/fakeSlack.js';
import { API_KEY, BOT_TOKEN, firstReplyVersions, SIGNING_SECRET, versionsOf } from '../harness.js';
import { runBotToExit, spawnBot, useFakeServers } from '../processBot.js';

const PASSWORD = 'pa55-url-SECRET';

/** Everything the bot sent Slack to show: message versions and every call's parameters but the `token` it authenticates with. */
function everythingSlackSaw(slack: FakeSlack): string {
  const versions = [...slack.messages.keys()].flatMap((ts) => versionsOf(slack, ts));
  return [...versions, ...slack.calls.map(({ params: { token: _token, ...shown } }) => JSON.stringify(shown))].join('\n');
}

/** `url` with `user:PASSWORD@` credentials in it. */
const withCredentials = (url: string) => url.replace('http://', `http://bot-user:${PASSWORD}@`);

describe('secrets never reach a log line or a Slack message (real process, debug logging)', () => {
  const fakes = useFakeServers();

  test('a Claude error body that echoes the API key and the bot token', async () => {
    const [slack, claude] = [fakes.slack(), fakes.claude()];
    const bot = await spawnBot(slack, claude, { HISTORY_STORE: 'memory', LOG_LEVEL: 'debug' });
    try {
      claude.enqueue({
        httpError: { status: 401, type: 'authentication_error', message: `invalid x-api-key: ${API_KEY} (token ${BOT_TOKEN}, secret ${SIGNING_SECRET})` },
      });
      await deliverEvent(bot.url, SIGNING_SECRET, mentionEvent({ text: '<@UBOT> hello' }));
      await slack.waitFor(() => firstReplyVersions(slack).at(-1)?.includes('API key was rejected') === true, 10_000);
      await bot.child.kill('SIGTERM');
      await bot.exited;
      const seen = `${bot.output()}\n${everythingSlackSaw(slack)}`;
      expect(bot.output()).toContain('answer failed');
      for (const secret of [API_KEY, BOT_TOKEN, SIGNING_SECRET]) expect(seen).not.toContain(secret);
    } finally {
      bot.child.kill('SIGKILL');
    }
  });

  test.each(['ANTHROPIC_BASE_URL', 'SLACK_API_URL'] as const)('%s with credentials: start-up refuses it in one line that shows no password', async (variable) => {
    const servers = fakes.servers();
    const url = variable === 'SLACK_API_URL' ? servers.slack.apiUrl : servers.claude.baseUrl;
    const result = await runBotToExit({ HISTORY_STORE: 'memory', LOG_LEVEL: 'debug', [variable]: withCredentials(url) }, { fakes: servers });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([expect.stringMatching(new RegExp(`^Configuration error: ${variable} must be an http\\(s\\) URL without user:password@`))]);
    expect(`${result.stdout}\n${result.stderr}`).not.toContain(PASSWORD);
    expect(`${result.stdout}\n${result.stderr}`).not.toContain(BOT_TOKEN);
  });

  test('REDIS_URL with a password Redis refuses: the answer ends readable and the password is in no log line', async () => {
    const [slack, claude] = [fakes.slack(), fakes.claude()];
    const bot = await spawnBot(slack, claude, { HISTORY_STORE: 'redis', LOG_LEVEL: 'debug', REDIS_URL: `redis://bot-user:${PASSWORD}@127.0.0.1:6379/0` }).catch(
      (error: Error) => ({ failed: error.message }),
    );
    if ('failed' in bot) {
      // Refusing to start is fine too, as long as the line shows no password.
      expect(bot.failed).not.toContain(PASSWORD);
      return;
    }
    try {
      await deliverEvent(bot.url, SIGNING_SECRET, mentionEvent({ text: '<@UBOT> hello' }));
      await slack.waitFor(() => firstReplyVersions(slack).some((text) => /temporarily unavailable/.test(text)), 15_000);
      await bot.child.kill('SIGTERM');
      await bot.exited;
      expect(bot.output()).toContain(':6379');
      expect(`${bot.output()}\n${everythingSlackSaw(slack)}`).not.toContain(PASSWORD);
    } finally {
      bot.child.kill('SIGKILL');
    }
  });
});
