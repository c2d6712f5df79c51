// Access policy (issue #13 §3): ALLOWED_CHANNELS, ALLOW_DMS, ALLOW_EXTERNAL_USERS. A refused question gets one
// ephemeral (the slash command: its ack) saying why, and nothing else: no placeholder, no echo, no Claude request.
import type { RecordedCall } from '../fakes/fakeSlack.js';
import { appHomeOpenedEvent, deliverEvent, externalMention } from '../fakes/slackRequests.js';
import { replyCalls, SIGNING_SECRET, startTestBot, type TestBot } from '../harness.js';

/** The one ephemeral the bot sent (waits for it; fails if there are more). */
async function theEphemeral(t: TestBot): Promise<RecordedCall> {
  await t.slack.waitFor(() => t.slack.callsOf('chat.postEphemeral').length > 0);
  const ephemerals = t.slack.callsOf('chat.postEphemeral');
  expect(ephemerals).toHaveLength(1);
  return ephemerals[0]!;
}

/**
 * Asks an allowed question and waits for its answer, then checks that it alone reached Claude and that nothing
 * was posted for the refused one (`refusedTs`): a late placeholder or Claude call of the refused question would
 * have had all that time to show.
 */
async function expectOnlyTheControlAnswered(t: TestBot, ask: () => Promise<string>, refusedTs?: string): Promise<void> {
  const controlTs = await ask();
  await t.claude.waitForRequests(1);
  await t.idle();
  expect(t.claude.requests).toHaveLength(1);
  expect(replyCalls(t.slack, controlTs)).toHaveLength(1);
  if (refusedTs !== undefined) expect(replyCalls(t.slack, refusedTs)).toHaveLength(0);
}

describe('ALLOWED_CHANNELS', () => {
  let t: TestBot;
  beforeEach(async () => {
    t = await startTestBot({ ALLOWED_CHANNELS: 'C100,G200' });
  });
  afterEach(() => t.stop());

  test('a mention in a channel not listed gets one ephemeral naming where to ask, no placeholder and no Claude request; a listed channel is answered', async () => {
    const refused = await t.mention({ channel: 'C123', text: '<@UBOT> what is DNS?' });
    const ephemeral = await theEphemeral(t);
    expect(ephemeral.params).toMatchObject({ channel: 'C123', user: 'U123' });
    // A top-level mention: the ephemeral goes to the channel, not into a thread that does not exist.
    expect(ephemeral.params.thread_ts).toBeUndefined();
    expect(ephemeral.params.text).toContain("don't answer in this channel");
    expect(ephemeral.params.text).toContain('<#C100> or <#G200>');
    await expectOnlyTheControlAnswered(t, async () => (await t.mention({ channel: 'C100', text: '<@UBOT> what is DNS?' })).ts, refused.ts);
    expect(t.slack.callsOf('chat.postEphemeral')).toHaveLength(1);
  });

  test('an asker refused again and again in one channel is told once a minute, not once per mention; another asker is told too', async () => {
    for (let i = 0; i < 5; i++) await t.mention({ channel: 'C123', user: 'U123', text: `<@UBOT> try ${i}` });
    await t.mention({ channel: 'C123', user: 'U124', text: '<@UBOT> me too' });
    const refused = () => t.logs.filter((line) => line.includes('the access policy refuses this question'));
    await t.slack.waitFor(() => refused().length === 6);
    await expectOnlyTheControlAnswered(t, async () => (await t.mention({ channel: 'C100', text: '<@UBOT> what is DNS?' })).ts);
    expect(t.slack.callsOf('chat.postEphemeral').map((call) => call.params.user)).toEqual(['U123', 'U124']);
  });

  test('a mention inside a thread is refused in that thread', async () => {
    await t.mention({ channel: 'C123', thread_ts: '1700000000.000001', text: '<@UBOT> and then?' });
    expect((await theEphemeral(t)).params).toMatchObject({ channel: 'C123', user: 'U123', thread_ts: '1700000000.000001' });
  });

  test('/ask in a channel not listed is refused in its ack: no echo, no Claude request; in a listed one it is answered', async () => {
    const response = await t.command({ text: 'what is DNS?', channel_id: 'C123' });
    expect(await response.json()).toMatchObject({ response_type: 'ephemeral', text: expect.stringContaining("don't answer in this channel") });
    // An empty /ask there is refused too, rather than taught how to ask where it cannot.
    const empty = await t.command({ text: ' ', channel_id: 'C123' });
    expect(await empty.json()).toMatchObject({ response_type: 'ephemeral', text: expect.stringContaining("don't answer in this channel") });
    await t.command({ text: 'what is DNS?', channel_id: 'C100' });
    await t.claude.waitForRequests(1);
    await t.idle();
    expect(t.claude.requests).toHaveLength(1);
    expect(t.slack.callsOf('chat.postMessage').filter((call) => call.params.channel === 'C123')).toHaveLength(0);
    expect(t.slack.callsOf('chat.postMessage')[0]!.params).toMatchObject({ channel: 'C100', text: '<@U123> asked: what is DNS?' });
  });

  test('a DM is governed by ALLOW_DMS, not by ALLOWED_CHANNELS', async () => {
    await expectOnlyTheControlAnswered(t, async () => (await t.dm({ text: 'what is DNS?' })).ts);
    expect(t.slack.callsOf('chat.postEphemeral')).toHaveLength(0);
  });
});

