import { WebClient } from '@slack/web-api';
import { Redis } from 'ioredis';
import { copy } from '../../src/copy.js';
import { RedisInflightRegistry } from '../../src/inflight/redisInflightRegistry.js';
import { toMrkdwn } from '../../src/slack/render.js';
import { FakeSlack } from '../fakes/fakeSlack.js';
import { freshTs } from '../fakes/slackRequests.js';
import { BOT_TOKEN, startTestBot, versionsOf, type TestBot } from '../harness.js';
import { describeRedis, RedisServer, SHARED_REDIS_URL, testPrefix, waitFor } from '../redis/helpers.js';

describeRedis('answers in flight across a Redis blip', () => {
  let t: TestBot | undefined;
  afterEach(async () => {
    await t?.stop();
    t = undefined;
  });

  test('a failed removal of the in-flight record is logged and retried, so no record is left to re-ask', async () => {
    const redis = await RedisServer.start();
    const admin = new Redis(redis.url);
    try {
      const keyPrefix = testPrefix();
      t = await startTestBot({ HISTORY_STORE: 'redis', REDIS_URL: redis.url }, { keyPrefix });
      t.claude.defaultScript = { chunks: Array.from({ length: 10 }, (_, i) => `w${i} `), delayMs: 100 };
      await t.mention({ text: '<@UBOT> keep me once' });
      const recorded = async () => admin.hlen(`${keyPrefix}inflight`);
      await waitFor(async () => (await recorded()) === 1, 10_000);
      // Writes now fail with a real Redis error (NOREPLICAS) while the answer streams on.
      await admin.config('SET', 'min-replicas-to-write', '1');
      await t.slack.waitFor(() => t!.logs.join('').includes('could not remove the in-flight record; retrying'), 10_000);
      await admin.config('SET', 'min-replicas-to-write', '0');
      await t.idle(15_000);
      await waitFor(async () => (await recorded()) === 0, 10_000);
      const replyTs = t.slack.callsOf('chat.postMessage')[0]!.response.ts as string;
      expect(versionsOf(t.slack, replyTs).at(-1)).toBe('w0 w1 w2 w3 w4 w5 w6 w7 w8 w9');
    } finally {
      admin.disconnect();
      await redis.kill();
    }
  }, 30_000);

  test('an orphan whose final Slack already shows is dropped, not asked again; an unfinished one is answered again', async () => {
    const keyPrefix = testPrefix();
    const shared = new Redis(SHARED_REDIS_URL);
    const slack = await FakeSlack.start();
    try {
      const web = new WebClient(BOT_TOKEN, { slackApiUrl: slack.apiUrl });
      // A 1 ms heartbeat: the recording instance is gone at once, as if it had crashed.
      const registry = new RedisInflightRegistry(shared, keyPrefix, 1);
      const orphanShowing = async (text: string, question: string) => {
        const threadTs = freshTs();
        const posted = await web.chat.postMessage({ channel: 'C123', thread_ts: threadTs, text });
        const replyTs = posted.ts!;
        await registry.add({ teamId: 'T0001', channel: 'C123', threadTs, replyTs, userId: 'U123', question, startedAt: Date.now(), owner: 'crashed' });
        return replyTs;
      };
      const finished = await orphanShowing('The whole answer, shown as final.', 'answered already');
      const unfinished = await orphanShowing(toMrkdwn(copy.thinking), 'never answered');

      t = await startTestBot({ HISTORY_STORE: 'redis', REDIS_URL: SHARED_REDIS_URL }, { keyPrefix, slack });
      t.claude.defaultScript = { chunks: ['Answered ', 'now.'] };
      await t.slack.waitFor(() => versionsOf(slack, unfinished).at(-1) === 'Answered now.', 10_000);
      await t.idle();
      await waitFor(async () => (await shared.hlen(`${keyPrefix}inflight`)) === 0, 10_000);
      expect(t.claude.requests.map((request) => (request.body.messages as { content: string }[]).at(-1)!.content)).toEqual(['never answered']);
      expect(versionsOf(slack, finished)).toEqual(['The whole answer, shown as final.']);
    } finally {
      await t?.stop();
      t = undefined;
      await slack.close();
      const keys = await shared.keys(`${keyPrefix}*`);
      if (keys.length) await shared.del(...keys);
      shared.disconnect();
    }
  }, 30_000);
});
