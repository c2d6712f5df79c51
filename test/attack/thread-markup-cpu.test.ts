import { performance } from 'node:perf_hooks';
import { startTestBot, type TestBot } from '../harness.js';

const CHANNEL = 'C123';

/**
 * Attack: removing the bot's own mentions is quadratic in their number (src/slack/plainText.ts joinPieces:
 * `gap = [...gap, '']` copies the whole run per mention): a 40,000-character message (Slack's limit) of
 * `<@UBOT>` costs ~75 ms of main-thread CPU, and 400,000 characters ~minutes. The thread reader converts EVERY
 * message of the thread (up to 10,000) before THREAD_CONTEXT_MAX_CHARS picks the newest few, and its 10 s
 * deadline (threadReader.ts read) only stops waiting: the conversions keep running after it.
 */
describe('attack: thread markup costs main-thread CPU', () => {
  let t: TestBot;
  afterEach(() => t.stop());

  test('a thread of 150 messages, each 40,000 characters of bot mentions: the main thread stays responsive', async () => {
    t = await startTestBot();
    const parent = t.slack.addUserMessage({ channel: CHANNEL, user: 'U0A', text: 'spam' });
    const spam = '<@UBOT>'.repeat(Math.floor(40_000 / 7)) + ' x';
    for (let i = 0; i < 150; i++) t.slack.addUserMessage({ channel: CHANNEL, threadTs: parent.ts, user: 'U0A', text: spam });
    const { ts } = t.slack.addUserMessage({ channel: CHANNEL, threadTs: parent.ts, user: 'U0ASKER', text: '<@UBOT> hi' });

    // Main-thread busy time: how late a 10 ms timer fires, summed.
    let late = 0;
    let maxGap = 0;
    let last = performance.now();
    const ticker = setInterval(() => {
      const now = performance.now();
      late += Math.max(0, now - last - 10);
      maxGap = Math.max(maxGap, now - last);
      last = now;
    }, 10);
    const started = performance.now();
    await t.mention({ text: '<@UBOT> hi', ts, thread_ts: parent.ts, user: 'U0ASKER', channel: CHANNEL });
    await t.idle(120_000);
    clearInterval(ticker);
    console.log(`answer took ${(performance.now() - started).toFixed(0)} ms; main thread blocked ${late.toFixed(0)} ms in total, longest ${maxGap.toFixed(0)} ms`);
    expect(late).toBeLessThan(2000);
  }, 180_000);
});