describe('ALLOW_DMS=false', () => {
  let t: TestBot;
  beforeEach(async () => {
    t = await startTestBot({ ALLOW_DMS: 'false' });
  });
  afterEach(() => t.stop());

  test('a DM gets one ephemeral saying DMs are off and no Claude request; a mention is still answered', async () => {
    const refused = await t.dm({ text: 'what is DNS?' });
    const ephemeral = await theEphemeral(t);
    expect(ephemeral.params).toMatchObject({ channel: 'D123', user: 'U123' });
    expect(ephemeral.params.text).toContain('turned off direct messages');
    await expectOnlyTheControlAnswered(t, async () => (await t.mention({ text: '<@UBOT> what is DNS?' })).ts, refused.ts);
  });

  test('/ask in a DM is refused in its ack', async () => {
    const response = await t.command({ text: 'what is DNS?', channel_id: 'D123' });
    expect(await response.json()).toMatchObject({ response_type: 'ephemeral', text: expect.stringContaining('turned off direct messages') });
    await t.command({ text: 'what is DNS?', channel_id: 'C123' });
    await t.claude.waitForRequests(1);
    await t.idle();
    expect(t.claude.requests).toHaveLength(1);
    expect(t.slack.callsOf('chat.postMessage').filter((call) => call.params.channel === 'D123')).toHaveLength(0);
  });

  test('the Messages tab gets no suggested prompts', async () => {
    const response = await deliverEvent(t.url, SIGNING_SECRET, appHomeOpenedEvent({ tab: 'messages' }));
    expect(response.status).toBe(200);
    // The event has been handled once a question delivered after it has been answered (one listener chain per request).
    await expectOnlyTheControlAnswered(t, async () => (await t.mention({ text: '<@UBOT> hi' })).ts);
    expect(t.slack.callsOf('assistant.threads.setSuggestedPrompts')).toHaveLength(0);
  });
});

