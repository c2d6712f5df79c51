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

  test('ANTHROPIC_BASE_URL with credentials: the password is never shown', async () => {
    const [slack, claude] = [fakes.slack(), fakes.claude()];
    const bot = await spawnBot(slack, claude, { HISTORY_STORE: 'memory', LOG_LEVEL: 'debug', ANTHROPIC_BASE_URL: withCredentials(claude.baseUrl) });
    try {
      await deliverEvent(bot.url, SIGNING_SECRET, mentionEvent({ text: '<@UBOT> hello' }));
      // Whatever the outcome (fetch refuses URLs with credentials), the answer ends and nothing shows the password.
      await slack.waitFor(() => firstReplyVersions(slack).length >= 2, 15_000);
      await bot.child.kill('SIGTERM');
      await bot.exited;
      expect(`${bot.output()}\n${everythingSlackSaw(slack)}`).not.toContain(PASSWORD);
    } finally {
      bot.child.kill('SIGKILL');
    }
  });

  test('SLACK_API_URL with credentials: the password is in no log line and not in the start-up error', async () => {
    const [slack, claude] = [fakes.slack(), fakes.claude()];
    const result = await runBotToExit({ HISTORY_STORE: 'memory', LOG_LEVEL: 'debug', SLACK_API_URL: withCredentials(slack.apiUrl) }, { fakes: { slack, claude } });
    expect(result.code).toBe(1);
    expect(`${result.stdout}\n${result.stderr}`).not.toContain(PASSWORD);
    expect(`${result.stdout}\n${result.stderr}`).not.toContain(BOT_TOKEN);
  });
});
