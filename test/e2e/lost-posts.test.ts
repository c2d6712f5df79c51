import type { SlackFailure } from '../fakes/fakeSlack.js';
import { FakeSlack } from '../fakes/fakeSlack.js';
import { startTestBot, type TestBot } from '../harness.js';

/** The texts the thread shows now (deleted messages left out), oldest first. */
const shown = (slack: FakeSlack, channel: string, threadTs: string) =>
  slack
    .threadMessages(channel, threadTs)
    .filter((message) => !message.deleted)
    .map((message) => message.text);

/** About 10,000 characters in 500-character chunks: three messages of 4,000-character Slack text. */
const longAnswer = Array.from({ length: 40 }, (_, i) => `part ${i} `.padEnd(216, 'lorem ipsum ')).join('\n\n');
const longChunks = longAnswer.match(/[\s\S]{1,500}/g)!;

// Slack may carry a post out and still fail to say so: it documents this for internal_error, and any 5xx or
// cut connection after the request left leaves the same doubt. Posting again would leave a second message.
const lostAnswers: [string, SlackFailure][] = [
  ['internal_error after posting', { error: 'internal_error', applied: true }],
  ['HTTP 500 after posting', { status: 500, applied: true }],
  ['the connection cut after posting', { applied: true, hangUp: true }],
];

describe('a post whose answer is lost is not posted twice', () => {
  let t: TestBot;
  afterEach(() => t.stop());

  test.each(lostAnswers)('the placeholder (%s): one reply in the thread, and it ends with the answer', async (_name, failure) => {
    t = await startTestBot();
    t.claude.enqueue({ chunks: ['Answered', ' once'] });
    t.slack.failNext('chat.postMessage', failure);
    const event = await t.mention({ text: '<@UBOT> hello?' });
    await t.idle(30_000);
    expect(shown(t.slack, 'C123', event.ts)).toEqual(['Answered once']);
    // Slack was asked once more only to find the post, not to post it again.
    expect(t.slack.callsOf('chat.postMessage')).toHaveLength(1);
    expect(t.slack.callsOf('chat.postEphemeral')).toHaveLength(0);
  }, 40_000);

  test('a continuation message (internal_error after posting): each part of a long answer shows once', async () => {
    t = await startTestBot({ EDIT_INTERVAL_MS: '100' });
    t.slack.maxTextLength = 4000;
    t.claude.enqueue({ chunks: longChunks, delayMs: 10 });
    // Slack posts the placeholder and loses its answer, then does the same to the first continuation.
    t.slack.failNext('chat.postMessage', { error: 'internal_error', applied: true });
    t.slack.failNext('chat.postMessage', { error: 'internal_error', applied: true });
    const event = await t.mention({ text: '<@UBOT> a long one' });
    await t.idle(30_000);
    const posted = shown(t.slack, 'C123', event.ts);
    expect(posted.length).toBeGreaterThanOrEqual(3);
    expect(posted.join('\n\n').replace(/\s+/g, ' ')).toBe(longAnswer.replace(/\s+/g, ' '));
    for (let i = 0; i < 40; i++) expect(posted.filter((text) => text.includes(`part ${i} `))).toHaveLength(1);
  }, 40_000);

  test('a post Slack carries out only on the last try (internal_error): it is found, not left on "Thinking…" with a "could not post" note', async () => {
    t = await startTestBot();
    t.claude.enqueue({ chunks: ['Found', ' at last'] });
    t.slack.failNext('chat.postMessage', { error: 'internal_error' }, 5);
    t.slack.failNext('chat.postMessage', { error: 'internal_error', applied: true });
    const event = await t.mention({ text: '<@UBOT> hello?' });
    await t.idle(40_000);
    expect(shown(t.slack, 'C123', event.ts)).toEqual(['Found at last']);
    expect(t.slack.callsOf('chat.postEphemeral')).toHaveLength(0);
  }, 60_000);

  test('the /ask echo (the connection cut after posting): the question shows once in the channel, answered in its thread', async () => {
    t = await startTestBot();
    t.claude.enqueue({ chunks: ['Echoed', ' once'] });
    t.slack.failNext('chat.postMessage', { applied: true, hangUp: true });
    await t.command({ text: 'what is DNS?', channel_id: 'C123' });
    await t.claude.waitForRequests(1);
    await t.idle(30_000);
    const echoes = [...t.slack.messages.values()].filter((message) => message.channel === 'C123' && message.thread_ts === undefined);
    expect(echoes.map((message) => message.text)).toEqual([expect.stringContaining('asked: what is DNS?')]);
    expect(shown(t.slack, 'C123', echoes[0]!.ts)).toEqual(['Echoed once']);
  }, 40_000);

  test('a post that Slack did not carry out (internal_error, nothing posted) is posted on the next try', async () => {
    t = await startTestBot();
    t.claude.enqueue({ chunks: ['Posted', ' later'] });
    t.slack.failNext('chat.postMessage', { error: 'internal_error' });
    t.slack.failNext('chat.postMessage', { status: 503 });
    const event = await t.mention({ text: '<@UBOT> hello?' });
    await t.idle(30_000);
    expect(shown(t.slack, 'C123', event.ts)).toEqual(['Posted later']);
    expect(t.slack.callsOf('chat.postMessage')).toHaveLength(3);
  }, 40_000);
});
