import type { RecordedCall } from '../fakes/fakeSlack.js';
import { startTestBot, versionsOf, type TestBot } from '../harness.js';

const INDICATOR = '\n\n_…still writing_';
const successful = (calls: RecordedCall[]) => calls.filter((call) => call.status === 200 && call.response.ok);
const replyTsOf = (t: TestBot, threadTs: string) =>
  successful(t.slack.callsOf('chat.postMessage')).find((call) => call.params.thread_ts === threadTs)!.response.ts as string;

describe('edits: wrong final messages, a poisoned workspace, stalls after a 429', () => {
  let t: TestBot;
  afterEach(() => t.stop());

  test('a retry that streams the text shown before the retry notice still ends on that text, not on the notice', async () => {
    t = await startTestBot({ STREAM_RETRIES: '1', EDIT_INTERVAL_MS: '200' });
    // Slow edits: the retry's answer arrives while the "Trying again…" edit is still in flight.
    t.slack.methodLatencyMs.set('chat.update', 3000);
    t.claude.enqueue(
      { chunks: ['Hello world'], fail: { afterChunks: 1, how: 'error_event' } },
      { chunks: ['Hello world'], firstTokenDelayMs: 4000 },
    );
    const event = await t.mention({ text: '<@UBOT> hi' });
    const notified = () => versionsOf(t.slack, replyTsOf(t, event.ts)).some((text) => text.includes('Trying again'));
    await t.slack.waitFor(() => t.slack.callsOf('chat.postMessage').length > 0 && notified(), 20_000);
    await t.idle(30_000);

    expect(versionsOf(t.slack, replyTsOf(t, event.ts)).at(-1)).toBe('Hello world');
  }, 40_000);

  test('60 placeholders refused by Slack leave the workspace as it was: the next answer still shows its progress', async () => {
    t = await startTestBot({ EDIT_INTERVAL_MS: '200', SLACK_EDITS_PER_MINUTE: '50', USER_MAX_CONCURRENT: '100' });
    const errors = ['is_archived', 'channel_not_found', 'not_in_channel'];
    errors.forEach((error) => t.slack.setChannelError(`C_${error}`, error));
    t.claude.defaultScript = { chunks: ['never ', 'shown'], firstTokenDelayMs: 300 };
    for (let i = 0; i < 60; i++) await t.mention({ channel: `C_${errors[i % errors.length]}`, user: `U${i}`, text: '<@UBOT> hi' });
    await t.idle(30_000);
    expect(successful(t.slack.callsOf('chat.postMessage'))).toHaveLength(0);

    const chunks = Array.from({ length: 30 }, (_, i) => `w${i} `);
    t.claude.enqueue({ chunks, delayMs: 50 });
    const event = await t.mention({ text: '<@UBOT> count' });
    await t.idle();
    const versions = versionsOf(t.slack, replyTsOf(t, event.ts));
    const intermediate = versions.filter((text) => text.endsWith(INDICATOR));
    expect(intermediate.length).toBeGreaterThanOrEqual(2);
    expect(versions.at(-1)).toBe(chunks.join('').trim());
  }, 60_000);

  test('after a 429 with Retry-After 10 s, edits resume after the window, well before the stream ends, with the latest text', async () => {
    const interval = 500;
    t = await startTestBot({ EDIT_INTERVAL_MS: String(interval), SLACK_EDITS_PER_MINUTE: '50' });
    const chunks = Array.from({ length: 400 }, (_, i) => `c${i} `);
    t.claude.enqueue({ chunks, delayMs: 50 });
    const event = await t.mention({ text: '<@UBOT> a long one' });
    await t.slack.waitFor(() => t.slack.callsOf('chat.update').length === 1);
    t.slack.failNext('chat.update', { status: 429, retryAfter: 10 });
    await t.idle(40_000);

    const updates = t.slack.callsOf('chat.update');
    const limited = updates.find((call) => call.status === 429)!;
    const windowEnd = limited.at + 10_000;
    const after = updates.filter((call) => call.at > limited.at);
    // Nothing inside the window; then an edit well before the stream's end (at about 20 s, later on a loaded
    // machine, whose 400 chunk delays stretch more than the window's one timer): a stalled scheduler would
    // show nothing more until the final.
    expect(after[0]!.at).toBeGreaterThanOrEqual(windowEnd - 50);
    const resumed = after[0]!;
    const { chunkTimes, endedAt: streamEnd } = t.claude.requests[0]!;
    expect(resumed.at).toBeLessThan(streamEnd!);
    expect(String(resumed.params.text).endsWith(INDICATOR)).toBe(true);
    // It carries the text streamed during the window, not the text held back at the 429: at least up to the
    // chunk streamed halfway through it, 5 s before the bot could send again.
    const streamedBefore = chunkTimes.filter((at) => at < limited.at + 5_000).length;
    expect(String(resumed.params.text)).toContain(chunks[streamedBefore - 1]!.trim());
    expect(versionsOf(t.slack, replyTsOf(t, event.ts)).at(-1)).toBe(chunks.join('').trim());
  }, 60_000);
});

describe('edits: every chat.update pays for itself', () => {
  let t: TestBot;
  afterEach(() => t.stop());

  test('retries that rewrite a 20-message answer stay within Slack’s chat.update limit: no 429', async () => {
    t = await startTestBot({ STREAM_RETRIES: '2', EDIT_INTERVAL_MS: '200', SLACK_EDITS_PER_MINUTE: '30' });
    t.slack.rateLimit('chat.update', { perMinute: 30, burst: 30 });
    // Twenty paragraphs of about 2,000 characters: one Slack message each. Every attempt changes all twenty.
    const answer = (letter: string) => Array.from({ length: 20 }, (_, i) => `${letter}${i} ${`${letter} `.repeat(1000)}`.trim()).join('\n\n');
    t.claude.enqueue(
      { chunks: [answer('a')], fail: { afterChunks: 1, how: 'error_event' } },
      { chunks: [answer('b')], firstTokenDelayMs: 1500, fail: { afterChunks: 1, how: 'error_event' } },
      { chunks: [answer('c')], firstTokenDelayMs: 1500 },
    );
    const event = await t.mention({ text: '<@UBOT> a long answer' });
    await t.idle(90_000);

    expect(t.slack.count429('chat.update')).toBe(0);
    const parts = t.slack.threadMessages(event.channel, event.ts).filter((message) => !message.deleted);
    expect(parts.map((message) => message.text)).toEqual(answer('c').split('\n\n'));
    // The retries did rewrite every message: far more edits than the one budget take per send the bot used to pay.
    expect(successful(t.slack.callsOf('chat.update')).length).toBeGreaterThan(40);
  }, 120_000);
});
