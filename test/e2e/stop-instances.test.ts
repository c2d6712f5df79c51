import { blockActionsPayload, deliverInteraction } from '../fakes/slackRequests.js';
import { SIGNING_SECRET, startTestBot, versionsOf, type TestBot } from '../harness.js';
import { describeRedis, SHARED_REDIS_URL, testPrefix } from '../redis/helpers.js';

const words = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix}${i} `);

/** The Stop button's click, as Slack posts it, on the reply `messageTs` in `threadTs`. */
function stopClick(messageTs: string, threadTs: string, user: string) {
  const action = { type: 'button' as const, action_id: 'answer_stop', block_id: 'stop', value: 'stop', text: { type: 'plain_text' as const, text: 'Stop' } };
  return blockActionsPayload(action, { messageTs, threadTs, channel: 'C123', user, team: 'T0001' });
}

describeRedis('Stop across instances on Redis', () => {
  let bots: TestBot[] = [];
  afterEach(async () => {
    await Promise.all(bots.map((bot) => bot.stop()));
    bots = [];
  });

  test("a Stop delivered to the instance not running the answer still stops it; another user's reaches them as an ephemeral", async () => {
    const keyPrefix = testPrefix();
    const env = { HISTORY_STORE: 'redis', REDIS_URL: SHARED_REDIS_URL, SLACK_STREAMING: 'edits' };
    const a = await startTestBot(env, { keyPrefix });
    const b = await startTestBot(env, { keyPrefix, slack: a.slack, claude: a.claude });
    bots = [b, a];
    a.claude.enqueue({ chunks: words(400, 'w'), delayMs: 20 });
    // The answer runs on instance A.
    const event = await a.mention({ text: '<@UBOT> a long one', user: 'U123' });
    await a.slack.waitFor(() => a.slack.callsOf('chat.update').length >= 1);
    const replyTs = a.slack.callsOf('chat.postMessage')[0]!.response.ts as string;

    // Someone else clicks Stop on instance B: told whose answer it is, the answer goes on.
    expect((await deliverInteraction(b.url, SIGNING_SECRET, stopClick(replyTs, event.ts, 'U999'))).status).toBe(200);
    await a.slack.waitFor(() => a.slack.callsOf('chat.postEphemeral').some((call) => call.params.user === 'U999'));
    expect(a.slack.callsOf('chat.postEphemeral').find((call) => call.params.user === 'U999')!.params.text).toContain('<@U123>');

    // The asker clicks Stop on instance B: A cancels Claude's stream and ends the reply with the note.
    expect((await deliverInteraction(b.url, SIGNING_SECRET, stopClick(replyTs, event.ts, 'U123'))).status).toBe(200);
    await a.idle();
    const final = versionsOf(a.slack, replyTs).at(-1)!;
    expect(final).toMatch(/Stopped/);
    expect(final).not.toContain('w399');
    expect(a.logs.some((line) => line.includes('"outcome":"stopped"'))).toBe(true);
  }, 30_000);
});
