import { deliverEvent, mentionEvent } from '../fakes/slackRequests.js';
import { SIGNING_SECRET, versionsOf } from '../harness.js';
import { runBotToExit, spawnBot, useFakeServers } from '../processBot.js';
import { openSqliteStores, tempDbPath } from '../stores/helpers.js';

const settle = () => new Promise((resolve) => setTimeout(resolve, 500));
const words = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix}${i} `);

describe('two processes on one sqlite file (a rolling deploy on a shared volume)', () => {
  const fakes = useFakeServers();

  test('the second refuses to start with one line naming HISTORY_DB_PATH; the first answers once, stored once', async () => {
    const [slack, claude] = [fakes.slack(), fakes.claude()];
    const path = tempDbPath();
    const env = { HISTORY_DB_PATH: path, EDIT_INTERVAL_MS: '200' };
    const first = await spawnBot(slack, claude, env);
    try {
      claude.enqueue({ chunks: words(20, 'w'), delayMs: 100 });
      const event = mentionEvent({ text: '<@UBOT> one question' });
      await deliverEvent(first.url, SIGNING_SECRET, event);
      await slack.waitFor(() => slack.callsOf('chat.update').length >= 1, 10_000);

      const refused = await runBotToExit(env, { fakes: { slack, claude } });
      expect(refused.code).toBe(1);
      expect(refused.stdout).not.toContain('bot started');
      expect(refused.stderr.trim().split('\n')).toEqual([
        expect.stringMatching(/^Configuration error: HISTORY_DB_PATH \(.*\) is in use by another running bot \(pid \d+ on /),
      ]);

      const replyTs = slack.callsOf('chat.postMessage')[0]!.response.ts as string;
      await slack.waitFor(() => versionsOf(slack, replyTs).at(-1) === words(20, 'w').join('').trim(), 10_000);
      expect(claude.requests).toHaveLength(1);
      expect(slack.callsOf('chat.postMessage')).toHaveLength(1);
    } finally {
      first.child.kill('SIGTERM');
    }
    expect(await first.exited).toBe(0);

    const stores = openSqliteStores(path);
    try {
      expect(await stores.history.load({ teamId: 'T0001', channel: 'C123', threadTs: slack.callsOf('chat.postMessage')[0]!.params.thread_ts as string })).toMatchObject([
        { question: 'one question', answer: words(20, 'w').join('') },
      ]);
    } finally {
      await stores.close();
    }
  }, 40_000);

  test('after the first stops (SIGTERM) or is killed (kill -9), the next process starts on the file at once', async () => {
    const [slack, claude] = [fakes.slack(), fakes.claude()];
    const env = { HISTORY_DB_PATH: tempDbPath() };
    const stopped = await spawnBot(slack, claude, env);
    // index.ts installs its SIGTERM handler just after logging "bot started".
    await settle();
    stopped.child.kill('SIGTERM');
    expect(await stopped.exited).toBe(0);

    const killed = await spawnBot(slack, claude, env);
    killed.child.kill('SIGKILL');
    await killed.exited;

    const next = await spawnBot(slack, claude, env);
    await settle();
    next.child.kill('SIGTERM');
    expect(await next.exited).toBe(0);
  }, 40_000);
});
