import { firstReplyVersions, replyTs, startTestBot, type TestBot } from '../harness.js';

/** Timers may fire a hair early relative to the fakes' clock; never by more than this. */
const CLOCK_SLACK_MS = 15;

describe('retries from scratch wait, with exponential backoff', () => {
  let t: TestBot;
  afterEach(() => t.stop());

  test('a stream that always drops is retried after 0.5–1 s, then at least 1 s, then at least 2 s', async () => {
    t = await startTestBot({ STREAM_RETRIES: '3' });
    t.claude.defaultScript = { chunks: ['partial ', 'text'], delayMs: 20, fail: { afterChunks: 1, how: 'drop' } };
    await t.mention({ text: '<@UBOT> flaky' });
    await t.claude.waitForRequests(4, 15_000);
    await t.idle(15_000);
    expect(t.claude.requests).toHaveLength(4);
    const gaps = t.claude.requests.slice(1).map((request, i) => request.at - t.claude.requests[i]!.endedAt!);
    gaps.forEach((gap, i) => expect(gap).toBeGreaterThanOrEqual(500 * 2 ** i - CLOCK_SLACK_MS));
    // Every retry ends the same way: the partial text with the "interrupted" note, never "Trying again…".
    expect(firstReplyVersions(t.slack).at(-1)).toMatch(/^partial\s*\n\n_\(Response interrupted: .*Please ask again\.\)_$/);
  }, 30_000);

  test('after an overloaded_error event the wait is longer (≥ 1 s), and the user sees "Trying again…" meanwhile', async () => {
    t = await startTestBot({ STREAM_RETRIES: '1' });
    t.claude.enqueue({ chunks: ['Hello ', 'there'], fail: { afterChunks: 1, how: 'error_event', errorType: 'overloaded_error' } }, { chunks: ['Fresh answer.'] });
    await t.mention({ text: '<@UBOT> busy?' });
    await t.claude.waitForRequests(2, 10_000);
    const [first, second] = t.claude.requests;
    expect(second!.at - first!.endedAt!).toBeGreaterThanOrEqual(1000 - CLOCK_SLACK_MS);
    // What the message showed when the retry started.
    const shownAtRetry = t.slack.messages.get(replyTs(t.slack))!.versions.filter((version) => version.at <= second!.at).at(-1)!.text;
    expect(shownAtRetry).toMatch(/Trying again/);
    await t.idle();
    expect(firstReplyVersions(t.slack).at(-1)).toBe('Fresh answer.');
  });

  test('a retry-after header on the failed stream is honoured (bounded), beyond the computed backoff', async () => {
    t = await startTestBot({ STREAM_RETRIES: '1' });
    t.claude.enqueue({ chunks: ['Hello ', 'there'], headers: { 'retry-after': '3' }, fail: { afterChunks: 1, how: 'drop' } }, { chunks: ['Later.'] });
    await t.mention({ text: '<@UBOT> wait for it' });
    await t.claude.waitForRequests(2, 10_000);
    const [first, second] = t.claude.requests;
    expect(second!.at - first!.endedAt!).toBeGreaterThanOrEqual(3000 - CLOCK_SLACK_MS);
    await t.idle();
    expect(firstReplyVersions(t.slack).at(-1)).toBe('Later.');
  });

  test('a shutdown during the wait ends it at once: no further request, the restart note under the partial text', async () => {
    t = await startTestBot({ STREAM_RETRIES: '5' });
    t.claude.defaultScript = { chunks: ['Half ', 'an answer'], fail: { afterChunks: 1, how: 'drop' } };
    await t.mention({ text: '<@UBOT> cut me' });
    await t.slack.waitFor(() => firstReplyVersions(t.slack).some((text) => /Trying again/.test(text)));
    await t.bot.stop(0);
    expect(t.claude.requests).toHaveLength(1);
    expect(firstReplyVersions(t.slack).at(-1)).toMatch(/^Half\s*\n\n_\(Answer cut short by a restart/);
  });
});

describe('the wait for Claude to start answering is bounded', () => {
  let t: TestBot;
  afterEach(() => t.stop());

  test('429 with retry-after: 600 ends after CLAUDE_FIRST_TOKEN_TIMEOUT_MS with a clear "busy, try again" message', async () => {
    t = await startTestBot({ CLAUDE_FIRST_TOKEN_TIMEOUT_MS: '1500' });
    const limited = { httpError: { status: 429, type: 'rate_limit_error', message: 'Rate limited', retryAfter: 600 } };
    t.claude.enqueue(limited, limited, limited);
    await t.mention({ text: '<@UBOT> anyone there?' });
    await t.idle(20_000);
    expect(firstReplyVersions(t.slack).at(-1)).toMatch(/too busy to start an answer.*try again/);
    // The SDK was still waiting out the retry-after: it never sent its retry.
    expect(t.claude.requests).toHaveLength(1);
  }, 30_000);

  test('a first event that comes within the bound is answered as usual', async () => {
    t = await startTestBot({ CLAUDE_FIRST_TOKEN_TIMEOUT_MS: '1500' });
    const limited = { httpError: { status: 429, type: 'rate_limit_error', message: 'Rate limited', retryAfter: 0 } };
    t.claude.enqueue(limited, { chunks: ['Made ', 'it.'] });
    await t.mention({ text: '<@UBOT> anyone there?' });
    await t.idle();
    expect(firstReplyVersions(t.slack).at(-1)).toBe('Made it.');
  });
});
