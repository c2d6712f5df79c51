import { performance } from 'node:perf_hooks';
import { startTestBot, type TestBot } from '../harness.js';

/**
 * Attack: a mention's text is turned into plain text (users.info for every mentioned person) in the listener
 * (src/slack/listeners/delivery.ts answerMessage → SlackDirectory.plainText) BEFORE the placeholder is posted.
 * Every distinct id is looked up at once (src/slack/directory.ts namesOf: Promise.all, no cap), on the `reads`
 * client (10 s timeout, one retry). A slow users.info, or a message naming hundreds of people, delays the
 * "Thinking…" placeholder and fires hundreds of calls at a Tier 4 method.
 */
describe('attack: name lookups before the placeholder', () => {
  let t: TestBot;
  afterEach(() => t.stop());

  /** Milliseconds from delivering `fn` until the bot posts its first message in the thread of `ts`. */
  async function placeholderDelay(deliver: () => Promise<{ ts: string }>): Promise<number> {
    const started = performance.now();
    const { ts } = await deliver();
    await t.slack.waitFor(() => t.slack.callsOf('chat.postMessage').some((call) => call.params.thread_ts === ts), 60_000);
    return performance.now() - started;
  }

  test('users.info taking 8 s does not delay the placeholder', async () => {
    t = await startTestBot();
    t.slack.addUser({ id: 'U0SLOW', name: 'slow', display_name: 'Slow' });
    t.slack.methodLatencyMs.set('users.info', 8000);
    const delay = await placeholderDelay(() => t.mention({ text: '<@UBOT> what does <@U0SLOW> think?' }));
    console.log(`placeholder after ${delay.toFixed(0)} ms`);
    await t.idle(30_000);
    expect(delay).toBeLessThan(2000);
  }, 60_000);

  test('a message mentioning 500 distinct people: bounded users.info calls and a prompt placeholder', async () => {
    t = await startTestBot();
    // Slack's published Tier 4: 100+ per minute; a burst of 100.
    t.slack.rateLimit('users.info', { perMinute: 100, burst: 100 });
    const ids = Array.from({ length: 500 }, (_, i) => `U0P${String(i).padStart(5, '0')}`);
    for (const id of ids) t.slack.addUser({ id, name: id.toLowerCase(), display_name: `Person ${id}` });
    const text = `<@UBOT> who here is on call? ${ids.map((id) => `<@${id}>`).join(' ')}`;
    expect(text.length).toBeLessThan(40_000);
    const delay = await placeholderDelay(() => t.mention({ text }));
    await t.idle(30_000);
    const calls = t.slack.callsOf('users.info').length;
    const limited = t.slack.count429('users.info');
    const question = t.claude.requests[0]!.body.messages.at(-1).content as string;
    const unnamed = ids.filter((id) => question.includes(`@${id}`)).length;
    console.log(`placeholder after ${delay.toFixed(0)} ms; users.info calls ${calls}, 429s ${limited}; ${unnamed} people left as raw ids`);
    expect(limited).toBe(0);
    expect(calls).toBeLessThanOrEqual(100);
  }, 90_000);
});
