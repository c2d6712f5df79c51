import { WebClient } from '@slack/web-api';
import { PDFDocument } from 'pdf-lib';
import { textCutMarker } from '../../src/slack/fileContent.js';
import { FileReader, type FileOutcome } from '../../src/slack/fileReader.js';
import type { SlackFile } from '../../src/slack/slackFile.js';
import { FakeSlack, FILE_DOWNLOAD_METHOD, type FakeFile } from '../fakes/fakeSlack.js';
import { ForeignHost } from '../fakes/httpUtil.js';
import { dimensionsOf, emptyZip, jpeg, pdf, png } from '../fixtures/files.js';

const TOKEN = 'xoxb-files-test-SECRET';
const MB = 1_000_000;

/** FileReader against the fake Slack over the wire: files.info, downloads with the token, what Claude gets. */
describe('FileReader', () => {
  let slack: FakeSlack;
  beforeEach(async () => {
    slack = await FakeSlack.start();
  });
  afterEach(() => slack.close());

  type Options = { maxBytes?: number; deadlineMs?: number };

  function reader(options: Options = {}): FileReader {
    const web = new WebClient(TOKEN, { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } });
    return new FileReader(web, { botToken: TOKEN, maxBytes: options.maxBytes ?? 20 * MB, slackApiUrl: slack.apiUrl, ...(options.deadlineMs ? { deadlineMs: options.deadlineMs } : {}) });
  }

  /** Reads `files` and returns their outcomes in the same order. */
  async function read(files: SlackFile[], options: Options = {}): Promise<FileOutcome[]> {
    const outcomes = await reader(options).read(files);
    return files.map((file) => outcomes.get(file.id)!);
  }

  const add = (file: Partial<FakeFile> & Pick<FakeFile, 'bytes'>) => slack.addFile({ name: 'file.bin', mimetype: 'application/octet-stream', ...file });

  test('a PNG, a PDF and a .log become an image, a PDF and a text attachment, downloaded with the bot token', async () => {
    const image = await png(40, 30);
    const doc = await pdf(3);
    const files = [
      add({ name: 'screen.png', mimetype: 'image/png', bytes: image }),
      add({ name: 'report.pdf', mimetype: 'application/pdf', bytes: doc }),
      add({ name: 'deploy.log', mimetype: 'text/plain', filetype: 'text', bytes: Buffer.from('12:00 deploy started\n12:01 ✓ done\n') }),
    ];
    const [a, b, c] = await read(files);
    expect(a).toEqual({ attachment: { type: 'image', name: 'screen.png', mediaType: 'image/png', data: image.toString('base64') } });
    expect(b).toEqual({ attachment: { type: 'pdf', name: 'report.pdf', data: doc.toString('base64') } });
    expect(c).toEqual({ attachment: { type: 'text', name: 'deploy.log', text: '12:00 deploy started\n12:01 ✓ done\n' } });
    const downloads = slack.callsOf(FILE_DOWNLOAD_METHOD);
    expect(downloads).toHaveLength(3);
    for (const download of downloads) expect(download.token).toBe(TOKEN);
  });

  test('the kind comes from the bytes: a PNG Slack calls a JPEG is sent as image/png', async () => {
    const [outcome] = await read([add({ name: 'photo.jpg', mimetype: 'image/jpeg', filetype: 'jpg', bytes: await png(10, 10) })]);
    expect(outcome).toMatchObject({ attachment: { type: 'image', mediaType: 'image/png' } });
  });

  test('a .zip, and binary bytes Slack calls text, get a note naming the file', async () => {
    const [zip, binary] = await read([
      add({ name: 'logs.zip', mimetype: 'application/zip', bytes: emptyZip() }),
      add({ name: 'dump.txt', mimetype: 'text/plain', bytes: Buffer.from([0x41, 0x00, 0xff, 0x42]) }),
    ]);
    expect(zip).toEqual({ note: expect.stringMatching(/couldn't read `logs\.zip`: .*not this kind of file/) });
    expect(binary).toEqual({ note: expect.stringMatching(/couldn't read `dump\.txt`/) });
  });

  test('a 30 MB file is not downloaded: the note names the 20 MB limit', async () => {
    const [outcome] = await read([add({ name: 'huge.log', mimetype: 'text/plain', bytes: Buffer.alloc(30 * MB, 'a') })]);
    expect(outcome).toEqual({ note: expect.stringMatching(/couldn't read `huge\.log`: .*20 MB limit/) });
    expect(slack.callsOf(FILE_DOWNLOAD_METHOD)).toHaveLength(0);
  });

  test('a download longer than FILE_MAX_BYTES is cut off even when Slack reported a small size', async () => {
    const [outcome] = await read([add({ name: 'growing.log', mimetype: 'text/plain', bytes: Buffer.alloc(5 * MB, 'a'), size: 10 })], { maxBytes: 2 * MB });
    expect(outcome).toEqual({ note: expect.stringMatching(/couldn't read `growing\.log`: .*2 MB limit/) });
  });

  test("Slack's sign-in page (text/html) instead of the file means no access", async () => {
    const [outcome] = await read([add({ name: 'secret.pdf', mimetype: 'application/pdf', bytes: await pdf(1), access: 'html' })]);
    expect(outcome).toEqual({ note: expect.stringMatching(/couldn't read `secret\.pdf`: I don't have access/) });
  });

  test('an HTML file the user attached is read as text', async () => {
    const [outcome] = await read([add({ name: 'page.html', mimetype: 'text/html', filetype: 'html', bytes: Buffer.from('<p>hi</p>') })]);
    expect(outcome).toEqual({ attachment: { type: 'text', name: 'page.html', text: '<p>hi</p>' } });
  });

  test('a Slack Connect stub is looked up with files.info, then downloaded', async () => {
    const stub = add({ name: 'shared.png', mimetype: 'image/png', bytes: await png(8, 8), access: 'check_file_info' });
    expect(stub).toEqual({ id: stub.id, file_access: 'check_file_info', mode: 'hosted' });
    const [outcome] = await read([stub]);
    expect(outcome).toMatchObject({ attachment: { type: 'image', name: 'shared.png' } });
    expect(slack.callsOf('files.info').map((call) => call.params.file)).toEqual([stub.id]);
    expect(slack.callsOf(FILE_DOWNLOAD_METHOD)).toHaveLength(1);
  });

  test('a reference kept in history (id and name only) is looked up; a deleted one gets a note', async () => {
    const kept = add({ name: 'notes.md', mimetype: 'text/markdown', bytes: Buffer.from('# Plan\n') });
    const [outcome, deleted] = await read([{ id: kept.id, name: 'notes.md' }, { id: 'F0DELETED', name: 'old.csv' }]);
    expect(outcome).toEqual({ attachment: { type: 'text', name: 'notes.md', text: '# Plan\n' } });
    expect(deleted).toEqual({ note: expect.stringMatching(/couldn't read `old\.csv`: it was deleted/) });
  });

  describe('the token never leaves Slack', () => {
    let foreign: ForeignHost;
    beforeEach(async () => {
      foreign = await ForeignHost.start();
    });
    afterEach(() => foreign.close());

    test('a file URL on another host is not fetched with the token', async () => {
      const listed = add({ name: 'a.txt', mimetype: 'text/plain', bytes: Buffer.from('a') });
      const [outcome] = await read([{ ...listed, url_private_download: foreign.url, url_private: foreign.url }]);
      expect(outcome).toEqual({ note: expect.stringMatching(/couldn't read `a\.txt`/) });
      expect(foreign.authorized).toEqual([]);
    });

    test('a redirect to another host is not followed with the token', async () => {
      const [outcome] = await read([add({ name: 'b.txt', mimetype: 'text/plain', bytes: Buffer.from('b'), redirectTo: foreign.url })]);
      expect(outcome).toEqual({ note: expect.stringMatching(/couldn't read `b\.txt`/) });
      expect(slack.callsOf(FILE_DOWNLOAD_METHOD)).toHaveLength(1);
      expect(foreign.authorized).toEqual([]);
    });
  });

  test('an image past 1568 px is downscaled to fit, keeping its aspect ratio', async () => {
    const [outcome] = await read([add({ name: 'wide.jpg', mimetype: 'image/jpeg', bytes: await jpeg(3136, 1000) })]);
    if (!outcome || !('attachment' in outcome) || outcome.attachment.type !== 'image') throw new Error(`not an image: ${JSON.stringify(outcome)}`);
    const { width, height, format } = await dimensionsOf(outcome.attachment.data);
    expect({ width, height }).toEqual({ width: 1568, height: 500 });
    expect(`image/${format}`).toBe(outcome.attachment.mediaType);
  });

  test('an image over 5 MB is made small enough for Claude', async () => {
    const noisy = await png(2000, 2000, { noise: true });
    expect(noisy.length).toBeGreaterThan(5 * 1024 * 1024);
    const [outcome] = await read([add({ name: 'noise.png', mimetype: 'image/png', bytes: noisy })]);
    if (!outcome || !('attachment' in outcome) || outcome.attachment.type !== 'image') throw new Error(`not an image: ${JSON.stringify(outcome)}`);
    expect(outcome.attachment.data.length).toBeLessThanOrEqual(5 * 1024 * 1024);
  });

  test('PDF pages are spent in order: past 100 pages a PDF gets a note, a later smaller one still fits', async () => {
    const [first, second, third] = await read([
      add({ name: 'a.pdf', mimetype: 'application/pdf', bytes: await pdf(60) }),
      add({ name: 'b.pdf', mimetype: 'application/pdf', bytes: await pdf(60) }),
      add({ name: 'c.pdf', mimetype: 'application/pdf', bytes: await pdf(40) }),
    ]);
    expect(first).toMatchObject({ attachment: { type: 'pdf', name: 'a.pdf' } });
    expect(second).toEqual({ note: expect.stringMatching(/couldn't read `b\.pdf`: .*100 images and PDF pages/) });
    expect(third).toMatchObject({ attachment: { type: 'pdf', name: 'c.pdf' } });
  });

  test('the request budget (32 MB) is spent in order: the file past it gets a note', async () => {
    // About 4.8 MB of base64 each: six fit in the request, the seventh does not.
    const noisy = await png(1100, 1100, { noise: true });
    const files = Array.from({ length: 7 }, (_, i) => add({ name: `shot${i + 1}.png`, mimetype: 'image/png', bytes: noisy }));
    const outcomes = await read(files);
    expect(outcomes.slice(0, 6).every((outcome) => 'attachment' in outcome)).toBe(true);
    expect(outcomes[6]).toEqual({ note: expect.stringMatching(/couldn't read `shot7\.png`: .*32 MB/) });
  });

  test('a long text file is cut to its start, with a note saying so', async () => {
    const [outcome] = await read([add({ name: 'big.csv', mimetype: 'text/csv', bytes: Buffer.from('x,y\n'.repeat(50_000)) })]);
    expect(outcome).toEqual({
      attachment: { type: 'text', name: 'big.csv', text: `${'x,y\n'.repeat(25_000)}\n${textCutMarker(200_000)}` },
      note: expect.stringMatching(/`big\.csv` is long: I read only its first 100,000 characters/),
    });
  });

  test('an aborted read gives notes, not a throw', async () => {
    const controller = new AbortController();
    controller.abort();
    const listed = add({ name: 'late.txt', mimetype: 'text/plain', bytes: Buffer.from('late') });
    const outcomes = await reader().read([listed], controller.signal);
    expect(outcomes.get(listed.id)).toEqual({ note: expect.stringMatching(/couldn't read `late\.txt`/) });
  });

  test('what may not fit the request is not downloaded: of three 10 MB PDFs only the first two are, a small log after them still is', async () => {
    const big = await bigPdf(10 * MB);
    const files = [0, 1, 2].map((i) => add({ name: `r${i}.pdf`, mimetype: 'application/pdf', bytes: big }));
    files.push(add({ name: 'small.log', mimetype: 'text/plain', bytes: Buffer.from('ok\n') }));
    const outcomes = await read(files);
    expect(outcomes.map((outcome) => ('attachment' in outcome ? outcome.attachment.name : outcome.note))).toEqual([
      'r0.pdf',
      'r1.pdf',
      expect.stringMatching(/couldn't read `r2\.pdf`: .*32 MB/),
      'small.log',
    ]);
    expect(slack.callsOf(FILE_DOWNLOAD_METHOD).map((call) => call.params.id)).toEqual([files[0]!.id, files[1]!.id, files[3]!.id]);
  });

  test('a stalled download gets the took-too-long note at the deadline; the files beside it are read', async () => {
    const [stalled, fine] = await read(
      [add({ name: 'slow.pdf', mimetype: 'application/pdf', bytes: await pdf(1), stall: true }), add({ name: 'fine.txt', mimetype: 'text/plain', bytes: Buffer.from('fine') })],
      { deadlineMs: 1500 },
    );
    expect(stalled).toEqual({ note: expect.stringMatching(/couldn't read `slow\.pdf`: it took too long/) });
    expect(fine).toEqual({ attachment: { type: 'text', name: 'fine.txt', text: 'fine' } });
  });

  test('at most 40 files are considered: the rest get a note and are not downloaded', async () => {
    const files = Array.from({ length: 42 }, (_, i) => add({ name: `n${i}.txt`, mimetype: 'text/plain', bytes: Buffer.from(`note ${i}`) }));
    const outcomes = await read(files);
    expect(outcomes.slice(0, 40).every((outcome) => 'attachment' in outcome)).toBe(true);
    expect(outcomes.slice(40)).toEqual([
      { note: expect.stringMatching(/couldn't read `n40\.txt`: I read at most 40 files/) },
      { note: expect.stringMatching(/couldn't read `n41\.txt`: I read at most 40 files/) },
    ]);
    expect(slack.callsOf(FILE_DOWNLOAD_METHOD)).toHaveLength(40);
  });
});

/** A valid one-page PDF of about `size` bytes (one large unreferenced stream). */
async function bigPdf(size: number): Promise<Buffer> {
  const doc = await PDFDocument.create();
  doc.addPage([200, 200]);
  doc.context.register(doc.context.stream(Buffer.alloc(size, 0x61)));
  return Buffer.from(await doc.save({ useObjectStreams: false }));
}
