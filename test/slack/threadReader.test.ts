import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { SlackDirectory } from '../../src/slack/directory.js';
import { createSlackClients } from '../../src/slack/slackClients.js';
import { ThreadReader } from '../../src/slack/threadReader.js';
import type { WebClient } from '@slack/web-api';
import { FakeSlack } from '../fakes/fakeSlack.js';
import { API_KEY, BOT_TOKEN, SIGNING_SECRET } from '../harness.js';

const CHANNEL = 'C123';
const identity = { teamId: 'T0001', botUserId: 'UBOT', botId: 'BBOT' };
/** Room for every message of these threads, none already asked. */
const ALL = { maxChars: 1_000_000, exchanges: [] };

describe('ThreadReader over the wire', () => {
  let slack: FakeSlack;
  let reader: ThreadReader;
  let web: WebClient;
  beforeEach(async () => {
    slack = await FakeSlack.start();
    const config = loadConfig({ SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_SIGNING_SECRET: SIGNING_SECRET, ANTHROPIC_API_KEY: API_KEY, SLACK_API_URL: slack.apiUrl });
    const clients = createSlackClients(config, createLogger('silent'));
    web = clients.web;
    reader = new ThreadReader(clients.reads, new SlackDirectory(clients.reads, () => identity.botUserId), () => identity);
  });
  afterEach(() => slack.close());

  test("keeps people's and other apps' messages before the question, oldest first; drops the bot's posts, noise and later messages", async () => {
    const parent = slack.addUserMessage({ channel: CHANNEL, user: 'U0ANN', text: 'parent' });
    const threadTs = parent.ts;
    slack.addUserMessage({ channel: CHANNEL, threadTs, user: 'U0BOB', text: 'joined', subtype: 'channel_join' });
    slack.addAppMessage({ channel: CHANNEL, threadTs, text: 'from an app', name: 'Deploy Bot' });
    await web.chat.postMessage({ channel: CHANNEL, thread_ts: threadTs, text: 'the bot itself' });
    slack.addUserMessage({ channel: CHANNEL, threadTs, user: 'U0BOB', text: 'also in the channel', subtype: 'thread_broadcast' });
    const question = slack.addUserMessage({ channel: CHANNEL, threadTs, user: 'U0ANN', text: '<@UBOT> question' });
    slack.addUserMessage({ channel: CHANNEL, threadTs, user: 'U0BOB', text: 'after the question' });

    const read = await reader.read({ channel: CHANNEL, threadTs, before: question.ts }, ALL);
    expect(read.ok && read.kept.map(({ speaker, text }) => `${speaker}: ${text}`)).toEqual([
      '@U0ANN: parent',
      'Deploy Bot (app): from an app',
      '@U0BOB: also in the channel',
    ]);
  });

  /** A thread of `count` messages by people; returns its ts and a ts after all of them. */
  function thread(count: number): { threadTs: string; before: string } {
    const parent = slack.addUserMessage({ channel: CHANNEL, user: 'U0ANN', text: 'm0' });
    for (let i = 1; i < count; i++) slack.addUserMessage({ channel: CHANNEL, threadTs: parent.ts, user: 'U0ANN', text: `m${i}` });
    return { threadTs: parent.ts, before: '9999999999.000000' };
  }

  test('follows every page (cursor, has_more) and returns each message once, in order', async () => {
    const place = thread(2_500);
    const read = await reader.read({ channel: CHANNEL, ...place }, ALL);
    expect(slack.callsOf('conversations.replies')).toHaveLength(3);
    expect(read.ok && read.kept.map((message) => message.text)).toEqual(Array.from({ length: 2_500 }, (_, i) => `m${i}`));
  });

  test('a thread too long to page through up to the question is a typed failure, after a bounded number of calls', async () => {
    const place = thread(10_001);
    expect(await reader.read({ channel: CHANNEL, ...place }, ALL)).toEqual({ ok: false, reason: 'too_long' });
    expect(slack.callsOf('conversations.replies')).toHaveLength(10);
  });

  test.each([
    [{ error: 'missing_scope', needed: 'groups:history' }, { ok: false, reason: 'missing_scope', scope: 'groups:history' }],
    [{ error: 'not_in_channel' }, { ok: false, reason: 'not_in_channel' }],
    [{ error: 'channel_not_found' }, { ok: false, reason: 'channel_not_found' }],
    [{ status: 429, retryAfter: 30 }, { ok: false, reason: 'rate_limited' }],
    [{ error: 'team_access_not_granted' }, { ok: false, reason: 'other', error: 'team_access_not_granted' }],
  ])('%j → a typed result, never thrown, after one call', async (failure, expected) => {
    const place = thread(3);
    slack.failNext('conversations.replies', failure);
    expect(await reader.read({ channel: CHANNEL, ...place }, ALL)).toEqual(expected);
    expect(slack.callsOf('conversations.replies')).toHaveLength(1);
  });

  test('Slack failing (HTTP 500, also on the retry) → unreachable', async () => {
    const place = thread(3);
    slack.failNext('conversations.replies', { status: 500 }, 2);
    expect(await reader.read({ channel: CHANNEL, ...place }, ALL)).toEqual({ ok: false, reason: 'unreachable' });
  });

  test('converts the newest messages first and stops at the budget: the older ones cost no name lookups', async () => {
    const parent = slack.addUserMessage({ channel: CHANNEL, user: 'U0ANN', text: 'parent' });
    // Each message mentions its own person: a converted message costs one users.info call.
    for (let i = 0; i < 300; i++) slack.addUserMessage({ channel: CHANNEL, threadTs: parent.ts, user: 'U0ANN', text: `ask <@U0P${i}>` });
    const read = await reader.read({ channel: CHANNEL, threadTs: parent.ts, before: '9999999999.000000' }, { maxChars: 200, exchanges: [] });

    expect(read.ok && read.kept.at(-1)!.text).toBe('ask @U0P299');
    const kept = read.ok ? read.kept.length : 0;
    expect(read.ok && read.omitted).toBe(301 - kept);
    const looked = slack.callsOf('users.info').map((call) => call.params.user as string);
    // The speaker and the kept messages' people, and at most one batch (20 messages) beyond what fits.
    expect(looked).toContain('U0P299');
    expect(looked.length).toBeLessThanOrEqual(1 + kept + 20);
    expect(looked).not.toContain('U0P0');
  });

  test('messages the history already holds as questions are left out, before the budget is spent', async () => {
    const parent = slack.addUserMessage({ channel: CHANNEL, user: 'U0ANN', text: 'parent' });
    const asked = slack.addUserMessage({ channel: CHANNEL, threadTs: parent.ts, user: 'U0ANN', text: '<@UBOT> asked before' });
    slack.addUserMessage({ channel: CHANNEL, threadTs: parent.ts, user: 'U0BOB', text: 'newest' });
    const read = await reader.read({ channel: CHANNEL, threadTs: parent.ts, before: '9999999999.000000' }, Promise.resolve({ maxChars: 1_000, exchanges: [{ questionTs: asked.ts }] }));
    expect(read.ok && read.kept.map(({ speaker, text }) => `${speaker}: ${text}`)).toEqual(['@U0ANN: parent', '@U0BOB: newest']);
  });
});
