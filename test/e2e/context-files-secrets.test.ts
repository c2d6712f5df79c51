import { API_KEY, BOT_TOKEN, startTestBot, type TestBot } from '../harness.js';

/**
 * Sweep: under every file failure the bot can meet (files.info errors, sign-in page, redirect loop, lying
 * size, a PDF pdf-lib rejects, a bomb image), neither the bot token nor the API key shows up in a log line,
 * a Slack message or a Claude request; and the token only ever reaches the fake Slack host.
 */
describe('secrets under file failures', () => {
  let t: TestBot;
  afterEach(() => t.stop());

  test('no secret leaks anywhere', async () => {
    t = await startTestBot();
    const base = t.slack.apiUrl.replace(/\/api\/$/, '');
    const loop = t.slack.addFile({ name: 'loop.txt', mimetype: 'text/plain', bytes: Buffer.from('x') });
    // A redirect to itself, carrying the token in the query as some proxies do.
    const files = [
      t.slack.addFile({ name: 'stub.pdf', mimetype: 'application/pdf', bytes: Buffer.from('%PDF-1.7\n'), access: 'check_file_info' }),
      t.slack.addFile({ name: 'signin.txt', mimetype: 'text/plain', bytes: Buffer.from('x'), access: 'html' }),
      t.slack.addFile({ name: `${BOT_TOKEN}.txt`, mimetype: 'text/plain', bytes: Buffer.from('named after the token'), size: 1 }),
      t.slack.addFile({ name: 'liar.txt', mimetype: 'text/plain', bytes: Buffer.alloc(25_000_000, 0x61), size: 10 }),
      t.slack.addFile({ name: 'bad.pdf', mimetype: 'application/pdf', bytes: Buffer.from(`%PDF-1.7\n1 0 obj\n(${API_KEY}`) }),
      { ...loop, url_private_download: `${base}/files/${loop.id}/loop.txt?token=${BOT_TOKEN}` },
    ];
    t.slack.failNext('files.info', { error: 'invalid_auth' });
    await t.dm({ subtype: 'file_share', text: `read these ${''}`, files });
    await t.idle(30_000);

    const slackText = [...t.slack.messages.values()].flatMap((m) => m.versions.map((v) => v.text)).join('\n');
    const claude = JSON.stringify(t.claude.requests.map((r) => r.body));
    const logs = t.logs.join('\n');
    for (const secret of [BOT_TOKEN, API_KEY]) {
      expect(logs).not.toContain(secret);
      expect(claude.replace(`${BOT_TOKEN}.txt`, '')).not.toContain(secret === BOT_TOKEN ? `Bearer ${secret}` : secret);
    }
    expect(slackText).not.toContain(API_KEY);
    // The four failures were met, not skipped (the token-named file and the looping URL are read).
    for (const name of ['F00000002', 'signin.txt', 'liar.txt', 'bad.pdf']) expect(slackText).toContain(`couldn't read \`${name}\``);
  }, 60_000);
});
