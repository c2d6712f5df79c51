// A hostile or buggy gateway (ANTHROPIC_BASE_URL) reporting token counts that are not non-negative integers must not
// lift a daily limit, split the Redis ledger's rows from its totals, or read a string as text (found by an attack).
import type { StoredMessage } from '../fakes/fakeSlack.js';
import { startTestBot, type TestBot } from '../harness.js';
import { deleteKeys, describeRedis, SHARED_REDIS_URL, sharedRedis, testPrefix } from '../redis/helpers.js';
import { RedisUsageLedger } from '../../src/usage/redisUsageLedger.js';
import { DAY_MS, limitTokens, addUsage, NO_USAGE } from '../../src/usage/usageLedger.js';

function replies(t: TestBot, threadTs: string): StoredMessage[] {
  return t.slack.threadMessages('C123', threadTs).filter((message) => !message.deleted);
}

async function ask(t: TestBot, user: string, text: string): Promise<string> {
  const event = await t.mention({ user, text: `<@UBOT> ${text}` });
  await t.idle();
  return event.ts;
}

describe('hostile usage counts (memory ledger)', () => {
  let t: TestBot | undefined;
  afterEach(() => t?.stop());

  test('a negative input_tokens must not give the user a bigger daily budget', async () => {
    t = await startTestBot({ USER_DAILY_TOKEN_LIMIT: '1000' });
    // The gateway says -100000 input tokens for the first answer.
    t.claude.enqueue({ chunks: ['One.'], usage: { inputTokens: -100_000, outputTokens: 5 } });
    await ask(t, 'U1', 'first');
    // A real answer that alone crosses the limit.
    t.claude.enqueue({ chunks: ['Two.'], usage: { inputTokens: 900, outputTokens: 300 } });
    await ask(t, 'U1', 'second');
    const third = await ask(t, 'U1', 'third');
    // Expected: the third question is refused (1,200 real tokens used), no third Claude call.
    expect(replies(t, third)[0]!.text).toContain("You've reached your daily limit");
    expect(t.claude.requests).toHaveLength(2);
  });
});

describeRedis('hostile usage counts (Redis ledger)', () => {
  let t: TestBot | undefined;
  let prefix: string;
  afterEach(async () => {
    await t?.stop();
    const redis = sharedRedis();
    await deleteKeys(redis, prefix);
    await redis.quit();
  });

  async function ledgerState(): Promise<{ used: number; rowTokens: number; answers: number }> {
    const redis = sharedRedis();
    const ledger = new RedisUsageLedger(redis, 90 * DAY_MS, prefix);
    const { user } = await ledger.usedToday('T0001', 'U1');
    const rows = await ledger.rowsSince('2000-01-01');
    await redis.quit();
    const sum = rows.reduce((total, row) => addUsage(total, row.usage), NO_USAGE);
    return { used: user, rowTokens: limitTokens(sum), answers: rows.reduce((n, row) => n + row.answers, 0) };
  }

  test.each([
    ['a fractional count', 1.5],
    ['a numeric string', '500'],
  ])('%s: the limit total and the rows stay in agreement (no half-applied MULTI, no string concatenation)', async (_name, input) => {
    prefix = testPrefix();
    t = await startTestBot({ HISTORY_STORE: 'redis', REDIS_URL: SHARED_REDIS_URL, USER_DAILY_TOKEN_LIMIT: '1000000' }, { keyPrefix: prefix });
    t.claude.enqueue({ chunks: ['One.'], usage: { inputTokens: input as never, outputTokens: 50 } });
    await ask(t, 'U1', 'first');
    const state = await ledgerState();
    // Either the answer is recorded whole (totals = rows) or not at all; never a row without its tokens in the total.
    expect(state.used).toBe(state.rowTokens);
    // And one answer of ~500 tokens at most never counts as millions.
    expect(state.used).toBeLessThan(10_000);
  });
});
