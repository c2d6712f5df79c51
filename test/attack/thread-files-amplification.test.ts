import { PDFDocument } from 'pdf-lib';
import { FILE_DOWNLOAD_METHOD } from '../fakes/fakeSlack.js';
import type { Json } from '../fakes/httpUtil.js';
import { pdf, png } from '../fixtures/files.js';
import { startTestBot, type TestBot } from '../harness.js';

const CHANNEL = 'C123';

/** A valid one-page PDF of about `size` bytes (one large unreferenced stream). */
async function bigPdf(size: number, tag: number): Promise<Buffer> {
  const doc = await PDFDocument.create();
  doc.addPage([200, 200]);
  doc.context.register(doc.context.stream(Buffer.alloc(size, 0x61 + (tag % 26))));
  return Buffer.from(await doc.save({ useObjectStreams: false }));
}

/**
 * Attack: every file of every thread message kept as context is downloaded, parsed and base64-encoded
 * (src/slack/fileReader.ts read: Promise.all over all files, 3 at a time) before the 31 MB request budget is
 * applied; files beyond the budget are thrown away only afterwards. A thread of N messages with big files
 * costs N downloads and holds all N files in memory per question (and again for every follow-up).
 */
describe('attack: files in thread context', () => {
  let t: TestBot;
  afterEach(() => t.stop());

  test('a thread of 12 messages each with a 15 MB PDF: at most what fits the request is downloaded and held', async () => {
    t = await startTestBot();
    const parent = t.slack.addUserMessage({ channel: CHANNEL, user: 'U0A', text: 'reports' });
    for (let i = 0; i < 12; i++) {
      const file = t.slack.addFile({ name: `r${i}.pdf`, mimetype: 'application/pdf', bytes: await bigPdf(15_000_000, i) });
      t.slack.addUserMessage({ channel: CHANNEL, threadTs: parent.ts, user: 'U0A', text: `report ${i}`, files: [file as Json] });
    }
    if (global.gc) global.gc();
    const base = process.memoryUsage();
    let peak = 0;
    const sampler = setInterval(() => {
      const m = process.memoryUsage();
      peak = Math.max(peak, m.rss - base.rss);
    }, 10);
    const { ts } = t.slack.addUserMessage({ channel: CHANNEL, threadTs: parent.ts, user: 'U0ASKER', text: '<@UBOT> compare them' });
    await t.mention({ text: '<@UBOT> compare them', ts, thread_ts: parent.ts, user: 'U0ASKER', channel: CHANNEL });
    await t.idle(120_000);
    clearInterval(sampler);

    const downloads = t.slack.callsOf(FILE_DOWNLOAD_METHOD).length;
    const sent = (t.claude.requests[0]!.body.messages.at(-1).content as Json[]).filter((block) => block.type === 'document').length;
    console.log(`downloads ${downloads}, PDFs sent to Claude ${sent}, peak RSS growth ${(peak / 1e6).toFixed(0)} MB`);
    expect(downloads).toBeLessThanOrEqual(sent + 1);
  }, 150_000);

  test('a thread with 120 images: no more image blocks than the Messages API accepts in one request (100)', async () => {
    t = await startTestBot();
    const parent = t.slack.addUserMessage({ channel: CHANNEL, user: 'U0A', text: 'screenshots' });
    for (let i = 0; i < 120; i++) {
      const file = t.slack.addFile({ name: `s${i}.png`, mimetype: 'image/png', bytes: await png(8 + i, 8) });
      t.slack.addUserMessage({ channel: CHANNEL, threadTs: parent.ts, user: 'U0A', text: `shot ${i}`, files: [file as Json] });
    }
    const { ts } = t.slack.addUserMessage({ channel: CHANNEL, threadTs: parent.ts, user: 'U0ASKER', text: '<@UBOT> what changed?' });
    await t.mention({ text: '<@UBOT> what changed?', ts, thread_ts: parent.ts, user: 'U0ASKER', channel: CHANNEL });
    await t.idle(60_000);
    const images = (t.claude.requests[0]!.body.messages as Json[])
      .flatMap((message) => (Array.isArray(message.content) ? message.content : []))
      .filter((block: Json) => block.type === 'image').length;
    console.log(`image blocks in one request: ${images}`);
    expect(images).toBeLessThanOrEqual(100);
  }, 90_000);

  // The API counts PDF pages and images together: "Too much media: 0 document pages + 102 images > 100"
  // (https://github.com/anthropics/claude-code/issues/19822); the reader budgets pages (100) and never images.
  test('a 100-page PDF and one screenshot on a DM: PDF pages + images stay within the API media limit (100)', async () => {
    t = await startTestBot();
    const files = [
      t.slack.addFile({ name: 'spec.pdf', mimetype: 'application/pdf', bytes: await pdf(100) }),
      t.slack.addFile({ name: 'screen.png', mimetype: 'image/png', bytes: await png(20, 20) }),
    ];
    await t.dm({ subtype: 'file_share', text: 'does the screenshot match the spec?', files });
    await t.idle(30_000);
    const blocks = t.claude.requests[0]!.body.messages.at(-1).content as Json[];
    const images = blocks.filter((block) => block.type === 'image').length;
    const pages = blocks.filter((block) => block.type === 'document' && block.source.media_type === 'application/pdf').length * 100;
    console.log(`media in one request: ${pages} PDF pages + ${images} images`);
    expect(pages + images).toBeLessThanOrEqual(100);
  }, 60_000);
});
