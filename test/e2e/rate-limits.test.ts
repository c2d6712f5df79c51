import type { RecordedRequest } from '../fakes/fakeAnthropic.js';
import type { RecordedCall } from '../fakes/fakeSlack.js';
import { startTestBot, versionsOf, type TestBot } from '../harness.js';

const words = (n: number, prefix = 'w') => Array.from({ length: n }, (_, i) => `${prefix}${i} `);
const successful = (calls: RecordedCall[]) => calls.filter((call) => call.status === 200 && call.response.ok);
/** The question (last user turn) a request to Claude asked. */
const questionOf = (request: RecordedRequest) => (request.body.messages as { content: unknown }[]).at(-1)!.content;

describe('Slack rate limits and failures on edits', () => {
  let t: TestBot;
  afterEach(() => t.stop());

  test('a 429 on an edit pauses edits for Retry-After, then the next edit carries newer text', async () => {
    t = await startTestBot({ EDIT_INTERVAL_MS: '200' });
    t.slack.failNext('chat.update', { status: 429, retryAfter: 2 });
    const chunks = words(35);
    t.claude.enqueue({ chunks, delayMs: 100 });
    await t.mention({ text: '<@UBOT> go' });
    await t.idle();

    const updates = t.slack.callsOf('chat.update');
    const limited = updates[0]!;
    expect(limited.status).toBe(429);
    const next = updates[1]!;
    expect(next.at - limited.at).toBeGreaterThanOrEqual(2000);
    expect(String(next.params.text).length).toBeGreaterThan(String(limited.params.text).length);
    const replyTs = t.slack.callsOf('chat.postMessage')[0]!.response.ts as string;
    expect(versionsOf(t.slack, replyTs).at(-1)).toBe(chunks.join('').trim());
  });

  test('a 5xx on the final edit is retried and the answer lands once', async () => {
    t = await startTestBot({ EDIT_INTERVAL_MS: '5000' });
    t.claude.enqueue({ chunks: ['Almost ', 'there ', 'now.'], delayMs: 300 });
    await t.mention({ text: '<@UBOT> go' });
    // The first text goes out at once; with a 5 s interval the next edit is the final one.
    await t.slack.waitFor(() => t.slack.callsOf('chat.update').length === 1);
    t.slack.failNext('chat.update', { status: 503 }, 2);
    await t.idle();

    const updates = t.slack.callsOf('chat.update');
    expect(updates.map((call) => call.status)).toEqual([200, 503, 503, 200]);
    expect(updates.at(-1)!.params.text).toBe('Almost there now.');
    expect(t.slack.callsOf('chat.postMessage')).toHaveLength(1);
  });

  test('a 429 on the placeholder delays it, and the answer still arrives once', async () => {
    t = await startTestBot();
    t.slack.failNext('chat.postMessage', { status: 429, retryAfter: 1 });
    t.claude.enqueue({ chunks: ['Late ', 'but ', 'whole.'] });
    const event = await t.mention({ text: '<@UBOT> go' });
    await t.idle();
    const posts = successful(t.slack.callsOf('chat.postMessage'));
    expect(posts).toHaveLength(1);
    expect(posts[0]!.params.thread_ts).toBe(event.ts);
    expect(versionsOf(t.slack, posts[0]!.response.ts as string).at(-1)).toBe('Late but whole.');
  });

  test('30 answers at once share 50 edits a minute: all finish, few 429s, first texts before third refreshes', async () => {
    t = await startTestBot({ EDIT_INTERVAL_MS: '1000', SLACK_EDITS_PER_MINUTE: '50' });
    t.slack.rateLimit('chat.update', { perMinute: 50, burst: 50 });
    t.claude.defaultScript = { chunks: words(40), delayMs: 100 };
    const events = await Promise.all(Array.from({ length: 30 }, (_, i) => t.mention({ user: `U${i}`, text: `<@UBOT> question ${i}` })));
    // All finish: idle, then every answer's final text below.
    await t.idle(60_000);

    expect(t.slack.count429('chat.update')).toBeLessThanOrEqual(3);
    const firstTextAt: number[] = [];
    const finalAt: number[] = [];
    const streamEndAt: number[] = [];
    const thirdRefreshAt: number[] = [];
    for (const [i, event] of events.entries()) {
      const replies = successful(t.slack.callsOf('chat.postMessage')).filter((call) => call.params.thread_ts === event.ts);
      expect(replies).toHaveLength(1);
      const replyTs = replies[0]!.response.ts as string;
      expect(versionsOf(t.slack, replyTs).at(-1)).toBe(words(40).join('').trim());
      const edits = successful(t.slack.callsOf('chat.update')).filter((call) => call.params.ts === replyTs);
      firstTextAt.push(edits[0]!.at);
      finalAt.push(edits.at(-1)!.at);
      streamEndAt.push(t.claude.requests.find((request) => questionOf(request) === `question ${i}`)!.endedAt!);
      // edits: first text, refreshes…, final. The third refresh is the fourth edit, when it is not the final.
      if (edits.length > 4) thirdRefreshAt.push(edits[3]!.at);
    }
    // Budget is short, so answers finish fast rather than show progress: the finals are never left waiting for
    // the budget, and no answer's first text waits behind another's third refresh. A final that found the budget
    // spent on progress would wait for it to refill, a token every 1.2 s at 50 a minute, behind up to 29 other
    // finals (35 s): each final here follows the end of its own stream by less than 10 refills, whatever the load
    // (a 429's Retry-After, at most a couple of seconds, included).
    const refillMs = 60_000 / 50;
    const finalDelays = finalAt.map((at, i) => at - streamEndAt[i]!);
    expect(Math.max(...finalDelays)).toBeLessThan(10 * refillMs);
    if (thirdRefreshAt.length > 0) expect(Math.max(...firstTextAt)).toBeLessThan(Math.min(...thirdRefreshAt));
    // Some answers still showed their first words before their final.
    expect(firstTextAt.filter((at, i) => at < finalAt[i]!).length).toBeGreaterThan(10);
  }, 90_000);
});
