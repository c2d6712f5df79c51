import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Json } from '../fakes/httpUtil.js';
import { startTestBot, type TestBot } from '../harness.js';

const CHANNEL = 'C123';

/** Makes the fake's file host answer 200 with a few bytes, then never finish (a stalled or slowloris download). */
function stallDownloads(t: TestBot, open: ServerResponse[]): void {
  (t.slack as unknown as { serveFile: (req: IncomingMessage, res: ServerResponse) => Promise<void> }).serveFile = async (_req, res) => {
    open.push(res);
    res.writeHead(200, { 'content-type': 'application/pdf' });
    res.write('%PDF-1.7\n');
    // …and a byte every 5 s, forever.
    const drip = setInterval(() => (res.writableEnded ? clearInterval(drip) : res.write(' ')), 5000);
    res.on('close', () => clearInterval(drip));
  };
}

/**
 * Attack/unlucky: each download may take 60 s (src/slack/fileReader.ts timeoutMs ?? 60_000, no total
 * deadline), three at a time, and the request waits for all of them (FileReader.read Promise.all). Files in
 * thread context are downloaded too, so a thread with stalled files holds the answer on "Thinking…" for
 * ceil(files / 3) minutes, while the per-user and total answer slots stay taken.
 */
describe('attack: stalled file downloads', () => {
  let t: TestBot;
  const open: ServerResponse[] = [];
  afterEach(async () => {
    for (const res of open.splice(0)) res.destroy();
    await t.stop();
  });

  test('one stalled download in a thread message does not hold the answer for a minute', async () => {
    t = await startTestBot();
    stallDownloads(t, open);
    const parent = t.slack.addUserMessage({ channel: CHANNEL, user: 'U0A', text: 'logs' });
    const file = t.slack.addFile({ name: 'old.pdf', mimetype: 'application/pdf', bytes: Buffer.from('%PDF-1.7\n') });
    t.slack.addUserMessage({ channel: CHANNEL, threadTs: parent.ts, user: 'U0A', text: 'old report', files: [file as Json] });
    const { ts } = t.slack.addUserMessage({ channel: CHANNEL, threadTs: parent.ts, user: 'U0ASKER', text: '<@UBOT> what is 2+2?' });
    const started = performance.now();
    await t.mention({ text: '<@UBOT> what is 2+2?', ts, thread_ts: parent.ts, user: 'U0ASKER', channel: CHANNEL });
    const asked = await t.slack
      .waitFor(() => t.claude.requests.length > 0, 20_000)
      .then(() => true, () => false);
    console.log(`Claude asked: ${asked} after ${(performance.now() - started).toFixed(0)} ms`);
    expect(asked).toBe(true);
  }, 120_000);

  test('conversations.replies taking 10 s: the placeholder still shows at once', async () => {
    t = await startTestBot();
    t.slack.methodLatencyMs.set('conversations.replies', 10_000);
    const parent = t.slack.addUserMessage({ channel: CHANNEL, user: 'U0A', text: 'hi' });
    const { ts } = t.slack.addUserMessage({ channel: CHANNEL, threadTs: parent.ts, user: 'U0ASKER', text: '<@UBOT> hello' });
    const started = performance.now();
    await t.mention({ text: '<@UBOT> hello', ts, thread_ts: parent.ts, user: 'U0ASKER', channel: CHANNEL });
    await t.slack.waitFor(() => t.slack.callsOf('chat.postMessage').some((call) => call.params.thread_ts === parent.ts), 20_000);
    const placeholder = performance.now() - started;
    await t.idle(30_000);
    console.log(`placeholder after ${placeholder.toFixed(0)} ms; answer finished after ${(performance.now() - started).toFixed(0)} ms`);
    expect(placeholder).toBeLessThan(2000);
  }, 60_000);
});
