import { toPlainText } from '../../src/slack/plainText.js';
import { RESPONSE_URL_METHOD } from '../fakes/fakeSlack.js';
import { firstReplyVersions, replyCalls, startTestBot, type TestBot } from '../harness.js';

const settle = () => new Promise((resolve) => setTimeout(resolve, 300));

/** What Claude got as the question: the last user turn of the last request. */
const question = (t: TestBot) => t.claude.requests.at(-1)?.body.messages.at(-1);

/** The final text of the bot's reply in `threadTs`, posted or streamed. */
function finalReply(t: TestBot, threadTs: string): string | undefined {
  return firstReplyVersions(t.slack, threadTs).at(-1);
}

const EXAMPLE = '<@U0OTHER> I think so. <@UBOT> summarise <#C0CHAN|general> and <https://ex.com/a_b|this doc>? cc <@UBOT>';

describe('Claude reads the question as the user reads it in Slack', () => {
  let t: TestBot;
  beforeEach(async () => {
    t = await startTestBot();
    t.slack.addUser({ id: 'U0OTHER', name: 'ada', real_name: 'Ada Lovelace', display_name: 'Ada L.' });
    t.slack.addUser({ id: 'U42', name: 'grace', real_name: 'Grace Hopper' });
    t.slack.addChannel({ id: 'C0CHAN', name: 'general' });
  });
  afterEach(() => t.stop());

  test("the issue's mention: names from users.info, the bot's mentions gone, the channel and the link readable", async () => {
    const event = await t.mention({ text: EXAMPLE });
    await t.idle();
    expect(question(t)).toEqual({ role: 'user', content: '@Ada L. I think so. summarise #general and this doc (https://ex.com/a_b)? cc' });
    expect(finalReply(t, event.ts)).toBe('Hello world');
    // The asker is looked up too, for the system prompt; the bot itself never is.
    expect(new Set(t.slack.callsOf('users.info').map((call) => call.params.user))).toEqual(new Set(['U0OTHER', event.user]));
  });

  test('entities are decoded once: Claude gets what the user typed', async () => {
    await t.mention({ text: '<@UBOT> is a &lt; b &amp;&amp; c? (literally &amp;lt;)' });
    await t.idle();
    expect(question(t)).toEqual({ role: 'user', content: 'is a < b && c? (literally &lt;)' });
  });

  test('a channel linked without a label is named from conversations.info, in a DM too', async () => {
    await t.dm({ text: 'what happened in <#C0CHAN>? ask <@U42>' });
    await t.idle();
    expect(question(t)).toEqual({ role: 'user', content: 'what happened in #general? ask @Grace Hopper' });
  });

  test('/ask a &lt; b: the echo shows a < b and Claude gets a < b', async () => {
    await t.command({ text: 'a &lt; b', user_id: 'U42' });
    await t.idle();
    const echo = t.slack.callsOf('chat.postMessage')[0]!;
    const posted = echo.params.text as string;
    expect(posted).toBe('<@U42> asked: a &lt; b');
    // As Slack displays the post: markup resolved, entities decoded once.
    expect(toPlainText(posted, { users: new Map([['U42', 'Grace Hopper']]), channels: new Map() })).toBe('@Grace Hopper asked: a < b');
    expect(question(t)).toEqual({ role: 'user', content: 'a < b' });
    expect(finalReply(t, echo.response.ts as string)).toBe('Hello world');
  });

  test('/ask with mentions echoes their names as text, so the echo pings no one', async () => {
    await t.command({ text: '<@UBOT> what did <@U0OTHER> mean by <!here>?', user_id: 'U42' });
    await t.idle();
    const posted = t.slack.callsOf('chat.postMessage')[0]!.params.text as string;
    expect(posted).toBe('<@U42> asked: what did @Ada L. mean by @here?');
    expect(question(t)).toEqual({ role: 'user', content: 'what did @Ada L. mean by @here?' });
  });

  test('/ask with only the bot mentioned gets the usage hint and no Claude call', async () => {
    await t.command({ text: '<@UBOT>' });
    await t.slack.waitFor(() => t.slack.callsOf(RESPONSE_URL_METHOD).length === 1);
    expect(t.slack.callsOf(RESPONSE_URL_METHOD)[0]!.params).toMatchObject({ response_type: 'ephemeral', text: expect.stringContaining('/ask') });
    await settle();
    expect(t.claude.requests).toHaveLength(0);
    expect(t.slack.callsOf('chat.postMessage')).toHaveLength(0);
  });

  test('users.info refused for a missing scope: the answer still comes, the user shown by id', async () => {
    t.slack.failNext('users.info', { error: 'missing_scope' });
    const event = await t.mention({ text: '<@UBOT> does <@U0OTHER> agree?' });
    await t.idle();
    expect(question(t)).toEqual({ role: 'user', content: 'does @U0OTHER agree?' });
    expect(finalReply(t, event.ts)).toBe('Hello world');
  });

  test('users.info rate limited: the answer still comes, the user shown by the label Slack sent', async () => {
    t.slack.failNext('users.info', { status: 429, retryAfter: 30 });
    const event = await t.mention({ text: '<@UBOT> does <@U0OTHER|ada> agree?' });
    await t.idle();
    expect(question(t)).toEqual({ role: 'user', content: 'does @ada agree?' });
    expect(finalReply(t, event.ts)).toBe('Hello world');
  });

  test('the placeholder does not wait for names: a slow users.info answers after it, and the question falls back to the id', async () => {
    t.slack.methodLatencyMs.set('users.info', 8_000);
    const event = await t.mention({ text: '<@UBOT> what does <@U0OTHER> think?' });
    await t.slack.waitFor(() => replyCalls(t.slack, event.ts).length > 0, 30_000);
    // The fake records a call when it answers: no name had come when the placeholder was posted.
    expect(t.slack.callsOf('users.info')).toHaveLength(0);
    await t.idle(30_000);
    expect(question(t)).toEqual({ role: 'user', content: 'what does @U0OTHER think?' });
    expect(finalReply(t, event.ts)).toBe('Hello world');
  }, 60_000);

  test('a message naming 500 people: 20 looked up, the rest by their id, no rate limit hit', async () => {
    // Slack's Tier 4 for users.info: 100+ a minute, in bursts.
    t.slack.rateLimit('users.info', { perMinute: 100, burst: 100 });
    const ids = Array.from({ length: 500 }, (_, i) => `U0P${String(i).padStart(5, '0')}`);
    for (const id of ids) t.slack.addUser({ id, name: id.toLowerCase(), display_name: `Person ${id}` });
    const event = await t.mention({ text: `<@UBOT> who is on call? ${ids.map((id) => `<@${id}>`).join(' ')}` });
    await t.idle(30_000);

    const looked = t.slack.callsOf('users.info').map((call) => call.params.user);
    expect(new Set(looked)).toEqual(new Set([...ids.slice(0, 20), event.user]));
    expect(t.slack.count429('users.info')).toBe(0);
    const content = question(t).content as string;
    expect(content).toBe(`who is on call? ${[...ids.slice(0, 20).map((id) => `@Person ${id}`), ...ids.slice(20).map((id) => `@${id}`)].join(' ')}`);
  }, 60_000);

  test('names are looked up once for a while: a second question reuses them', async () => {
    await t.mention({ text: '<@UBOT> ask <@U0OTHER> and <@U0OTHER> in <#C0CHAN>' });
    await t.idle();
    await t.dm({ text: 'and <@U0OTHER> in <#C0CHAN>?' });
    await t.idle();
    expect(question(t)).toEqual({ role: 'user', content: 'and @Ada L. in #general?' });
    expect(t.slack.callsOf('users.info').filter((call) => call.params.user === 'U0OTHER')).toHaveLength(1);
    expect(t.slack.callsOf('conversations.info').filter((call) => call.params.channel === 'C0CHAN')).toHaveLength(1);
  });
});

