import { FakeSlack } from '../fakes/fakeSlack.js';
import { commandRequest, deliverEvent, dmEvent, freshTs, mentionEvent, postSigned } from '../fakes/slackRequests.js';
import { SIGNING_SECRET, startTestBot, versionsOf, type TestBot } from '../harness.js';

const settle = () => new Promise((resolve) => setTimeout(resolve, 300));

/** The final text of the bot's reply in `threadTs` (the first message the bot posted there). */
function finalReply(t: TestBot, threadTs: string): string | undefined {
  const post = t.slack.callsOf('chat.postMessage').find((call) => call.params.thread_ts === threadTs);
  return post && versionsOf(t.slack, post.response.ts as string).at(-1);
}

const lastUserTurn = (t: TestBot) => t.claude.requests.at(-1)?.body.messages.at(-1);

describe('a message or command delivered more than once is answered once', () => {
  let t: TestBot;
  beforeEach(async () => {
    t = await startTestBot();
  });
  afterEach(() => t.stop());

  test('the same app_mention under two event ids, without a retry header, gets one answer', async () => {
    const event = await t.mention({ text: '<@UBOT> once please' });
    await t.mention(event);
    await t.idle();
    await settle();
    expect(t.claude.requests).toHaveLength(1);
    expect(t.slack.callsOf('chat.postMessage')).toHaveLength(1);
  });

  test('a DM that also arrives as an app_mention (same channel and ts) gets one answer', async () => {
    const ts = freshTs();
    await t.dm({ channel: 'D555', ts, text: '<@UBOT> hi from a DM' });
    await t.mention({ channel: 'D555', ts, text: '<@UBOT> hi from a DM' });
    await t.idle();
    await settle();
    expect(t.claude.requests).toHaveLength(1);
    expect(t.slack.callsOf('chat.postMessage')).toHaveLength(1);
  });

  test('a signed /ask request replayed byte for byte gets one answer; a new invocation of the same text gets its own', async () => {
    const request = commandRequest(SIGNING_SECRET, { text: 'what is a replay?', response_url: t.slack.responseUrl });
    expect((await postSigned(t.url, request)).status).toBe(200);
    expect((await postSigned(t.url, request)).status).toBe(200);
    await t.idle();
    await settle();
    expect(t.claude.requests).toHaveLength(1);
    expect(t.slack.callsOf('chat.postMessage').filter((call) => call.params.thread_ts === undefined)).toHaveLength(1);

    expect((await t.command({ text: 'what is a replay?' })).status).toBe(200);
    await t.idle();
    expect(t.claude.requests).toHaveLength(2);
  });
});

describe('requests for another workspace or app are ignored', () => {
  let slack: FakeSlack;
  let t: TestBot;
  beforeEach(async () => {
    slack = await FakeSlack.start();
    t = await startTestBot({}, { slack });
  });
  afterEach(async () => {
    await t.stop();
    await slack.close();
  });

  test('an event whose envelope names another team or app gets no answer, with a debug line', async () => {
    await t.mention({ text: '<@UBOT> from elsewhere' }, { teamId: 'T0OTHER' });
    await t.mention({ text: '<@UBOT> for another app' }, { apiAppId: 'A0OTHER' });
    await t.dm({ text: 'DM for another app' }, { apiAppId: 'A0OTHER' });
    await settle();
    expect(t.claude.requests).toHaveLength(0);
    expect(t.slack.calls.filter((call) => call.method.startsWith('chat.'))).toHaveLength(0);
    expect(t.logs.filter((line) => line.includes('another workspace or app'))).toHaveLength(3);
    // The same pipeline answers the bot's own workspace and app.
    await t.mention({ text: '<@UBOT> from home' });
    await t.idle();
    expect(t.claude.requests).toHaveLength(1);
  });

  test('a slash command for another team or app is acknowledged and not answered', async () => {
    expect((await t.command({ text: 'from elsewhere', team_id: 'T0OTHER' })).status).toBe(200);
    expect((await t.command({ text: 'for another app', api_app_id: 'A0OTHER' })).status).toBe(200);
    await settle();
    expect(t.claude.requests).toHaveLength(0);
    expect(t.slack.calls.filter((call) => call.method.startsWith('chat.'))).toHaveLength(0);
  });

  test('without the users:read scope (bots.info refused) the bot still starts, says the app check is off, and checks the workspace', async () => {
    const other = await FakeSlack.start();
    other.failNext('bots.info', { error: 'missing_scope' });
    const bot = await startTestBot({}, { slack: other });
    try {
      expect(bot.logs.some((line) => line.includes('requests are checked by workspace only'))).toBe(true);
      await bot.mention({ text: '<@UBOT> from elsewhere' }, { teamId: 'T0OTHER' });
      await bot.mention({ text: '<@UBOT> from home' });
      await bot.idle();
      expect(bot.claude.requests).toHaveLength(1);
    } finally {
      await bot.stop();
      await other.close();
    }
  });

  // Issue #13 §3: who may ask is the access policy's question (ALLOW_EXTERNAL_USERS, test/e2e/access-policy.test.ts).
  test('a user from another organisation in a Slack Connect channel is not dropped as a foreign request: the access policy answers them', async () => {
    await t.mention({ text: '<@UBOT> hello from a partner', user: 'U0PARTNER', user_team: 'T0PARTNER' });
    await t.slack.waitFor(() => t.slack.callsOf('chat.postEphemeral').length === 1);
    expect(t.slack.callsOf('chat.postEphemeral')[0]!.params.user).toBe('U0PARTNER');
  });
});

