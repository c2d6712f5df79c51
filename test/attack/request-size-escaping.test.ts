import { PDFDocument } from 'pdf-lib';
import type { Json } from '../fakes/httpUtil.js';
import { startTestBot, versionsOf, type TestBot } from '../harness.js';

const CHANNEL = 'C123';

/**
 * Unlucky: a text attachment is counted against the 31 MB attachment budget by its UTF-8 bytes
 * (src/slack/fileContent.ts textContent: requestBytes = Buffer.byteLength(text)), but it travels as a JSON
 * string, where every control character becomes a 6-byte `\u00XX` escape (terminal logs are full of ESC
 * colour codes) and `"`/`\` double. A big PDF plus a thread of coloured CI logs passes the budget and the
 * request is over Claude's 32 MB limit: a 413 and no answer.
 */
describe('attack: request size vs JSON escaping', () => {
  let t: TestBot;
  afterEach(() => t.stop());

  test('a 19 MB PDF question in a thread of 55 ANSI-coloured logs stays under the 32 MB request limit', async () => {
    t = await startTestBot();
    const parent = t.slack.addUserMessage({ channel: CHANNEL, user: 'U0CI', text: 'CI runs' });
    // ESC[31m…ESC[0m colour codes: 100,000 characters, about half of them ESC.
    const log = Buffer.from('\x1b[31mE\x1b[0m\n'.repeat(Math.ceil(100_000 / 12)).slice(0, 100_000));
    for (let i = 0; i < 55; i++) {
      const file = t.slack.addFile({ name: `ci-${i}.log`, mimetype: 'text/plain', filetype: 'text', bytes: log });
      t.slack.addUserMessage({ channel: CHANNEL, threadTs: parent.ts, user: 'U0CI', text: `run ${i}`, files: [file as Json] });
    }
    const doc = await PDFDocument.create();
    doc.addPage([200, 200]);
    doc.context.register(doc.context.stream(Buffer.alloc(19_000_000, 0x61)));
    const pdf = t.slack.addFile({ name: 'spec.pdf', mimetype: 'application/pdf', bytes: Buffer.from(await doc.save({ useObjectStreams: false })) });
    const { ts } = t.slack.addUserMessage({ channel: CHANNEL, threadTs: parent.ts, user: 'U0ASKER', text: '<@UBOT> why do the runs fail?', files: [pdf as Json] });
    await t.mention({ text: '<@UBOT> why do the runs fail?', ts, thread_ts: parent.ts, user: 'U0ASKER', channel: CHANNEL, files: [pdf] } as never);
    await t.idle(60_000);

    const bytes = Buffer.byteLength(JSON.stringify(t.claude.requests[0]!.body));
    const reply = t.slack.callsOf('chat.postMessage').find((call) => call.params.thread_ts === parent.ts);
    const final = versionsOf(t.slack, reply!.response.ts as string).at(-1);
    console.log(`request body ${(bytes / 1e6).toFixed(1)} MB; final: ${final?.slice(0, 120)}`);
    expect(bytes).toBeLessThanOrEqual(32 * 1024 * 1024);
  }, 90_000);
});
