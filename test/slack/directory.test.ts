import { WebClient } from '@slack/web-api';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/logger.js';
import { SlackDirectory } from '../../src/slack/directory.js';
import { FakeSlack } from '../fakes/fakeSlack.js';

describe('SlackDirectory against the fake Slack Web API', () => {
  let slack: FakeSlack;
  let directory: SlackDirectory;
  let logs: string[];
  beforeEach(async () => {
    slack = await FakeSlack.start();
    logs = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logs.push(chunk.toString());
        done();
      },
    });
    const web = new WebClient('xoxb-test', { slackApiUrl: slack.apiUrl, rejectRateLimitedCalls: true, retryConfig: { retries: 0 } });
    directory = new SlackDirectory(web, () => 'UBOT', createLogger('debug', sink));
  });
  afterEach(() => slack.close());

  test('a user is named by display name, else real name, else handle', async () => {
    slack.addUser({ id: 'U1', name: 'ada', real_name: 'Ada Lovelace', display_name: 'Ada L.' });
    slack.addUser({ id: 'U2', name: 'grace', real_name: 'Grace Hopper' });
    slack.addUser({ id: 'U3', name: 'alan' });
    expect(await Promise.all(['U1', 'U2', 'U3', 'U4'].map((id) => directory.userName(id)))).toEqual(['Ada L.', 'Grace Hopper', 'alan', undefined]);
  });

  test('concurrent lookups of one id share one call, and later ones are served from the cache', async () => {
    slack.addUser({ id: 'U1', name: 'ada' });
    slack.latencyMs = 50;
    expect(await Promise.all(Array.from({ length: 5 }, () => directory.userName('U1')))).toEqual(Array(5).fill('ada'));
    expect(await directory.userName('U1')).toBe('ada');
    expect(slack.callsOf('users.info')).toHaveLength(1);
  });

  test('a burst of lookups (an asker and a channel for each of many answers) is all in flight at once, not queued behind round trips', async () => {
    const ids = Array.from({ length: 15 }, (_, i) => String(i));
    for (const id of ids) {
      slack.addUser({ id: `U${id}`, name: `user${id}` });
      slack.addChannel({ id: `C${id}`, name: `channel${id}` });
    }
    // No call is answered until every one has arrived: a lookup queued behind another's round trip never would.
    const answer = slack.holdAnswers();
    const lookups = Promise.all(ids.flatMap((id) => [directory.userName(`U${id}`), directory.conversation(`C${id}`)]));
    try {
      await slack.waitFor(() => slack.inFlight === 2 * ids.length, 20_000);
    } finally {
      answer();
    }
    await lookups;
    expect(slack.callsOf('users.info')).toHaveLength(ids.length);
    expect(slack.callsOf('conversations.info')).toHaveLength(ids.length);
  }, 30_000);

  test('a conversation: a channel has its name, a DM and a group DM have none', async () => {
    slack.addChannel({ id: 'C1', name: 'general' });
    slack.addChannel({ id: 'D1', is_im: true });
    slack.addChannel({ id: 'G1', name: 'mpdm-ada--grace-1', is_mpim: true });
    expect(await directory.conversation('C1')).toEqual({ name: 'general', isIm: false, isMpim: false });
    expect(await directory.conversation('D1')).toEqual({ isIm: true, isMpim: false });
    expect(await directory.conversation('G1')).toEqual({ isIm: false, isMpim: true });
    expect(await directory.conversation('C404')).toBeUndefined();
  });

  test('failures never throw, are remembered for a while, and are logged once', async () => {
    slack.addUser({ id: 'U1', name: 'ada' });
    slack.addUser({ id: 'U2', name: 'grace' });
    slack.failNext('users.info', { error: 'missing_scope' }, 2);
    slack.failNext('conversations.info', { status: 429, retryAfter: 30 });
    expect(await directory.userName('U1')).toBeUndefined();
    expect(await directory.userName('U2')).toBeUndefined();
    expect(await directory.conversation('C1')).toBeUndefined();
    // Remembered: no second call for U1 although Slack would answer now.
    expect(await directory.userName('U1')).toBeUndefined();
    expect(slack.callsOf('users.info')).toHaveLength(2);
    const lines = logs.filter((line) => line.includes('a Slack lookup failed'));
    expect(lines).toHaveLength(2);
    expect(lines.every((line) => JSON.parse(line).level === 20)).toBe(true);
  });

  test('plainText looks up only what the text names, skipping the bot', async () => {
    slack.addUser({ id: 'U1', name: 'ada' });
    slack.addChannel({ id: 'C1', name: 'general' });
    expect(await directory.plainText('<@UBOT> ask <@U1> about <#C1> and <#C2|random>')).toBe('ask @ada about #general and #random');
    expect(slack.callsOf('users.info').map((call) => call.params.user)).toEqual(['U1']);
    expect(slack.callsOf('conversations.info').map((call) => call.params.channel)).toEqual(['C1']);
  });
});
