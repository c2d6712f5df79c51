import { startTestBot, versionsOf, type TestBot } from '../harness.js';

const INDICATOR = /\n\n_…still writing_$/;

describe('edit throttling', () => {
  let t: TestBot;
  afterEach(() => t.stop());

  test('a 3-second, 60-chunk stream is edited at most every 500 ms, with growing text, and ends at once', async () => {
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
    // About one edit per interval over 3 s, plus the first text and the final: never one per chunk.
    expect(edits.length).toBeGreaterThanOrEqual(4);
    expect(edits.length).toBeLessThanOrEqual(9);

    const texts = versionsOf(t.slack, replyTs).slice(1);
    texts.slice(1).forEach((text, i) => expect(text).not.toBe(texts[i]));
    const answers = texts.map((text) => text.replace(INDICATOR, ''));
    const full = chunks.join('').trim();
    expect(answers.at(-1)).toBe(full);
    answers.forEach((answer) => expect(full.startsWith(answer.trim())).toBe(true));
    answers.slice(1).forEach((answer, i) => expect(answer.length).toBeGreaterThan(answers[i]!.length));

    // The final edit follows the end of the stream within a few tens of ms, not a whole interval later.
    const streamEnd = t.claude.requests[0]!.endedAt!;
    expect(edits.at(-1)!.at - streamEnd).toBeLessThan(80);
  });
});
