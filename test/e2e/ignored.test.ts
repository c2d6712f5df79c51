import { deliverEvent } from '../fakes/slackRequests.js';
import { SIGNING_SECRET, startTestBot, type TestBot } from '../harness.js';

describe('what the bot does not answer', () => {
  let t: TestBot;
  beforeEach(async () => {
    t = await startTestBot();
  });
  afterEach(() => t.stop());

  const settle = () => new Promise((resolve) => setTimeout(resolve, 300));

  test('bot messages, message subtypes and its own messages get no answer', async () => {
    await t.dm({ text: 'from another bot', bot_id: 'BOTHER', user: 'UOTHER' });
    await t.dm({ text: 'edited', subtype: 'message_changed' });
    await t.dm({ text: 'joined', subtype: 'channel_join' });
    await t.dm({ text: 'my own answer', user: 'UBOT' });
    await settle();
    expect(t.claude.requests).toHaveLength(0);
    expect(t.slack.callsOf('chat.postMessage')).toHaveLength(0);
    // The same pipeline answers a plain DM, so the silence above is not an accident of wiring.
    await t.dm({ text: 'a real question' });
    await t.idle();
    expect(t.claude.requests).toHaveLength(1);
  });

  test('an event redelivered with X-Slack-Retry-Num is answered once', async () => {
    t.claude.defaultScript = { chunks: ['Only ', 'once.'], delayMs: 100 };
    const event = await t.mention({ text: '<@UBOT> hi' }, { eventId: 'Ev0RETRY' });
    const retry = await deliverEvent(t.url, SIGNING_SECRET, event, { eventId: 'Ev0RETRY', retryNum: 1 });
    expect(retry.status).toBe(200);
    await t.idle();
    await settle();
    expect(t.claude.requests).toHaveLength(1);
    expect(t.slack.callsOf('chat.postMessage')).toHaveLength(1);
  });

  test('an empty mention gets the usage hint in the thread and no Claude call', async () => {
    const event = await t.mention({ text: '<@UBOT>   ' });
    await t.slack.waitFor(() => t.slack.callsOf('chat.postMessage').length === 1);
    const hint = t.slack.callsOf('chat.postMessage')[0]!.params;
    expect(hint).toMatchObject({ channel: 'C123', thread_ts: event.ts });
    expect(hint.text).toMatch(/mention me|\/ask/);
    await settle();
    expect(t.claude.requests).toHaveLength(0);
  });
});
