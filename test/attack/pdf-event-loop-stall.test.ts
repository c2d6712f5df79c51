import { performance } from 'node:perf_hooks';
import { startTestBot, type TestBot } from '../harness.js';

/**
 * Attack: pdf-lib parses a PDF synchronously on the main thread (src/slack/fileContent.ts pdfContent →
 * PDFDocument.load). pdf-lib yields between objects (objectsPerTick) but never inside one object, so a PDF
 * whose single object is one huge token (a 19 MB name, array, hex or literal string) blocks the event loop for
 * seconds and allocates over a gigabyte, while every other user's answer freezes.
 */
describe('attack: a crafted PDF stalls the event loop', () => {
  let t: TestBot;
  afterEach(() => t.stop());

  /** A PDF of `size` bytes whose only object is one unterminated name token: valid header, no xref. */
  function nameBombPdf(size: number): Buffer {
    return Buffer.concat([Buffer.from('%PDF-1.7\n1 0 obj\n/', 'latin1'), Buffer.alloc(size, 0x41)]);
  }

  test("a 19 MB one-token PDF does not block the main thread (another user's answer keeps streaming)", async () => {
    t = await startTestBot();
    // The other user's answer: 40 chunks 100 ms apart, so its message is edited every ~200 ms.
    t.claude.enqueue({ chunks: Array.from({ length: 40 }, (_, i) => `word${i} `), delayMs: 100 });
    t.claude.enqueue({ chunks: ['done'] });
    const other = await t.mention({ text: '<@UBOT> tell me a story', user: 'U0OTHER', channel: 'C0OTHER' });
    await t.slack.waitFor(() => t.slack.callsOf('chat.update').length > 0, 10_000);

    let maxGap = 0;
    let last = performance.now();
    const ticker = setInterval(() => {
      const now = performance.now();
      maxGap = Math.max(maxGap, now - last);
      last = now;
    }, 5);
    const files = [t.slack.addFile({ name: 'report.pdf', mimetype: 'application/pdf', bytes: nameBombPdf(19_000_000) })];
    const started = performance.now();
    await t.mention({ text: '<@UBOT> summarise this', user: 'U0ATTACKER', channel: 'C0ATTACK', files });
    await t.idle(60_000);
    clearInterval(ticker);
    const elapsed = performance.now() - started;

    // How long the other user's reply went without an edit while the PDF was parsed.
    const otherReply = t.slack.callsOf('chat.postMessage').find((call) => call.params.channel === 'C0OTHER' && call.params.thread_ts === other.ts);
    const edits = t.slack.callsOf('chat.update').filter((call) => call.params.ts === otherReply?.response.ts).map((call) => call.at);
    const editGaps = edits.slice(1).map((at, i) => at - edits[i]!);
    console.log(`answer took ${elapsed.toFixed(0)} ms; longest event-loop stall ${maxGap.toFixed(0)} ms; longest gap between the other answer's edits ${Math.max(0, ...editGaps).toFixed(0)} ms`);
    expect(maxGap).toBeLessThan(500);
  }, 90_000);
});
