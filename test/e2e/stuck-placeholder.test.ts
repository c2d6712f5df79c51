import { copy } from '../../src/copy.js';
import { toMrkdwn } from '../../src/slack/render.js';
import { startTestBot, versionsOf, type TestBot } from '../harness.js';

describe('stuck answers: a refused placeholder never drops the question silently', () => {
  let t: TestBot;
  afterEach(() => t.stop());

  test('a placeholder refused with transient platform errors and a 429 without Retry-After is posted on a later try and answered', async () => {
    t = await startTestBot();
    t.claude.enqueue({ chunks: ['Answered', ' anyway'] });
    t.slack.failNext('chat.postMessage', { error: 'internal_error' });
    t.slack.failNext('chat.postMessage', { status: 429, noRetryAfter: true });
    t.slack.failNext('chat.postMessage', { error: 'service_unavailable' });
    const event = await t.mention({ text: '<@UBOT> hello?' });
    await t.idle(30_000);
    const posted = t.slack.callsOf('chat.postMessage').filter((call) => call.response.ok);
    expect(posted).toHaveLength(1);
    expect(posted[0]!.params.thread_ts).toBe(event.ts);
    expect(versionsOf(t.slack, posted[0]!.response.ts as string).at(-1)).toBe('Answered anyway');
  }, 40_000);

  test('a placeholder Slack keeps refusing (fatal_error) ends with an ephemeral to the asker, not silence', async () => {
    t = await startTestBot();
    t.slack.failNext('chat.postMessage', { error: 'fatal_error' }, 20);
    const event = await t.mention({ user: 'U777', text: '<@UBOT> hello?' });
    await t.idle(60_000);
    await t.slack.waitFor(() => t.slack.callsOf('chat.postEphemeral').length > 0, 40_000);
    const [ephemeral] = t.slack.callsOf('chat.postEphemeral');
    expect(ephemeral!.params).toMatchObject({ channel: 'C123', user: 'U777', thread_ts: event.ts, text: toMrkdwn(copy.notPosted) });
    expect(t.slack.callsOf('chat.postMessage').filter((call) => call.response.ok)).toHaveLength(0);
  }, 80_000);
});
