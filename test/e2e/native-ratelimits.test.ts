// Found by attacking the native transport: 429 storms on the streaming and session methods.
import type { StoredMessage } from '../fakes/fakeSlack.js';
import { startTestBot, type TestBot } from '../harness.js';

const CHANNEL = 'C123';

function replies(t: TestBot, threadTs: string): StoredMessage[] {
  return t.slack.threadMessages(CHANNEL, threadTs).filter((message) => !message.deleted);
}

const words = (n: number) => Array.from({ length: n }, (_, i) => `${i === 0 ? '' : ' '}w${i}`);

describe('429 storms on the streaming methods', () => {
  let t: TestBot;
  afterEach(() => t.stop());

  test('every chat.appendStream answers 429 (Retry-After 1): the answer still completes, the stream is stopped, session active', async () => {
    t = await startTestBot({ SLACK_STREAMING: 'native' });
    t.slack.failNext('chat.appendStream', { status: 429, retryAfter: 1 }, 50);
    const chunks = words(40);
    t.claude.enqueue({ chunks, delayMs: 50 });
    const event = await t.mention();
    await t.idle(30_000);
    const [reply, ...more] = replies(t, event.ts);
    expect(more).toEqual([]);
    expect(reply!.text).toBe(chunks.join(''));
    expect(reply!.stream?.state).toBe('completed');
    await t.slack.waitFor(() => t.slack.agentSession(CHANNEL, event.ts)?.status === 'active');
  }, 40_000);

  test('agents.sessions.setStatus answers 429 twice for `active` (edits path): the session must not stay processing', async () => {
    t = await startTestBot({ SLACK_STREAMING: 'edits' });
    const chunks = words(20);
    t.claude.enqueue({ chunks, delayMs: 50 });
    const event = await t.mention();
    await t.slack.waitFor(() => t.slack.agentSession(CHANNEL, event.ts)?.status === 'processing');
    t.slack.failNext('agents.sessions.setStatus', { status: 429, retryAfter: 1 }, 2);
    await t.idle();
    await t.slack.waitFor(() => t.slack.agentSession(CHANNEL, event.ts)?.status === 'active', 15_000);
  }, 30_000);
});
