import { PDFDocument } from 'pdf-lib';
import { FILE_DOWNLOAD_METHOD } from '../fakes/fakeSlack.js';
import type { Json } from '../fakes/httpUtil.js';
import { pdf, png } from '../fixtures/files.js';
import { BOT_TOKEN, startTestBot, versionsOf, type TestBot } from '../harness.js';

const CHANNEL = 'C123';

/** A valid one-page PDF of about `size` bytes (one large unreferenced stream filled with `fill`). */
async function bigPdf(size: number, fill = 0x61): Promise<Buffer> {
  const doc = await PDFDocument.create();
  doc.addPage([200, 200]);
  doc.context.register(doc.context.stream(Buffer.alloc(size, fill)));
  return Buffer.from(await doc.save({ useObjectStreams: false }));
}

/** A PDF of `size` bytes whose only object is one unterminated name token: valid header, no xref. */
function nameBombPdf(size: number): Buffer {
  return Buffer.concat([Buffer.from('%PDF-1.7\n1 0 obj\n/', 'latin1'), Buffer.alloc(size, 0x41)]);
}

/**
 * Issue #11 §3 hardened (found by attacks): what attached files may cost the bot and the request, through the
 * real bot, Slack and Anthropic fakes.
 */
describe('attached files stay within what the bot and Claude can take', () => {
  let t: TestBot;
  afterEach(() => t.stop());

  /** The final text of the bot's reply in the thread of `ts`. */
  function finalReply(ts: string): string {
    const reply = t.slack.callsOf('chat.postMessage').find((call) => call.params.thread_ts === ts);
    if (!reply) throw new Error('no reply posted');
    return versionsOf(t.slack, reply.response.ts as string).at(-1) ?? '';
  }

  /** Blocks of `type` in every message of Claude's first request. */
  function blocksOf(type: string): Json[] {
    return (t.claude.requests[0]!.body.messages as Json[])
      .flatMap((message) => (Array.isArray(message.content) ? message.content : []))
      .filter((block: Json) => block.type === type);
  }

  test("a PDF crafted to take pdf-lib seconds and gigabytes (one 19 MB token) is parsed off the event loop: another user's question asked meanwhile is answered first, the PDF gets the damaged note", async () => {
    t = await startTestBot();
    const files = [t.slack.addFile({ name: 'report.pdf', mimetype: 'application/pdf', bytes: nameBombPdf(19_000_000) })];
    const asked = await t.mention({ text: '<@UBOT> summarise this', user: 'U0ATTACKER', channel: 'C0ATTACK', files });
    await t.slack.waitFor(() => t.slack.callsOf(FILE_DOWNLOAD_METHOD).length > 0, 10_000);
    // A short answer, asked while the PDF is examined: on the main thread the parse would hold this question's
    // event until it ends (~10 s), and the PDF's request would go to Claude first.
    t.claude.enqueue({ chunks: ['Once ', 'upon ', 'a ', 'time.'], delayMs: 50 });
    const other = await t.mention({ text: '<@UBOT> tell me a story', user: 'U0OTHER', channel: 'C0OTHER' });
    await t.idle(60_000);

    expect(finalReply(other.ts)).toBe('Once upon a time.');
    const storyFinal = t.slack.calls.filter((call) => call.method === 'chat.update' && call.params.channel === 'C0OTHER').at(-1)!;
    const pdfRequest = t.claude.requests.find((request) => JSON.stringify(request.body).includes('summarise this'))!;
    expect(storyFinal.at).toBeLessThan(pdfRequest.at);
    expect(finalReply(asked.ts)).toMatch(/couldn't read `report\.pdf`: it seems to be damaged/);
  }, 90_000);

  test('a thread of 12 messages each with a 15 MB PDF: only the PDF that fits the request is downloaded', async () => {
    t = await startTestBot();
    const parent = t.slack.addUserMessage({ channel: CHANNEL, user: 'U0A', text: 'reports' });
    for (let i = 0; i < 12; i++) {
      const file = t.slack.addFile({ name: `r${i}.pdf`, mimetype: 'application/pdf', bytes: await bigPdf(15_000_000, 0x61 + i) });
      t.slack.addUserMessage({ channel: CHANNEL, threadTs: parent.ts, user: 'U0A', text: `report ${i}`, files: [file as Json] });
    }
    const { ts } = t.slack.addUserMessage({ channel: CHANNEL, threadTs: parent.ts, user: 'U0ASKER', text: '<@UBOT> compare them' });
    await t.mention({ text: '<@UBOT> compare them', ts, thread_ts: parent.ts, user: 'U0ASKER', channel: CHANNEL });
    await t.idle(120_000);

    expect(blocksOf('document')).toHaveLength(1);
    expect(t.slack.callsOf(FILE_DOWNLOAD_METHOD)).toHaveLength(1);
  }, 150_000);

  test('a thread with 120 screenshots: one request holds at most 100 images, and the answer comes', async () => {
    t = await startTestBot();
    const parent = t.slack.addUserMessage({ channel: CHANNEL, user: 'U0A', text: 'screenshots' });
    for (let i = 0; i < 120; i++) {
      const file = t.slack.addFile({ name: `s${i}.png`, mimetype: 'image/png', bytes: await png(8 + i, 8) });
      t.slack.addUserMessage({ channel: CHANNEL, threadTs: parent.ts, user: 'U0A', text: `shot ${i}`, files: [file as Json] });
    }
    const { ts } = t.slack.addUserMessage({ channel: CHANNEL, threadTs: parent.ts, user: 'U0ASKER', text: '<@UBOT> what changed?' });
    await t.mention({ text: '<@UBOT> what changed?', ts, thread_ts: parent.ts, user: 'U0ASKER', channel: CHANNEL });
    await t.idle(60_000);

    expect(blocksOf('image').length).toBeGreaterThan(0);
    expect(blocksOf('image').length).toBeLessThanOrEqual(100);
    expect(finalReply(parent.ts)).not.toMatch(/Too much media|:warning:/);
  }, 90_000);

  test('a 100-page PDF and a screenshot: images and PDF pages share the 100 media a request takes; the screenshot gets a note', async () => {
    t = await startTestBot();
    const files = [
      t.slack.addFile({ name: 'spec.pdf', mimetype: 'application/pdf', bytes: await pdf(100) }),
      t.slack.addFile({ name: 'screen.png', mimetype: 'image/png', bytes: await png(20, 20) }),
    ];
    const event = await t.dm({ subtype: 'file_share', text: 'does the screenshot match the spec?', files });
    await t.idle(30_000);

    expect(blocksOf('document')).toHaveLength(1);
    expect(blocksOf('image')).toHaveLength(0);
    expect(finalReply(event.ts)).toMatch(/couldn't read `screen\.png`: .*100 images and PDF pages/);
  }, 60_000);

  test('a 19 MB PDF asked about in a thread of 55 ANSI-coloured logs: text is measured as sent (JSON-escaped), the request stays under 32 MB', async () => {
    t = await startTestBot();
    const parent = t.slack.addUserMessage({ channel: CHANNEL, user: 'U0CI', text: 'CI runs' });
    // ESC[31m…ESC[0m colour codes: 100,000 characters, about half of them ESC (6 bytes each as JSON).
    const log = Buffer.from('\x1b[31mE\x1b[0m\n'.repeat(Math.ceil(100_000 / 12)).slice(0, 100_000));
    for (let i = 0; i < 55; i++) {
      const file = t.slack.addFile({ name: `ci-${i}.log`, mimetype: 'text/plain', filetype: 'text', bytes: log });
      t.slack.addUserMessage({ channel: CHANNEL, threadTs: parent.ts, user: 'U0CI', text: `run ${i}`, files: [file as Json] });
    }
    const spec = t.slack.addFile({ name: 'spec.pdf', mimetype: 'application/pdf', bytes: await bigPdf(19_000_000) });
    const { ts } = t.slack.addUserMessage({ channel: CHANNEL, threadTs: parent.ts, user: 'U0ASKER', text: '<@UBOT> why do the runs fail?', files: [spec as Json] });
    await t.mention({ text: '<@UBOT> why do the runs fail?', ts, thread_ts: parent.ts, user: 'U0ASKER', channel: CHANNEL, files: [spec] });
    await t.idle(60_000);

    expect(Buffer.byteLength(JSON.stringify(t.claude.requests[0]!.body))).toBeLessThanOrEqual(32 * 1024 * 1024);
    expect(blocksOf('document').some((block) => block.source.media_type === 'application/pdf')).toBe(true);
    expect(finalReply(parent.ts)).not.toMatch(/:warning:/);
  }, 90_000);

  test('a stalled download in a thread message does not hold the answer: Claude is asked without it once the files deadline passes', async () => {
    t = await startTestBot();
    const parent = t.slack.addUserMessage({ channel: CHANNEL, user: 'U0A', text: 'logs' });
    const file = t.slack.addFile({ name: 'old.pdf', mimetype: 'application/pdf', bytes: await pdf(1), stall: true });
    t.slack.addUserMessage({ channel: CHANNEL, threadTs: parent.ts, user: 'U0A', text: 'old report', files: [file as Json] });
    const { ts } = t.slack.addUserMessage({ channel: CHANNEL, threadTs: parent.ts, user: 'U0ASKER', text: '<@UBOT> what is 2+2?' });
    await t.mention({ text: '<@UBOT> what is 2+2?', ts, thread_ts: parent.ts, user: 'U0ASKER', channel: CHANNEL });
    // Well before the 60 s one download could take; the files deadline is 15 s.
    await t.slack.waitFor(() => t.claude.requests.length > 0, 30_000);
    await t.idle(30_000);

    expect(JSON.stringify(t.claude.requests[0]!.body.messages)).toContain('old.pdf');
    expect(blocksOf('document')).toHaveLength(0);
  }, 90_000);

  test('each file that could not be read is logged once, by id and reason, without the token', async () => {
    t = await startTestBot();
    const files = [
      t.slack.addFile({ name: `${BOT_TOKEN}.pdf`, mimetype: 'application/pdf', bytes: Buffer.from('%PDF-1.7\n1 0 obj\n(') }),
      t.slack.addFile({ name: 'signin.txt', mimetype: 'text/plain', bytes: Buffer.from('x'), access: 'html' }),
    ];
    await t.dm({ subtype: 'file_share', text: 'read these', files });
    await t.idle(30_000);

    const lines = t.logs.flatMap((chunk) => chunk.split('\n')).filter((line) => line.includes('could not read an attached file'));
    expect(lines.map((line) => JSON.parse(line)).map(({ file, reason }) => ({ file, reason }))).toEqual([
      { file: files[0]!.id, reason: 'damaged' },
      { file: files[1]!.id, reason: 'noAccess' },
    ]);
    expect(lines.join('\n')).not.toContain(BOT_TOKEN);
    expect(lines.join('\n')).not.toContain('/files/');
  }, 60_000);
});