describe('files are part of the question', () => {
  let t: TestBot;
  beforeEach(async () => {
    t = await startTestBot();
  });
  afterEach(() => t.stop());

  test('a DM that is only a file is a question for Claude, not a usage hint', async () => {
    const event = await t.dm({ subtype: 'file_share', text: '', files: [{ id: 'F3', name: 'screenshot.png', mimetype: 'image/png' }] });
    await t.idle();
    expect(t.claude.requests).toHaveLength(1);
    expect([...t.slack.callsOf('chat.postMessage'), ...t.slack.callsOf('chat.startStream')]).toHaveLength(1);
    expect(firstReplyVersions(t.slack).some((text) => /mention me|\/ask/.test(text))).toBe(false);
    expect(finalReply(t, event.ts)).toMatch(/^Hello world/);
  });

  test('a mention that is only the bot and a file is a question too', async () => {
    await t.mention({ text: '<@UBOT>', files: [{ id: 'F4', name: 'a.pdf', mimetype: 'application/pdf' }] });
    await t.idle();
    expect(t.claude.requests).toHaveLength(1);
  });

  test('a mention with neither text nor files still gets the usage hint', async () => {
    const event = await t.mention({ text: '<@UBOT> <@UBOT>' });
    await t.slack.waitFor(() => t.slack.callsOf('chat.postMessage').length === 1);
    expect(t.slack.callsOf('chat.postMessage')[0]!.params).toMatchObject({ thread_ts: event.ts, text: expect.stringMatching(/mention me/) });
    await settle();
    expect(t.claude.requests).toHaveLength(0);
  });
});