describe('external users (Slack Connect)', () => {
  let t: TestBot;
  afterEach(() => t.stop());

  test('by default, someone from another organisation in a shared channel gets one ephemeral and no Claude request; a colleague there is answered', async () => {
    t = await startTestBot();
    const refused = await t.mention(externalMention({ text: '<@UBOT> what is DNS?' }), { extShared: true });
    const ephemeral = await theEphemeral(t);
    expect(ephemeral.params).toMatchObject({ channel: 'C123', user: 'UEXT' });
    expect(ephemeral.params.text).toContain('only answer members of the organisation');
    await expectOnlyTheControlAnswered(t, async () => (await t.mention({ text: '<@UBOT> what is DNS?' }, { extShared: true })).ts, refused.ts);
    // The payload said who the askers were: nobody was looked up.
    expect(t.slack.callsOf('users.info').filter((call) => call.params.user === 'UEXT')).toHaveLength(0);
  });

  test('with ALLOW_EXTERNAL_USERS=true they are answered', async () => {
    t = await startTestBot({ ALLOW_EXTERNAL_USERS: 'true' });
    await expectOnlyTheControlAnswered(t, async () => (await t.mention(externalMention(), { extShared: true })).ts);
    expect(t.slack.callsOf('chat.postEphemeral')).toHaveLength(0);
  });

  test('where the event does not say, users.info does: its team_id of another organisation earns the refusal', async () => {
    t = await startTestBot();
    t.slack.addUser({ id: 'UEXT', name: 'val', team_id: 'T0EXT' });
    const refused = await t.mention({ user: 'UEXT', team: undefined, text: '<@UBOT> what is DNS?' }, { extShared: true });
    expect((await theEphemeral(t)).params).toMatchObject({ channel: 'C123', user: 'UEXT' });
    expect(t.slack.callsOf('users.info').map((call) => call.params.user)).toContain('UEXT');
    await expectOnlyTheControlAnswered(t, async () => (await t.mention({ text: '<@UBOT> hi' }, { extShared: true })).ts, refused.ts);
  });

  test('when users.info cannot tell either, the question is answered (fail-open) and a warning says so', async () => {
    t = await startTestBot();
    t.slack.failNext('users.info', { error: 'missing_scope' }, 5);
    await expectOnlyTheControlAnswered(t, async () => (await t.mention({ user: 'UNEW', team: undefined }, { extShared: true })).ts);
    expect(t.slack.callsOf('chat.postEphemeral')).toHaveLength(0);
    expect(t.logs.join('')).toContain('could not tell whether the asker is from another organisation');
  });

  describe('Enterprise Grid: the bot in workspace T0001 of organisation E0001', () => {
    const grid = { extShared: true, enterpriseId: 'E0001' };

    test('a user of another workspace of the same organisation is not external', async () => {
      t = await startTestBot();
      t.slack.addUser({ id: 'UCOL', name: 'colleague', team_id: 'T0002', enterprise_id: 'E0001' });
      const other = { user: 'UCOL', user_team: 'T0002', team: 'T0002' };
      await expectOnlyTheControlAnswered(t, async () => (await t.mention(other, grid)).ts);
      // Slack may name the organisation itself as the user's team (users.info knows nothing of UORG here).
      await t.mention({ user: 'UORG', user_team: 'E0001', team: 'E0001' }, grid);
      await t.claude.waitForRequests(2);
      await t.idle();
      expect(t.slack.callsOf('chat.postEphemeral')).toHaveLength(0);
      expect(t.logs.join('')).not.toContain('could not tell whether the asker');
    });

    test('a user of another organisation is external, whether Slack names their workspace or their organisation', async () => {
      t = await startTestBot();
      t.slack.addUser({ id: 'UEXT', name: 'val', team_id: 'T0EXT' });
      await t.mention(externalMention(), grid);
      await t.mention(externalMention({ user: 'UEXT2', user_team: 'E0EXT', team: 'E0EXT' }), grid);
      await t.slack.waitFor(() => t.slack.callsOf('chat.postEphemeral').length === 2);
      expect(t.slack.callsOf('chat.postEphemeral').map((call) => call.params.user).sort()).toEqual(['UEXT', 'UEXT2']);
      await expectOnlyTheControlAnswered(t, async () => (await t.mention({}, grid)).ts);
    });
  });
});

describe('the refusal cannot be delivered', () => {
  let t: TestBot;
  afterEach(() => t.stop());

  test('a failed ephemeral is logged, nothing is posted instead, and the bot keeps answering', async () => {
    t = await startTestBot({ ALLOWED_CHANNELS: 'C100' });
    t.slack.failNext('chat.postEphemeral', { error: 'not_in_channel' });
    const refused = await t.mention({ channel: 'C123' });
    const warned = () => t.logs.filter((line) => line.includes('could not tell the asker why the question is refused'));
    await t.slack.waitFor(() => warned().length === 1);
    await expectOnlyTheControlAnswered(t, async () => (await t.mention({ channel: 'C100' })).ts, refused.ts);
    expect(t.slack.callsOf('chat.postMessage').filter((call) => call.params.channel === 'C123')).toHaveLength(0);
    expect(t.logs.join('')).not.toContain('unhandled error');
  });
});
