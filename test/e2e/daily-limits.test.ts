import { DAY_MS } from '../../src/usage/usageLedger.js';
import { RedisUsageLedger } from '../../src/usage/redisUsageLedger.js';
import type { StoredMessage } from '../fakes/fakeSlack.js';
import { describeRedis, SHARED_REDIS_URL, sharedRedis, testPrefix, deleteKeys } from '../redis/helpers.js';
import { startTestBot, type TestBot } from '../harness.js';

/** The bot's messages in the thread of `threadTs`, oldest first. */
function replies(t: TestBot, threadTs: string): StoredMessage[] {
  return t.slack.threadMessages('C123', threadTs).filter((message) => !message.deleted);
}

/** Every "answer finished" log line, oldest first. */
function finishedLines(t: TestBot): Record<string, unknown>[] {
  return t.logs.map((raw) => JSON.parse(raw) as Record<string, unknown>).filter((entry) => entry.msg === 'answer finished');
}

const RESETS = /It resets at 00:00 UTC, in (\d+ h)? ?(\d+ min)?\./;

describe('daily token limits', () => {
  let bots: TestBot[] = [];
  afterEach(async () => {
    await Promise.all(bots.map((bot) => bot.stop()));
    bots = [];
  });

  /** Asks `text` as `user` (in the thread of `threadTs`, if given) and waits for the answer to end; returns the question's ts. */
  async function ask(t: TestBot, user: string, text: string, threadTs?: string): Promise<string> {
    const event = await t.mention({ user, text: `<@UBOT> ${text}`, ...(threadTs ? { thread_ts: threadTs } : {}) });
    await t.idle();
    return threadTs ?? event.ts;
  }

  test('the answer that crosses the user limit is shown whole; the next question gets the limit reply, no Claude call, nothing stored', async () => {
    const t = await startTestBot({ USER_DAILY_TOKEN_LIMIT: '1000' });
    bots.push(t);
    const chunks = Array.from({ length: 30 }, (_, i) => `part${i} `);
    // 900 input + 300 output: the limit is crossed while the answer streams.
    t.claude.enqueue({ chunks, delayMs: 5, usage: { inputTokens: 900, outputTokens: 300 } });
    const thread = await ask(t, 'U1', 'first question');
    expect(replies(t, thread)[0]!.text).toBe(chunks.join('').trimEnd());

    await ask(t, 'U1', 'second question', thread);
    expect(t.claude.requests).toHaveLength(1);
    const refusal = replies(t, thread)[1]!.text;
    expect(refusal).toContain('You\'ve reached your daily limit');
    expect(refusal).toMatch(RESETS);
    expect(await t.history.load({ teamId: 'T0001', channel: 'C123', threadTs: thread })).toEqual([
      expect.objectContaining({ question: 'first question' }),
    ]);
    expect(finishedLines(t).map((line) => line.outcome)).toEqual(['complete', 'over_limit']);

    // Another user of the workspace is not held by U1's limit.
    await ask(t, 'U2', 'my own question');
    expect(t.claude.requests).toHaveLength(2);
  });

  test("the workspace limit refuses every user of the team, saying it is the workspace's", async () => {
    const t = await startTestBot({ WORKSPACE_DAILY_TOKEN_LIMIT: '1000', USER_DAILY_TOKEN_LIMIT: '5000' });
    bots.push(t);
    t.claude.enqueue({ chunks: ['Long answer.'], usage: { inputTokens: 400, cacheReadInputTokens: 500, outputTokens: 100 } });
    await ask(t, 'U1', 'first question');

    const thread = await ask(t, 'U2', 'a question from someone else');
    expect(t.claude.requests).toHaveLength(1);
    const [refusal] = replies(t, thread);
    expect(refusal!.text).toContain('This workspace has reached its daily limit');
    expect(refusal!.text).toMatch(RESETS);
  });

  test("an interrupted attempt's tokens count with the retry's: the log line shows the sum, and the sum reaches the limit", async () => {
    const t = await startTestBot({ USER_DAILY_TOKEN_LIMIT: '1000', STREAM_RETRIES: '1' });
    bots.push(t);
    // Each attempt alone stays under the limit (600 input + a few output); together they pass it.
    t.claude.enqueue(
      { chunks: ['Half ', 'an answer'], usage: { inputTokens: 600 }, fail: { afterChunks: 1, how: 'drop' } },
      { chunks: ['The whole answer.'], usage: { inputTokens: 600, outputTokens: 7 } },
    );
    const thread = await ask(t, 'U1', 'first question');
    expect(replies(t, thread)[0]!.text).toBe('The whole answer.');
    expect(finishedLines(t)[0]).toMatchObject({ outcome: 'complete', input_tokens: 1200, output_tokens: 8 });

    await ask(t, 'U1', 'second question', thread);
    expect(t.claude.requests).toHaveLength(2);
    expect(replies(t, thread)[1]!.text).toContain('daily limit');
  });
});

