// Slack Connect as the access policy meets it (issue #13 §3), found by an attack on the first version.
// In a channel another organisation created, Slack's envelope `team_id` is that organisation's workspace and the
// installation the event is for is `authorizations[0].team_id` (Slack's own Bolts read it: slackapi/bolt-js#687,
// slackapi/java-slack-sdk#629). The fake Slack cannot send such an envelope, so the test builds it.
import { randomBytes } from 'node:crypto';
import { externalMention, mentionEvent, signSlackRequest } from '../fakes/slackRequests.js';
import { SIGNING_SECRET, startTestBot, type TestBot } from '../harness.js';

describe('a Slack Connect channel hosted by the other organisation', () => {
  let t: TestBot;
  afterEach(() => t.stop());

  test("a colleague's mention there is answered (or at least gets a reply), not dropped as another workspace's", async () => {
    t = await startTestBot({ ALLOW_EXTERNAL_USERS: 'true' });
    const event = mentionEvent({ channel: 'C0SHARED', user: 'U123', user_team: 'T0001', team: 'T0001', text: '<@UBOT> hello from our side' });
    const body = JSON.stringify({
      token: 'legacy-verification-token',
      team_id: 'T0PARTNER',
      context_team_id: 'T0PARTNER',
      api_app_id: 'A0001',
      event,
      type: 'event_callback',
      event_id: `Ev${randomBytes(5).toString('hex').toUpperCase()}`,
      event_time: Math.floor(Date.now() / 1000),
      authorizations: [{ enterprise_id: null, team_id: 'T0001', user_id: 'UBOT', is_bot: true, is_enterprise_install: false }],
      is_ext_shared_channel: true,
    });
    const response = await fetch(`${t.url}/slack/events`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...signSlackRequest(SIGNING_SECRET, body) },
      body,
    });
    expect(response.status).toBe(200);
    await t.idle();
    const dropped = t.logs.filter((line) => line.includes('ignoring a request for another workspace or app'));
    expect(dropped).toEqual([]);
    expect(t.claude.requests).toHaveLength(1);
  });
});

describe('refusals to people outside the organisation', () => {
  let t: TestBot;
  afterEach(() => t.stop());

  test('an external user in a shared channel outside ALLOWED_CHANNELS is not told which internal channels the bot answers in', async () => {
    t = await startTestBot({ ALLOWED_CHANNELS: 'C0PRIVATE1,G0SECRET2' });
    await t.mention(externalMention({ channel: 'C0SHARED', text: '<@UBOT> hi' }), { extShared: true });
    await t.slack.waitFor(() => t.slack.callsOf('chat.postEphemeral').length > 0);
    const text = t.slack.callsOf('chat.postEphemeral')[0]!.params.text as string;
    // The place's refusal would name the workspace's channels: the external one is given instead.
    expect(text).toContain('other organisations');
    expect(text).not.toContain('C0PRIVATE1');
    expect(text).not.toContain('G0SECRET2');
  });

  test('an external user DMing the bot while ALLOW_DMS=false is not told the internal channel list either', async () => {
    t = await startTestBot({ ALLOW_DMS: 'false', ALLOWED_CHANNELS: 'C0PRIVATE1' });
    await t.dm({ user: 'UEXT', user_team: 'T0EXT', team: 'T0EXT' } as never, { extShared: true });
    await t.slack.waitFor(() => t.slack.callsOf('chat.postEphemeral').length > 0);
    expect(t.slack.callsOf('chat.postEphemeral')[0]!.params.text).not.toContain('C0PRIVATE1');
  });
});
