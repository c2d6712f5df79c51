import type { Json } from '../fakes/httpUtil.js';
import type { RecordedCall } from '../fakes/fakeSlack.js';
import { startTestBot, type TestBot } from '../harness.js';

const successful = (calls: RecordedCall[]) => calls.filter((call) => call.status === 200 && call.response.ok);
const words = (n: number) => Array.from({ length: n }, (_, i) => `w${i} `);

describe('edits: the workspace budget is shared fairly between users', () => {
  let t: TestBot;
  afterEach(() => t.stop());

  test('one user’s 50 answers at once do not hold back another user’s final', async () => {
    t = await startTestBot({
      EDIT_INTERVAL_MS: '1000',
      SLACK_EDITS_PER_MINUTE: '30',
      // Caps on answers in flight are another defence; this test is about the edit budget alone.
      USER_MAX_CONCURRENT: '100',
      MAX_CONCURRENT_ANSWERS: '1000',
    });
    t.slack.rateLimit('chat.update', { perMinute: 30, burst: 30 });
    // The flood's answers end after 2 s, the other user's a couple of seconds later: by then the flood's 50
    // finals have spent the 30-call burst and wait for the budget, one every 2 s, for most of a minute.
    t.claude.scriptFor = (body: Json) =>
      JSON.stringify(body).includes('from the other user') ? { chunks: words(40), delayMs: 100 } : { chunks: words(20), delayMs: 100 };
    await Promise.all(Array.from({ length: 50 }, (_, i) => t.mention({ user: 'UFLOOD', text: `<@UBOT> flood ${i}` })));
    const other = await t.mention({ user: 'UOTHER', text: '<@UBOT> from the other user' });
    await t.idle(90_000);

    const replyTs = successful(t.slack.callsOf('chat.postMessage')).find((call) => call.params.thread_ts === other.ts)!.response.ts;
    const final = successful(t.slack.callsOf('chat.update')).filter((call) => call.params.ts === replyTs).at(-1)!;
    expect(final.params.text).toBe(words(40).join('').trim());
    const streamEnd = t.claude.requests.find((request) => JSON.stringify(request.body).includes('from the other user'))!.endedAt!;
    const floodEdits = successful(t.slack.callsOf('chat.update')).filter((call) => call.params.ts !== replyTs);
    // Round-robin between users: once the other user's final is ready, at most one flood edit goes before it
    // (plus one already on its way), although the flood's finals were waiting longer...
    expect(floodEdits.filter((call) => call.at > streamEnd && call.at < final.at).length).toBeLessThanOrEqual(2);
    // ...and many were still waiting: without fairness this final would have waited behind them.
    expect(floodEdits.filter((call) => call.at > final.at).length).toBeGreaterThan(5);
    expect(t.slack.count429('chat.update')).toBeLessThanOrEqual(1);
  }, 120_000);
});