describeRedis('daily token limits shared through Redis', () => {
  let bots: TestBot[] = [];
  let prefix: string;
  afterEach(async () => {
    await Promise.all(bots.map((bot) => bot.stop()));
    bots = [];
    const redis = sharedRedis();
    await deleteKeys(redis, prefix);
    await redis.quit();
  });

  test("two bots share the counts; yesterday's tokens do not count today", async () => {
    prefix = testPrefix();
    // Yesterday (UTC), U1 used far more than the limit.
    const redis = sharedRedis();
    const yesterday = new RedisUsageLedger(redis, 90 * DAY_MS, prefix, () => Date.now() - DAY_MS);
    await yesterday.record({ teamId: 'T0001', userId: 'U1', model: 'claude-sonnet-5-5' }, {
      inputTokens: 1_000_000,
      cacheCreationInputTokens: 0,
      cacheReadInputTokens: 0,
      outputTokens: 1_000,
      thinkingTokens: 0,
    });
    await redis.quit();

    const env = { HISTORY_STORE: 'redis', REDIS_URL: SHARED_REDIS_URL, USER_DAILY_TOKEN_LIMIT: '1000' };
    const a = await startTestBot(env, { keyPrefix: prefix });
    const b = await startTestBot(env, { keyPrefix: prefix, slack: a.slack, claude: a.claude });
    bots = [b, a];
    a.claude.enqueue({ chunks: ['Answered today.'], usage: { inputTokens: 990, outputTokens: 10 } });
    const first = await a.mention({ user: 'U1', text: '<@UBOT> first question' });
    await a.idle();
    expect(replies(a, first.ts)[0]!.text).toBe('Answered today.');

    // Instance B refuses: A's answer reached the limit in the shared ledger.
    const second = await b.mention({ user: 'U1', text: '<@UBOT> second question' });
    await b.idle();
    expect(a.claude.requests).toHaveLength(1);
    expect(replies(b, second.ts)[0]!.text).toContain("You've reached your daily limit");
  });

  test('without limits, every answer is still recorded in the ledger (for `npm run usage`)', async () => {
    prefix = testPrefix();
    const t = await startTestBot({ HISTORY_STORE: 'redis', REDIS_URL: SHARED_REDIS_URL, CLAUDE_MODEL: 'claude-haiku-5-5' }, { keyPrefix: prefix });
    bots = [t];
    t.claude.enqueue({ chunks: ['One.'], usage: { inputTokens: 10, cacheReadInputTokens: 5, outputTokens: 2, thinkingTokens: 1 } });
    await t.mention({ user: 'U7', text: '<@UBOT> one' });
    await t.idle();

    const redis = sharedRedis();
    const rows = await new RedisUsageLedger(redis, 90 * DAY_MS, prefix).rowsSince('2000-01-01');
    await redis.quit();
    expect(rows).toEqual([
      {
        day: new Date().toISOString().slice(0, 10),
        teamId: 'T0001',
        userId: 'U7',
        model: 'claude-haiku-5-5',
        answers: 1,
        usage: { inputTokens: 10, cacheCreationInputTokens: 0, cacheReadInputTokens: 5, outputTokens: 2, thinkingTokens: 1 },
      },
    ]);
  });
});
