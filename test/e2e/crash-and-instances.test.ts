import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FakeSlack } from '../fakes/fakeSlack.js';
import { deliverEvent, mentionEvent } from '../fakes/slackRequests.js';
import { SIGNING_SECRET, startTestBot, versionsOf, type TestBot } from '../harness.js';
import { spawnBot, useFakeServers } from '../processBot.js';
import { describeRedis, RedisServer, SHARED_REDIS_URL, testPrefix } from '../redis/helpers.js';

const words = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix}${i} `);

describe('crash recovery', () => {
  const fakes = useFakeServers();

  test('after kill -9 mid-stream, the restarted bot answers the orphaned question again in its placeholder', async () => {
    const [slack, claude] = [fakes.slack(), fakes.claude()];
    const env = { HISTORY_DB_PATH: join(mkdtempSync(join(tmpdir(), 'crash-')), 'history.sqlite'), EDIT_INTERVAL_MS: '200' };
    const first = await spawnBot(slack, claude, env);
    claude.enqueue({ chunks: words(100, 'old'), delayMs: 100 }, { chunks: words(5, 'new'), delayMs: 20 });
    const event = mentionEvent({ text: '<@UBOT> survive this' });
    await deliverEvent(first.url, SIGNING_SECRET, event);
    await slack.waitFor(() => slack.callsOf('chat.update').length >= 2, 10_000);
    first.child.kill('SIGKILL');
    await first.exited;

    const second = await spawnBot(slack, claude, env);
    try {
      await claude.waitForRequests(2, 10_000);
      const replyTs = slack.callsOf('chat.postMessage')[0]!.response.ts as string;
      await slack.waitFor(() => versionsOf(slack, replyTs).at(-1) === words(5, 'new').join('').trim(), 10_000);
      expect(claude.requests[1]!.body.messages).toEqual([{ role: 'user', content: 'survive this' }]);
      expect(versionsOf(slack, replyTs).some((text) => text.includes('restarted while answering'))).toBe(true);
      // Answered again in place: no second placeholder.
      expect(slack.callsOf('chat.postMessage')).toHaveLength(1);
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  }, 40_000);

  /**
   * Slack carries the placeholder's post out and takes its time to say so; the bot is killed (kill -9) in between
   * (after Claude's first answer started: the restarted bot gets the second, "new…"). `setUp` prepares the fake Slack
   * before the bot starts and returns the thread to ask in; `beforeRestart` scripts it before the restart. Resolves
   * with the fake and the placeholder's text versions once it shows the new answer.
   */
  async function survivesAnUnconfirmedPost(
    text: string,
    { setUp, beforeRestart }: { setUp?: (slack: FakeSlack) => string; beforeRestart?: (slack: FakeSlack) => void } = {},
  ): Promise<{ slack: FakeSlack; versions: string[] }> {
    const [slack, claude] = [fakes.slack(), fakes.claude()];
    const env = { HISTORY_DB_PATH: join(mkdtempSync(join(tmpdir(), 'crash-')), 'history.sqlite'), EDIT_INTERVAL_MS: '200', SLACK_STREAMING: 'edits' };
    const threadTs = setUp?.(slack);
    const first = await spawnBot(slack, claude, env);
    claude.enqueue({ chunks: words(100, 'old'), delayMs: 100 }, { chunks: words(5, 'new'), delayMs: 20 });
    slack.failNext('chat.postMessage', { applied: true, stallMs: 60_000 });
    await deliverEvent(first.url, SIGNING_SECRET, mentionEvent({ text, ...(threadTs ? { thread_ts: threadTs } : {}) }));
    await slack.waitFor(() => slack.callsOf('chat.postMessage').length === 1, 10_000);
    await claude.waitForRequests(1, 10_000);
    first.child.kill('SIGKILL');
    await first.exited;

    beforeRestart?.(slack);
    const second = await spawnBot(slack, claude, env);
    try {
      const placeholder = [...slack.messages.values()].find((message) => !message.user)!;
      await slack.waitFor(() => versionsOf(slack, placeholder.ts).at(-1) === words(5, 'new').join('').trim(), 15_000);
      return { slack, versions: versionsOf(slack, placeholder.ts) };
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  }

  test('after kill -9 while Slack has posted the placeholder but not yet answered the post, the restarted bot finds it and answers in it', async () => {
    const { slack, versions } = await survivesAnUnconfirmedPost('<@UBOT> survive this too');
    expect(versions.some((text) => text.includes('restarted while answering'))).toBe(true);
    // Answered in the message Slack had posted: no second one.
    expect(slack.callsOf('chat.postMessage')).toHaveLength(1);
  }, 40_000);

  test('after kill -9 while Slack has posted the placeholder but not yet answered, in a thread of more than 1,000 replies, the restarted bot still finds it', async () => {
    const { slack } = await survivesAnUnconfirmedPost('<@UBOT> survive a long thread', {
      setUp: (slack) => {
        const parent = slack.addUserMessage({ channel: 'C123', user: 'U999', text: 'a long-running thread' });
        for (let i = 0; i < 1_100; i++) slack.addUserMessage({ channel: 'C123', threadTs: parent.ts, user: 'U999', text: `reply ${i}` });
        return parent.ts;
      },
    });
    expect(slack.callsOf('chat.postMessage')).toHaveLength(1);
  }, 60_000);

  test('after kill -9 while Slack has posted the placeholder but not yet answered, a rate-limited lookup is waited out: the placeholder is found, not left on "Thinking…"', async () => {
    const { slack } = await survivesAnUnconfirmedPost('<@UBOT> survive a busy restart', {
      // Many orphans resumed at once exhaust conversations.replies (Tier 3): Slack answers the lookup with a 429.
      beforeRestart: (slack) => slack.failNext('conversations.replies', { status: 429, retryAfter: 1 }),
    });
    expect(slack.callsOf('chat.postMessage')).toHaveLength(1);
  }, 40_000);

  test('after kill -9 while the reply shows a thinking line (no "still writing" mark), the restarted bot answers again in it', async () => {
    const [slack, claude] = [fakes.slack(), fakes.claude()];
    const env = { HISTORY_DB_PATH: join(mkdtempSync(join(tmpdir(), 'crash-')), 'history.sqlite'), EDIT_INTERVAL_MS: '200', SLACK_STREAMING: 'edits' };
    const first = await spawnBot(slack, claude, env);
    const thinking = { chunks: Array.from({ length: 30 }, (_, i) => `Weighing option ${i}. `), delayMs: 500 };
    claude.enqueue({ thinking, chunks: ['never shown'] }, { chunks: words(5, 'new'), delayMs: 20 });
    const event = mentionEvent({ text: '<@UBOT> think first' });
    await deliverEvent(first.url, SIGNING_SECRET, event);
    await slack.waitFor(() => slack.callsOf('chat.update').some((call) => String(call.params.text).startsWith('_Thinking')), 15_000);
    first.child.kill('SIGKILL');
    await first.exited;

    const second = await spawnBot(slack, claude, env);
    try {
      const replyTs = slack.callsOf('chat.postMessage')[0]!.response.ts as string;
      await slack.waitFor(() => versionsOf(slack, replyTs).at(-1) === words(5, 'new').join('').trim(), 20_000);
      expect(slack.callsOf('chat.postMessage')).toHaveLength(1);
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  }, 60_000);

  test('a native stream cut off by kill -9 is stopped and answered again in the same message', async () => {
    const [slack, claude] = [fakes.slack(), fakes.claude()];
    const env = { HISTORY_DB_PATH: join(mkdtempSync(join(tmpdir(), 'crash-')), 'history.sqlite'), EDIT_INTERVAL_MS: '200', SLACK_STREAMING: 'native' };
    const first = await spawnBot(slack, claude, env);
    claude.enqueue({ chunks: words(100, 'old'), delayMs: 100 }, { chunks: words(5, 'new'), delayMs: 20 });
    const event = mentionEvent({ text: '<@UBOT> survive this' });
    await deliverEvent(first.url, SIGNING_SECRET, event);
    await slack.waitFor(() => slack.callsOf('chat.appendStream').filter((call) => call.status === 200).length >= 2, 10_000);
    first.child.kill('SIGKILL');
    await first.exited;

    const second = await spawnBot(slack, claude, env);
    try {
      await claude.waitForRequests(2, 10_000);
      const replyTs = slack.callsOf('chat.startStream')[0]!.response.ts as string;
      await slack.waitFor(() => versionsOf(slack, replyTs).at(-1) === words(5, 'new').join('').trim(), 10_000);
      // The stream Slack still held open was stopped before any edit: never a streaming_state_conflict.
      expect(slack.calls.filter((call) => call.response.error === 'streaming_state_conflict')).toEqual([]);
      expect(slack.callsOf('chat.postMessage')).toHaveLength(0);
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  }, 40_000);
});

describeRedis('several instances on Redis', () => {
  let bots: TestBot[] = [];
  afterEach(async () => {
    await Promise.all(bots.map((bot) => bot.stop()));
    bots = [];
  });

  /** Two bots sharing one Redis namespace and the same fake Slack and Anthropic. */
  async function startTwoInstances(): Promise<[TestBot, TestBot]> {
    const keyPrefix = testPrefix();
    const env = { HISTORY_STORE: 'redis', REDIS_URL: SHARED_REDIS_URL };
    const a = await startTestBot(env, { keyPrefix });
    const b = await startTestBot(env, { keyPrefix, slack: a.slack, claude: a.claude });
    bots = [b, a];
    return [a, b];
  }

  test('two instances receiving the same event (and a retry of it) answer it once', async () => {
    const [a, b] = await startTwoInstances();
    a.claude.defaultScript = { chunks: ['only ', 'once'], delayMs: 50 };
    const event = mentionEvent({ text: '<@UBOT> hello both' });
    await Promise.all([
      deliverEvent(a.url, SIGNING_SECRET, event, { eventId: 'EvTWICE' }),
      deliverEvent(b.url, SIGNING_SECRET, event, { eventId: 'EvTWICE' }),
    ]);
    await deliverEvent(b.url, SIGNING_SECRET, event, { eventId: 'EvTWICE', retryNum: 1 });
    await Promise.all([a.idle(), b.idle()]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(a.claude.requests).toHaveLength(1);
    expect(a.slack.callsOf('chat.postMessage')).toHaveLength(1);
  });

  test('follow-ups in one thread sent to different instances keep the thread in order', async () => {
    const [a, b] = await startTwoInstances();
    a.claude.enqueue({ chunks: ['first ', 'answer'], delayMs: 150 }, { chunks: ['second answer'] });
    const first = await a.mention({ text: '<@UBOT> q1' });
    await a.claude.waitForRequests(1);
    await b.mention({ text: '<@UBOT> q2', thread_ts: first.ts });
    await Promise.all([a.idle(), b.idle()]);
    await a.claude.waitForRequests(2);
    await b.idle();
    expect(a.claude.requests[1]!.body.messages).toEqual([
      { role: 'user', content: 'q1' },
      { role: 'assistant', content: 'first answer' },
      { role: 'user', content: 'q2' },
    ]);
  });

  test('Redis stopped under a running bot: users are told, the bot survives, and it recovers', async () => {
    const redis = await RedisServer.start();
    try {
      const t = await startTestBot({ HISTORY_STORE: 'redis', REDIS_URL: redis.url }, { keyPrefix: testPrefix() });
      bots = [t];
      t.claude.defaultScript = { chunks: ['fine'] };
      const before = await t.mention({ text: '<@UBOT> before' });
      await t.idle();
      await redis.kill();

      const during = await t.mention({ text: '<@UBOT> during' });
      await t.slack.waitFor(() => t.slack.callsOf('chat.postMessage').some((call) => call.params.thread_ts === during.ts), 10_000);
      const told = t.slack.callsOf('chat.postMessage').find((call) => call.params.thread_ts === during.ts)!;
      expect(String(told.params.text)).toMatch(/temporarily unavailable/);
      expect(t.logs.join('')).toMatch(/Redis unreachable/);

      expect(t.claude.requests).toHaveLength(1);

      // This Redis keeps nothing on disk, so the thread starts afresh; what matters is that answers flow again.
      await redis.restart();
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const after = await t.mention({ text: '<@UBOT> after', thread_ts: before.ts });
      await t.idle();
      expect(t.claude.requests.at(-1)!.body.messages.at(-1)).toEqual({ role: 'user', content: 'after' });
      const reply = t.slack.callsOf('chat.postMessage').filter((call) => call.params.thread_ts === after.thread_ts).at(-1)!;
      expect(versionsOf(t.slack, reply.response.ts as string).at(-1)).toBe('fine');
      expect(t.logs.join('')).toMatch(/Redis reachable again/);
    } finally {
      await redis.kill();
    }
  }, 30_000);
});
