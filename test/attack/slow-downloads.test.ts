import { performance } from 'node:perf_hooks';
import { startTestBot, type TestBot } from '../harness.js';

const CHANNEL = 'C123';

/**
 * Attack/unlucky: a slow thread read keeps the placeholder from showing. (The stalled file download is fixed:
 * test/e2e/files-limits.test.ts.)
 */
describe('attack: a slow thread read', () => {
  let t: TestBot;
  afterEach(() => t.stop());

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
