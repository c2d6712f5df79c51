import { FILE_DOWNLOAD_METHOD } from '../fakes/fakeSlack.js';
import { ForeignHost, type Json } from '../fakes/httpUtil.js';
import { emptyZip, pdf, png } from '../fixtures/files.js';
import { BOT_TOKEN, startTestBot, versionsOf, type TestBot } from '../harness.js';

/** Issue #11 §3: files attached to a question reach Claude, through the real bot, Slack and Anthropic fakes. */
describe('attached files reach Claude', () => {
  let t: TestBot;
  beforeEach(async () => {
    t = await startTestBot();
  });
  afterEach(() => t.stop());

  /** The final text of the bot's reply in the thread of `ts`. */
  function finalReply(ts: string): string {
    const reply = t.slack.callsOf('chat.postMessage').find((call) => call.params.thread_ts === ts);
    if (!reply) throw new Error('no reply posted');
    return versionsOf(t.slack, reply.response.ts as string).at(-1) ?? '';
  }

  /** The content blocks of the last user turn of Claude's `n`th request. */
  function lastUserBlocks(n = 0): Json[] {
    const content = t.claude.requests[n]!.body.messages.at(-1).content;
    return Array.isArray(content) ? content : [{ type: 'text', text: content }];
  }

  test('a PNG, a PDF and a .log attached to a DM: one Claude request with an image, a PDF document and a text document', async () => {
    const image = await png(30, 20);
    const doc = await pdf(2);
    const files = [
      t.slack.addFile({ name: 'screen.png', mimetype: 'image/png', bytes: image }),
      t.slack.addFile({ name: 'spec.pdf', mimetype: 'application/pdf', bytes: doc }),
      t.slack.addFile({ name: 'app.log', mimetype: 'text/plain', filetype: 'text', bytes: Buffer.from('ERROR disk full\n') }),
    ];
    const event = await t.dm({ subtype: 'file_share', text: 'what went wrong?', files });
    await t.idle();
    expect(t.claude.requests).toHaveLength(1);
    expect(lastUserBlocks()).toEqual([
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: image.toString('base64') } },
      { type: 'document', title: 'spec.pdf', source: { type: 'base64', media_type: 'application/pdf', data: doc.toString('base64') } },
      { type: 'document', title: 'app.log', source: { type: 'text', media_type: 'text/plain', data: 'ERROR disk full\n' } },
      { type: 'text', text: 'what went wrong?' },
    ]);
    expect(finalReply(event.ts)).toBe('Hello world');
    for (const download of t.slack.callsOf(FILE_DOWNLOAD_METHOD)) expect(download.token).toBe(BOT_TOKEN);
  });

  test('a DM that is only a file is a question: Claude gets the file', async () => {
    const files = [t.slack.addFile({ name: 'chart.png', mimetype: 'image/png', bytes: await png(10, 10) })];
    await t.dm({ subtype: 'file_share', text: '', files });
    await t.idle();
    expect(t.claude.requests).toHaveLength(1);
    expect(lastUserBlocks().map((block) => block.type)).toEqual(['image', 'text']);
  });

  test('a .zip gets a note naming it; the answer still comes', async () => {
    const files = [t.slack.addFile({ name: 'logs.zip', mimetype: 'application/zip', bytes: emptyZip() })];
    const event = await t.dm({ subtype: 'file_share', text: 'look at this', files });
    await t.idle();
    expect(lastUserBlocks()).toEqual([{ type: 'text', text: 'look at this' }]);
    expect(finalReply(event.ts)).toMatch(/^Hello world\n\n.*couldn't read `logs\.zip`/);
  });

  test('a 30 MB file gets the size note naming the 20 MB limit, and is not downloaded', async () => {
    const files = [t.slack.addFile({ name: 'huge.bin', mimetype: 'application/octet-stream', bytes: Buffer.alloc(30_000_000) })];
    const event = await t.mention({ text: '<@UBOT> summarise this', files });
    await t.idle();
    expect(finalReply(event.ts)).toMatch(/couldn't read `huge\.bin`: it is larger than the 20 MB limit/);
    expect(t.slack.callsOf(FILE_DOWNLOAD_METHOD)).toHaveLength(0);
  });

  test("a file Slack answers with its sign-in page (text/html) gets the no-access note", async () => {
    const files = [t.slack.addFile({ name: 'private.pdf', mimetype: 'application/pdf', bytes: await pdf(1), access: 'html' })];
    const event = await t.dm({ subtype: 'file_share', text: 'read it', files });
    await t.idle();
    expect(finalReply(event.ts)).toMatch(/couldn't read `private\.pdf`: I don't have access to it/);
  });

  test('a Slack Connect stub is looked up with files.info, then downloaded and sent', async () => {
    const files = [t.slack.addFile({ name: 'shared.log', mimetype: 'text/plain', bytes: Buffer.from('shared line\n'), access: 'check_file_info' })];
    await t.dm({ subtype: 'file_share', text: 'and this?', files });
    await t.idle();
    expect(t.slack.callsOf('files.info')).toHaveLength(1);
    expect(lastUserBlocks()[0]).toEqual({ type: 'document', title: 'shared.log', source: { type: 'text', media_type: 'text/plain', data: 'shared line\n' } });
  });

  test('a follow-up in the same thread can still refer to a file attached earlier (re-read from Slack by id)', async () => {
    const image = await png(12, 12);
    const files = [t.slack.addFile({ name: 'diagram.png', mimetype: 'image/png', bytes: image })];
    const first = await t.dm({ subtype: 'file_share', text: 'what is this?', files });
    await t.idle();
    await t.dm({ text: 'and what colour is it?', thread_ts: first.ts });
    await t.idle();
    expect(t.claude.requests).toHaveLength(2);
    const sent = JSON.stringify(t.claude.requests[1]!.body.messages);
    expect(sent).toContain(image.toString('base64'));
    expect(t.slack.callsOf(FILE_DOWNLOAD_METHOD)).toHaveLength(2);
  });

  describe('the bot token never goes to another host', () => {
    let foreign: ForeignHost;
    beforeEach(async () => {
      foreign = await ForeignHost.start();
    });
    afterEach(() => foreign.close());

    test('neither a foreign file URL nor a redirect to one carries it; the answer notes the files', async () => {
      const listed = t.slack.addFile({ name: 'a.txt', mimetype: 'text/plain', bytes: Buffer.from('a') });
      const redirected = t.slack.addFile({ name: 'b.txt', mimetype: 'text/plain', bytes: Buffer.from('b'), redirectTo: foreign.url });
      const files = [{ ...listed, url_private: foreign.url, url_private_download: foreign.url }, redirected];
      const event = await t.dm({ subtype: 'file_share', text: 'both?', files });
      await t.idle();
      expect(foreign.authorized).toEqual([]);
      expect(JSON.stringify(t.claude.requests[0]!.body)).not.toContain('elsewhere');
      expect(finalReply(event.ts)).toMatch(/couldn't read `a\.txt`[\s\S]*couldn't read `b\.txt`/);
    });
  });
});
