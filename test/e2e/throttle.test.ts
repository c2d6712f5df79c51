import { startTestBot, versionsOf, type TestBot } from '../harness.js';

const INDICATOR = /\n\n_…still writing_$/;

describe('edit throttling', () => {
  let t: TestBot;
  afterEach(() => t.stop());

  test('a 3-second, 60-chunk stream is edited at most every 500 ms, with growing text', async () => {
    t = await startTestBot({ EDIT_INTERVAL_MS: '500' });
    const chunks = Array.from({ length: 60 }, (_, i) => `t${i} `);
    t.claude.enqueue({ chunks, delayMs: 50 });
    await t.mention({ text: '<@UBOT> count' });
    await t.idle();

    const replyTs = t.slack.callsOf('chat.postMessage')[0]!.response.ts as string;
    const edits = t.slack.callsOf('chat.update').filter((call) => call.params.ts === replyTs);
    // DESIGN.md §3: the final edit goes out as soon as the stream ends, so the interval binds the edits before it.
    const intermediate = edits.slice(0, -1);
    const gaps = intermediate.slice(1).map((edit, i) => edit.at - intermediate[i]!.at);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(500);
    expect(edits.at(-1)!.at).toBeGreaterThan(intermediate.at(-1)!.at);
    // About one edit per interval over the stream (3 s, longer on a loaded machine), plus the first text, the
    // final and one on its way as the stream ended: never one per chunk.
    const { at: streamStart, endedAt: streamEnd } = t.claude.requests[0]!;
    expect(edits.length).toBeGreaterThanOrEqual(4);
    expect(edits.length).toBeLessThanOrEqual(Math.ceil((streamEnd! - streamStart) / 500) + 3);

    const texts = versionsOf(t.slack, replyTs).slice(1);
    texts.slice(1).forEach((text, i) => expect(text).not.toBe(texts[i]));
    const answers = texts.map((text) => text.replace(INDICATOR, ''));
    const full = chunks.join('').trim();
    expect(answers.at(-1)).toBe(full);
    answers.forEach((answer) => expect(full.startsWith(answer.trim())).toBe(true));
    answers.slice(1).forEach((answer, i) => expect(answer.length).toBeGreaterThan(answers[i]!.length));
  });

  test('the final edit goes out as soon as the stream ends, not an interval after the edit before it', async () => {
    // An interval far longer than the 0.5-s stream: a final that waited for it would come 15 s after the first
    // text; this one comes within half of that, however slow the machine.
    const intervalMs = 15_000;
    t = await startTestBot({ EDIT_INTERVAL_MS: String(intervalMs) });
    const chunks = Array.from({ length: 10 }, (_, i) => `t${i} `);
    t.claude.enqueue({ chunks, delayMs: 50 });
    await t.mention({ text: '<@UBOT> count' });
    await t.idle(25_000);

    const post = t.slack.callsOf('chat.postMessage')[0]!;
    const replyTs = post.response.ts as string;
    const edits = t.slack.callsOf('chat.update').filter((call) => call.params.ts === replyTs);
    expect(versionsOf(t.slack, replyTs).at(-1)).toBe(chunks.join('').trim());
    // The final, and what Slack showed before it: the first text (or, had the stream ended first, the placeholder).
    const [before, final] = [[post, ...edits].at(-2)!, edits.at(-1)!];
    expect(final.at - before.at).toBeLessThan(intervalMs / 2);
  }, 30_000);
});
