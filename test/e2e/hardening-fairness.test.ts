import type { RecordedRequest } from '../fakes/fakeAnthropic.js';
import { deliverEvent, mentionEvent } from '../fakes/slackRequests.js';
import { SIGNING_SECRET, startTestBot, versionsOf, type TestBot } from '../harness.js';
import { spawnBot, useFakeServers } from '../processBot.js';

/** The question (last user turn) a request to Claude asked. */
const questionOf = (request: RecordedRequest) => (request.body.messages as { content: string }[]).at(-1)!.content;

/** The most requests of `requests` that were open at the same moment. */
function maxOverlap(requests: RecordedRequest[]): number {
  const edges = requests.flatMap((request) => [
    { at: request.at, step: 1 },
    { at: request.endedAt ?? Infinity, step: -1 },
  ]);
  edges.sort((a, b) => a.at - b.at || a.step - b.step);
  let open = 0;
  let most = 0;
  for (const edge of edges) most = Math.max(most, (open += edge.step));
  return most;
}

describe('one user flooding the bot', () => {
  const fakes = useFakeServers();

  test("200 mentions from user A in 200 threads: at most 3 of A's answers stream at once, and B's answer is not held up", async () => {
    const [slack, claude] = [fakes.slack(), fakes.claude()];
    const bot = await spawnBot(slack, claude, { HISTORY_STORE: 'memory', EDIT_INTERVAL_MS: '200' });
    try {
      const words = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i} `);
      claude.scriptFor = (body) => {
        const question = (body.messages as { content: string }[]).at(-1)!.content;
        return question === 'from B' ? { chunks: words('b', 5), delayMs: 100 } : { chunks: words('a', 10), delayMs: 100 };
      };
      const floods = Array.from({ length: 200 }, (_, i) => mentionEvent({ user: 'UA', text: `<@UBOT> from A ${i}` }));
      for (let i = 0; i < floods.length; i += 20) {
        await Promise.all(floods.slice(i, i + 20).map((event) => deliverEvent(bot.url, SIGNING_SECRET, event)));
      }
      const fromB = mentionEvent({ user: 'UB', text: '<@UBOT> from B' });
      await deliverEvent(bot.url, SIGNING_SECRET, fromB);

      // Every question gets its placeholder at once, waiting or not.
      const placeholderOf = (threadTs: string) => slack.callsOf('chat.postMessage').find((call) => call.params.thread_ts === threadTs);
      await slack.waitFor(() => [...floods, fromB].every((event) => placeholderOf(event.ts)), 30_000);

      const bFinal = 'b0 b1 b2 b3 b4';
      const bReplyTs = placeholderOf(fromB.ts)!.response.ts as string;
      await slack.waitFor(() => versionsOf(slack, bReplyTs).at(-1) === bFinal, 60_000);
      const bRequest = claude.requests.find((request) => questionOf(request) === 'from B')!;
      const finalShownAt = slack.messages.get(bReplyTs)!.versions.at(-1)!.at;
      // Generous: B's final competes with at most A's three answers in flight for the edit budget. It is shown
      // before the final of any answer A asked after B's stream ended (a whole 1-s stream later, more on a loaded
      // machine): a final held back while A's answers come and go would not be.
      const aFinal = words('a', 10).join('').trim();
      const aFinalsAfter = claude.requests
        .filter((request) => questionOf(request).startsWith('from A') && request.at > bRequest.endedAt!)
        .map((request) => floods[Number(questionOf(request).split(' ').at(-1))]!)
        .map((event) => slack.messages.get(placeholderOf(event.ts)!.response.ts as string)!.versions.find((version) => version.text === aFinal)?.at)
        .filter((at) => at !== undefined);
      expect(aFinalsAfter.filter((at) => at < finalShownAt)).toEqual([]);

      expect(maxOverlap(claude.requests.filter((request) => questionOf(request) !== 'from B'))).toBeLessThanOrEqual(3);
      const told = slack.callsOf('chat.postEphemeral');
      expect(told.map((call) => call.params.user)).toEqual(['UA']);
      expect(String(told[0]!.params.text)).toMatch(/still working on your earlier questions/);
    } finally {
      bot.child.kill('SIGKILL');
      await bot.exited;
    }
  }, 120_000);
});

describe('caps on answers in flight', () => {
  let t: TestBot;
  afterEach(() => t.stop());

  test('MAX_CONCURRENT_ANSWERS: the process streams at most that many answers, the rest wait in order', async () => {
    t = await startTestBot({ USER_MAX_CONCURRENT: '1', MAX_CONCURRENT_ANSWERS: '2' });
    t.claude.defaultScript = { chunks: ['one ', 'two ', 'three'], delayMs: 150 };
    for (const user of ['U1', 'U2', 'U3', 'U4']) await t.mention({ user, text: `<@UBOT> from ${user}` });
    await t.mention({ user: 'U1', text: '<@UBOT> again from U1' });
    await t.idle(20_000);
    expect(t.claude.requests.map(questionOf)).toEqual(['from U1', 'from U2', 'from U3', 'from U4', 'again from U1']);
    expect(maxOverlap(t.claude.requests)).toBe(2);
    for (const call of t.slack.callsOf('chat.postMessage')) {
      expect(versionsOf(t.slack, call.response.ts as string).at(-1)).toBe('one two three');
    }
  });

  test('a question waiting for its slot shows its placeholder at once and ends with the restart note on shutdown', async () => {
    t = await startTestBot({ USER_MAX_CONCURRENT: '1' });
    t.claude.defaultScript = { chunks: Array.from({ length: 50 }, (_, i) => `w${i} `), delayMs: 100 };
    const first = await t.mention({ text: '<@UBOT> long one' });
    await t.claude.waitForRequests(1);
    const second = await t.mention({ text: '<@UBOT> waits' });
    const placeholderOf = (threadTs: string) => t.slack.callsOf('chat.postMessage').find((call) => call.params.thread_ts === threadTs);
    await t.slack.waitFor(() => placeholderOf(second.ts) !== undefined);
    await t.bot.stop(0);
    expect(t.claude.requests).toHaveLength(1);
    expect(versionsOf(t.slack, placeholderOf(second.ts)!.response.ts as string).at(-1)).toMatch(/^_\(Answer cut short by a restart/);
    expect(versionsOf(t.slack, placeholderOf(first.ts)!.response.ts as string).at(-1)).toMatch(/Answer cut short by a restart/);
  });
});
