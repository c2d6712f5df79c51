// Found by attacking the native transport: a streaming call Slack applies but answers too late (the bot's 10 s client timeout).
import type { StoredMessage } from '../fakes/fakeSlack.js';
import { startTestBot, type TestBot } from '../harness.js';

const CHANNEL = 'C123';

function replies(t: TestBot, threadTs: string): StoredMessage[] {
  return t.slack.threadMessages(CHANNEL, threadTs).filter((message) => !message.deleted);
}

const words = (n: number) => Array.from({ length: n }, (_, i) => `${i === 0 ? '' : ' '}w${i}`);

describe('slow Slack on the streaming methods', () => {
  let t: TestBot;
  afterEach(() => t.stop());

  test('chat.appendStream applied by Slack but answered after the client timeout: no word is shown twice', async () => {
    t = await startTestBot({ SLACK_STREAMING: 'native' });
    const chunks = words(80);
    t.claude.enqueue({ chunks, delayMs: 200 });
    const event = await t.mention();
    await t.slack.waitFor(() => t.slack.callsOf('chat.appendStream').length >= 1, 10_000);
    // The next append takes 10.5 s to answer (Slack applies it, the bot gives up at 10 s); later ones are fast.
    t.slack.methodLatencyMs.set('chat.appendStream', 10_500);
    await new Promise((resolve) => setTimeout(resolve, 500));
    t.slack.methodLatencyMs.delete('chat.appendStream');
    await t.idle(40_000);
    const [reply, ...more] = replies(t, event.ts);
    expect(more).toEqual([]);
    expect(reply!.text).toBe(chunks.join(''));
  }, 60_000);

});
