import { WebClient } from '@slack/web-api';
import { Redis } from 'ioredis';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copy } from '../../src/copy.js';
import { toMrkdwn } from '../../src/slack/render.js';
import { RedisInflightRegistry } from '../../src/inflight/redisInflightRegistry.js';
import { deliverEvent, freshTs, mentionEvent } from '../fakes/slackRequests.js';
import { FakeSlack } from '../fakes/fakeSlack.js';
import { BOT_TOKEN, SIGNING_SECRET, startTestBot, versionsOf, type TestBot } from '../harness.js';
import { spawnBot, useFakeServers } from '../processBot.js';
import { deleteKeys, describeRedis, SHARED_REDIS_URL, testPrefix, waitFor } from '../redis/helpers.js';


/** The texts the thread shows now (deleted messages left out), oldest first. */
const shown = (slack: FakeSlack, channel: string, threadTs: string) =>
  slack
    .threadMessages(channel, threadTs)
    .filter((message) => !message.deleted)
    .map((message) => message.text);

/** About 10,000 characters in 500-character chunks: three messages of Slack text. */
const longAnswer = Array.from({ length: 40 }, () => 'lorem ipsum dolor sit amet '.repeat(8)).join('\n\n');
const longChunks = longAnswer.match(/[\s\S]{1,500}/g)!;

describe('stuck answers: stale continuation messages never block the final', () => {
  let t: TestBot;
  afterEach(() => t.stop());

  /** Attempt 1 streams ~7,000 characters (several messages) and drops; the retry answers in a few words. */
  async function longThenShort(retryFirstTokenDelayMs = 0): Promise<string> {
    t = await startTestBot({ EDIT_INTERVAL_MS: '100', STREAM_RETRIES: '1' });
    t.slack.maxTextLength = 4000;
    t.claude.enqueue(
      { chunks: longChunks, delayMs: 20, fail: { afterChunks: 14, how: 'drop' } },
      { chunks: ['Short', ' answer'], firstTokenDelayMs: retryFirstTokenDelayMs },
    );
    const event = await t.mention({ text: '<@UBOT> long, then short' });
    return event.ts;
  }

  test('a stale part Slack will not delete (cant_delete_message) is rewritten to a short note; the answer ends final', async () => {
    const threadTs = await longThenShort();
    t.slack.failNext('chat.delete', { error: 'cant_delete_message' });
    await t.idle(30_000);
    const texts = shown(t.slack, 'C123', threadTs);
    expect(texts[0]).toBe('Short answer');
    expect(texts.slice(1)).toEqual([toMrkdwn(copy.notes.staleContinuation)]);
  }, 40_000);

  test('a stale part someone already deleted (message_not_found) counts as removed; the answer ends final', async () => {
    const threadTs = await longThenShort(2000);
    await t.slack.waitFor(() => shown(t.slack, 'C123', threadTs).some((text) => text.includes('Trying again')), 20_000);
    // Someone deletes the last stale part while the retry waits for Claude.
    const stale = t.slack.threadMessages('C123', threadTs).at(-1)!;
    await new WebClient(BOT_TOKEN, { slackApiUrl: t.slack.apiUrl }).chat.delete({ channel: 'C123', ts: stale.ts });
    await t.idle(30_000);
    expect(t.slack.callsOf('chat.delete').some((call) => call.response.error === 'message_not_found')).toBe(true);
    expect(shown(t.slack, 'C123', threadTs)).toEqual(['Short answer']);
  }, 40_000);
});

describe('stuck answers: a resumed answer adopts the continuation messages of the crashed one', () => {
  const fakes = useFakeServers();

  test('after kill -9 during a three-message answer, the restarted bot leaves only the resumed answer in the thread', async () => {
    const [slack, claude] = [fakes.slack(), fakes.claude()];
    const env = { HISTORY_DB_PATH: join(mkdtempSync(join(tmpdir(), 'stuck-')), 'history.sqlite'), EDIT_INTERVAL_MS: '200' };
    const paragraph = 'lorem ipsum dolor sit amet '.repeat(10) + '\n\n';
    claude.enqueue({ chunks: Array.from({ length: 200 }, () => paragraph), delayMs: 20 }, { chunks: ['Resumed', ' answer'] });
    const first = await spawnBot(slack, claude, env);
    const event = mentionEvent({ channel: 'C1', text: '<@UBOT> a long one' });
    await deliverEvent(first.url, SIGNING_SECRET, event);
    await slack.waitFor(() => slack.threadMessages('C1', event.ts).length >= 3, 20_000);
    first.child.kill('SIGKILL');
    await first.exited;
    expect(shown(slack, 'C1', event.ts).length).toBeGreaterThanOrEqual(3);

    const second = await spawnBot(slack, claude, env);
    try {
      const replyTs = slack.callsOf('chat.postMessage')[0]!.response.ts as string;
      await slack.waitFor(() => versionsOf(slack, replyTs).at(-1) === 'Resumed answer', 20_000);
      await slack.waitFor(() => shown(slack, 'C1', event.ts).length === 1, 10_000).catch(() => undefined);
      expect(shown(slack, 'C1', event.ts)).toEqual(['Resumed answer']);
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  }, 60_000);
});

describeRedis('stuck answers: a resumed answer adopts only its own continuation', () => {
  test("a later answer of the thread, after a person's next question, is not taken for the orphan's continuation", async () => {
    const keyPrefix = testPrefix();
    const shared = new Redis(SHARED_REDIS_URL);
    const slack = await FakeSlack.start();
    let t: TestBot | undefined;
    try {
      const web = new WebClient(BOT_TOKEN, { slackApiUrl: slack.apiUrl });
      const threadTs = freshTs();
      const post = async (text: string) => (await web.chat.postMessage({ channel: 'C123', thread_ts: threadTs, text })).ts!;
      // A crashed instance's answer in two messages, then the person's next question and another instance's answer to it.
      const replyTs = await post('lorem ipsum');
      const continuation = await post(`dolor sit amet\n\n${toMrkdwn(copy.stillWriting)}`);
      slack.addUserMessage({ channel: 'C123', threadTs, user: 'U123', text: '<@UBOT> and another thing?' });
      const laterAnswer = await post('The answer to another thing.');
      // A 1 ms heartbeat: the recording instance is gone at once, as if it had crashed.
      const registry = new RedisInflightRegistry(shared, keyPrefix, 1);
      await registry.add({ teamId: 'T0001', channel: 'C123', threadTs, replyTs, userId: 'U123', question: 'first thing', startedAt: Date.now(), owner: 'crashed' });

      t = await startTestBot({ HISTORY_STORE: 'redis', REDIS_URL: SHARED_REDIS_URL }, { keyPrefix, slack });
      t.claude.defaultScript = { chunks: ['Resumed', ' answer'] };
      await slack.waitFor(() => versionsOf(slack, replyTs).at(-1) === 'Resumed answer', 10_000);
      await t.idle();
      await waitFor(async () => (await shared.hlen(`${keyPrefix}inflight`)) === 0, 10_000);
      expect(slack.messages.get(continuation)!.deleted).toBe(true);
      expect(shown(slack, 'C123', threadTs)).toEqual(['Resumed answer', '<@UBOT> and another thing?', 'The answer to another thing.']);
      expect(versionsOf(slack, laterAnswer)).toEqual(['The answer to another thing.']);
    } finally {
      await t?.stop();
      await slack.close();
      await deleteKeys(shared, keyPrefix);
      shared.disconnect();
    }
  }, 30_000);
});
