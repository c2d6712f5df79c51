import { startTestBot, type TestBot } from '../harness.js';

const CHANNEL = 'C123';

/** Time to first visible progress does not wait for the thread context (issue #11 §2, found by an attack), nor Claude's request for names (issue #14 §1). */
describe('a slow thread read', () => {
  let t: TestBot;
  afterEach(() => t.stop());

  test('conversations.replies taking 10 s: the placeholder is posted before Slack answers it, and the answer still comes', async () => {
    t = await startTestBot();
    t.slack.methodLatencyMs.set('conversations.replies', 10_000);
    const parent = t.slack.addUserMessage({ channel: CHANNEL, user: 'U0A', text: 'hi' });
    const { ts } = t.slack.addUserMessage({ channel: CHANNEL, threadTs: parent.ts, user: 'U0ASKER', text: '<@UBOT> hello' });
    await t.mention({ text: '<@UBOT> hello', ts, thread_ts: parent.ts, user: 'U0ASKER', channel: CHANNEL });
    await t.slack.waitFor(() => t.slack.callsOf('chat.postMessage').some((call) => call.params.thread_ts === parent.ts), 20_000);
    // The fake records a call once it has answered it: none yet means the placeholder did not wait for it.
    expect(t.slack.callsOf('conversations.replies')).toHaveLength(0);
    await t.idle(30_000);
    expect(t.claude.requests).toHaveLength(1);
  }, 60_000);
});

describe('slow name lookups', () => {
  let t: TestBot;
  afterEach(() => t.stop());

  test('users.info and conversations.info taking 30 s: Claude is asked without the asker and the channel names before Slack answers them', async () => {
    t = await startTestBot();
    t.slack.addUser({ id: 'U0ASKER', name: 'ada', display_name: 'Ada Asker' });
    t.slack.addChannel({ id: CHANNEL, name: 'deploys' });
    for (const method of ['users.info', 'conversations.info']) t.slack.methodLatencyMs.set(method, 30_000);
    await t.mention({ text: '<@UBOT> hello', user: 'U0ASKER', channel: CHANNEL });
    await t.claude.waitForRequests(1, 20_000);
    // The fake records a call once it has answered it: none yet means the request did not wait for them.
    expect([...t.slack.callsOf('users.info'), ...t.slack.callsOf('conversations.info')]).toHaveLength(0);
    const system = t.claude.requests[0]!.body.system as string;
    expect(system).toContain('You are in Slack, in a conversation.');
    expect(system).not.toContain('Ada Asker');
    await t.idle(30_000);
  }, 60_000);
});
