import type { RecordedRequest } from '../fakes/fakeAnthropic.js';
import { firstReplyVersions, replyTs, startTestBot, type TestBot } from '../harness.js';

/** The question (last user turn) a request to Claude asked. */
const questionOf = (request: RecordedRequest) => (request.body.messages as { content: unknown }[]).at(-1)!.content;

describe('per-thread order, stalled streams and vanished messages', () => {
  let t: TestBot;
  afterEach(() => t.stop());

  test('a follow-up sent while the first answer streams waits for it and sees [q1, a1, q2]', async () => {
    t = await startTestBot();
    t.claude.enqueue({ chunks: ['First ', 'answer ', 'done.'], delayMs: 200 }, { chunks: ['Second.'] });
    const first = await t.dm({ text: 'q1' });
    await t.claude.waitForRequests(1);
    await t.dm({ text: 'q2', thread_ts: first.ts });
    await t.idle();
    expect(t.claude.requests).toHaveLength(2);
    expect(t.claude.requests[1]!.at).toBeGreaterThanOrEqual(t.claude.requests[0]!.endedAt!);
    expect(t.claude.requests[1]!.body.messages).toEqual([
      { role: 'user', content: 'q1' },
      { role: 'assistant', content: 'First answer done.' },
      { role: 'user', content: 'q2' },
    ]);
  });

  test('threads run concurrently', async () => {
    t = await startTestBot();
    // Neither answer can end before both questions reached Claude: threads run one after the other never would.
    let bothAsked!: () => void;
    t.claude.defaultScript = { chunks: ['a ', 'b ', 'c'], holdUntil: new Promise<void>((resolve) => (bothAsked = resolve)) };
    await Promise.all([t.mention({ text: '<@UBOT> one' }), t.mention({ text: '<@UBOT> two' })]);
    try {
      await t.claude.waitForRequests(2);
    } finally {
      bothAsked();
    }
    expect(t.claude.requests.map(questionOf).sort()).toEqual(['one', 'two']);
    await t.idle();
  });

  test('many messages at once in one thread are answered in order, beyond 5 waiting the user is told to wait', async () => {
    t = await startTestBot();
    t.claude.defaultScript = { chunks: ['ok'], delayMs: 0, firstTokenDelayMs: 150 };
    const first = await t.dm({ text: 'm0' });
    for (let i = 1; i <= 6; i++) await t.dm({ text: `m${i}`, thread_ts: first.ts });
    await t.idle(15_000);
    const asked = t.claude.requests.map((request) => (request.body.messages as { content: string }[]).at(-1)!.content);
    expect(asked).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5']);
    const ephemerals = t.slack.callsOf('chat.postEphemeral');
    expect(ephemerals).toHaveLength(1);
    expect(ephemerals[0]!.params).toMatchObject({ channel: 'D123', user: 'U123', thread_ts: first.ts });
    // History stays alternating through the whole queue.
    const last = t.claude.requests.at(-1)!.body.messages as { role: string }[];
    last.forEach((turn, i) => expect(turn.role).toBe(i % 2 === 0 ? 'user' : 'assistant'));
  });

  test('a stream that goes silent is aborted after the idle timeout and retried from scratch', async () => {
    t = await startTestBot({ STREAM_IDLE_TIMEOUT_MS: '400', STREAM_RETRIES: '1' });
    t.claude.enqueue({ chunks: ['stalled ', 'here ', 'never'], fail: { afterChunks: 2, how: 'hang' } }, { chunks: ['Fresh ', 'answer.'] });
    await t.mention({ text: '<@UBOT> go' });
    await t.idle();
    expect(t.claude.requests).toHaveLength(2);
    expect(t.claude.requests[1]!.at - t.claude.requests[0]!.at).toBeGreaterThanOrEqual(400);
    expect(firstReplyVersions(t.slack).at(-1)).toBe('Fresh answer.');
  });

  test('a reply deleted by a user while it is written aborts the Claude stream at once and nothing is posted again', async () => {
    t = await startTestBot({ EDIT_INTERVAL_MS: '100' });
    const chunks = Array.from({ length: 50 }, (_, i) => `c${i} `);
    t.claude.enqueue({ chunks, delayMs: 100 });
    await t.mention({ text: '<@UBOT> go' });
    // The answer has started showing (an edit of the placeholder, or an append to the stream).
    await t.slack.waitFor(() => firstReplyVersions(t.slack).length >= 2);
    await fetch(`${t.slack.apiUrl}chat.delete`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: 'Bearer xoxb-user' },
      body: JSON.stringify({ channel: 'C123', ts: replyTs(t.slack) }),
    });
    await t.idle();
    const request = t.claude.requests[0]!;
    await t.slack.waitFor(() => request.endedAt !== undefined);
    // The stream would have run 5 s: the bot cut it, well before its end.
    expect(request.clientClosedAt).toBeDefined();
    expect(request.chunkTimes.length).toBeLessThan(chunks.length / 2);
    expect(t.claude.requests).toHaveLength(1);
    expect([...t.slack.callsOf('chat.postMessage'), ...t.slack.callsOf('chat.startStream')]).toHaveLength(1);
    expect(t.logs.join('')).toMatch(/message_not_found/);
  });
});