describe('malformed events and commands are ignored whole', () => {
  let t: TestBot;
  beforeEach(async () => {
    t = await startTestBot();
  });
  afterEach(() => t.stop());

  /** A valid event with `field` removed or replaced. */
  function without(event: Record<string, unknown>, field: string, value?: unknown): Record<string, unknown> {
    const copy: Record<string, unknown> = { ...event };
    if (value === undefined) delete copy[field];
    else copy[field] = value;
    return copy;
  }

  test.each([
    ['a mention without text', without(mentionEvent(), 'text')],
    ['a mention without ts', without(mentionEvent(), 'ts')],
    ['a mention without channel', without(mentionEvent(), 'channel')],
    ['a mention with a numeric text', without(mentionEvent(), 'text', 42)],
    ['a mention with a thread_ts that is not a ts', without(mentionEvent(), 'thread_ts', { ts: 1 })],
    ['a mention from a user id that is markup', without(mentionEvent(), 'user', 'U1> <!channel')],
    ['a DM without ts', without(dmEvent(), 'ts')],
    ['a DM without user', without(dmEvent(), 'user')],
    ['a DM without text or files', without(dmEvent(), 'text')],
    ['a DM whose channel is not an id', without(dmEvent(), 'channel', 'general')],
  ])('%s: no reply, no Claude call, no listener error, a debug line', async (_name, event) => {
    expect((await deliverEvent(t.url, SIGNING_SECRET, event)).status).toBe(200);
    await settle();
    expect(t.claude.requests).toHaveLength(0);
    expect(t.slack.calls.filter((call) => call.method.startsWith('chat.'))).toHaveLength(0);
    expect(t.logs.some((line) => line.includes('ignoring a malformed'))).toBe(true);
    expect(t.logs.some((line) => /"level":(50|60)/.test(line))).toBe(false);
  });

  test.each([
    ['without trigger_id', { trigger_id: '' }],
    ['from a user id that is markup', { user_id: 'U1> <!channel' }],
    ['in a channel id that is not an id', { channel_id: 'c 1' }],
  ])('a slash command %s is acknowledged and ignored', async (_name, fields) => {
    const response = await postSigned(t.url, commandRequest(SIGNING_SECRET, { text: 'question', response_url: t.slack.responseUrl, ...fields }));
    expect(response.status).toBe(200);
    await settle();
    expect(t.claude.requests).toHaveLength(0);
    expect(t.slack.calls.filter((call) => call.method.startsWith('chat.'))).toHaveLength(0);
    expect(t.logs.some((line) => line.includes('ignoring a malformed slash command'))).toBe(true);
  });
});

describe('long questions and attached files', () => {
  let t: TestBot;
  beforeEach(async () => {
    t = await startTestBot();
  });
  afterEach(() => t.stop());

  test('/ask with a 10,000-character question echoes a shortened question and gives Claude the whole one', async () => {
    t.slack.maxTextLength = 4000;
    const typed = `${'why & how <this> works? '.repeat(417)}end`;
    expect(typed.length).toBeGreaterThan(10_000);
    // Slack escapes what the user typed before sending it.
    await t.command({ text: typed.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;'), user_id: 'U42' });
    await t.idle();
    const echo = t.slack.callsOf('chat.postMessage')[0]!;
    expect(echo.response).toMatchObject({ ok: true });
    const echoed = echo.params.text as string;
    expect(echoed.startsWith('<@U42> asked: why &amp; how &lt;this&gt; works?')).toBe(true);
    expect(echoed.endsWith('…')).toBe(true);
    expect(echoed.length).toBeLessThanOrEqual(4000);
    expect(lastUserTurn(t)).toEqual({ role: 'user', content: typed });
    expect(finalReply(t, echo.response.ts as string)).toBe('Hello world');
  });

  test('a DM with a file and text (subtype file_share) is a question', async () => {
    const event = await t.dm({ subtype: 'file_share', text: 'what does this log say?', files: [{ id: 'F1', name: 'app.log', mimetype: 'text/plain' }] });
    await t.idle();
    expect(JSON.stringify(lastUserTurn(t))).toContain('what does this log say?');
    expect(finalReply(t, event.ts)).toMatch(/^Hello world/);
  });
});

describe('emphasis touching letters renders in Slack', () => {
  let t: TestBot;
  beforeEach(async () => {
    t = await startTestBot();
  });
  afterEach(() => t.stop());

  test("Claude's 這是**粗體**文字 reaches Slack with its bold separated from the letters", async () => {
    t.claude.enqueue({ chunks: ['這是**粗體**文字', ', word**bold**word and x`code`y'] });
    const event = await t.mention({ text: '<@UBOT> 用中文' });
    await t.idle();
    expect(finalReply(t, event.ts)).toBe('這是\u200b*粗體*\u200b文字, word\u200b*bold*\u200bword and x\u200b`code`\u200by');
  });
});
