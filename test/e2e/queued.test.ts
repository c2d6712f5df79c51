// Issue #14 §2: above MAX_CONCURRENT_ANSWERS questions wait in arrival order, and their reply says they are
// queued (rather than "Thinking…" for as long as they wait), on either transport, until their answer starts.
import type { ButtonAction } from '@slack/bolt';
import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copy } from '../../src/copy.js';
import { toMrkdwn } from '../../src/slack/render.js';
import type { RecordedRequest } from '../fakes/fakeAnthropic.js';
import type { RecordedCall } from '../fakes/fakeSlack.js';
import { pollUntil } from '../fakes/httpUtil.js';
import { blockActionsPayload, deliverEvent, deliverInteraction, mentionEvent, type MentionEvent } from '../fakes/slackRequests.js';
import { SIGNING_SECRET, startTestBot, versionsOf, type TestBot } from '../harness.js';
import { spawnBot, useFakeServers } from '../processBot.js';

const QUEUED = toMrkdwn(copy.queued);
const THINKING = toMrkdwn(copy.thinking);
const CHANNEL = 'C123';

/** The question (last user turn) a request to Claude asked. */
const questionOf = (request: RecordedRequest) => (request.body.messages as { content: string }[]).at(-1)!.content;

/** Claude's request for `question`. */
const requestFor = (t: TestBot, question: string) => t.claude.requests.find((request) => questionOf(request) === question)!;

/**
 * Scripts Claude: the question "long one" gets a 6 s answer, so that the questions asked meanwhile all wait
 * behind it; any other question `<question>` gets "answer to <question>", in 5 deltas 100 ms apart.
 */
function scriptClaude(t: TestBot): void {
  t.claude.scriptFor = (body) => {
    const question = (body.messages as { content: string }[]).at(-1)!.content;
    if (question === 'long one') return { chunks: Array.from({ length: 60 }, (_, i) => `w${i} `), delayMs: 100 };
    return { chunks: ['answer ', 'to ', ...question.split(' ').map((word, i) => (i === 0 ? word : ` ${word}`))], delayMs: 100 };
  };
}

/** The bot's first message in the thread of `event`, posted (chat.postMessage); undefined until there is one. */
const postedIn = (t: TestBot, event: MentionEvent): RecordedCall | undefined =>
  t.slack.callsOf('chat.postMessage').find((call) => call.params.thread_ts === event.ts && call.response.ok);

/** Waits for the bot's first message in the thread of `event` and returns its ts. */
async function firstMessage(t: TestBot, event: MentionEvent): Promise<string> {
  await t.slack.waitFor(() => postedIn(t, event) !== undefined);
  return postedIn(t, event)!.response.ts as string;
}

/** Whether `blocks` carry the Stop button. */
const hasStopButton = (blocks: unknown) =>
  ((blocks ?? []) as { type: string; elements?: { action_id?: string }[] }[]).some(
    (block) => block.type === 'actions' && block.elements?.some((element) => element.action_id === 'answer_stop'),
  );

/** A click on the Stop button of `messageTs`, by `user`, signed as Slack POSTs block_actions. */
async function clickStop(t: TestBot, event: MentionEvent, messageTs: string, user: string): Promise<void> {
  const action = { type: 'button' as const, action_id: 'answer_stop', block_id: 'stop', text: { type: 'plain_text' as const, text: copy.stopButton }, value: 'stop' };
  const payload = blockActionsPayload<ButtonAction>(action, { messageTs, channel: CHANNEL, threadTs: event.ts, user });
  expect((await deliverInteraction(t.url, SIGNING_SECRET, payload)).status).toBe(200);
}

describe('MAX_CONCURRENT_ANSWERS: a question that waits for a slot says it is queued', () => {
  let t: TestBot;
  afterEach(() => t.stop());

  test('edits: the queued reply is posted with the queued line and the Stop button, answered in that message after the answer before it; a stopped one ends Stopped', async () => {
    t = await startTestBot({ SLACK_STREAMING: 'edits', MAX_CONCURRENT_ANSWERS: '1' });
    scriptClaude(t);
    const long = await t.mention({ user: 'U1', text: '<@UBOT> long one' });
    await t.claude.waitForRequests(1);
    const second = await t.mention({ user: 'U2', text: '<@UBOT> second' });
    const third = await t.mention({ user: 'U3', text: '<@UBOT> third' });
    const [longTs, secondTs, thirdTs] = [await firstMessage(t, long), await firstMessage(t, second), await firstMessage(t, third)];

    // The answer running shows the usual placeholder; the waiting ones say they are queued from their first post.
    expect(versionsOf(t.slack, longTs)[0]).toBe(THINKING);
    for (const event of [second, third]) {
      expect(postedIn(t, event)!.params.text).toBe(QUEUED);
      expect(hasStopButton(postedIn(t, event)!.params.blocks)).toBe(true);
    }

    // Stopped while queued: the message ends with the note, never left on the queued line, and Claude is not asked.
    await clickStop(t, third, thirdTs, 'U3');
    await t.slack.waitFor(() => versionsOf(t.slack, thirdTs).at(-1) === toMrkdwn(copy.notes.stopped));

    await t.idle(30_000);
    expect(t.claude.requests.map(questionOf)).toEqual(['long one', 'second']);
    expect(requestFor(t, 'second').at).toBeGreaterThanOrEqual(requestFor(t, 'long one').endedAt!);
    const versions = versionsOf(t.slack, secondTs);
    expect(versions.at(-1)).toBe('answer to second');
    // The queued line is gone once the answer starts: only the first version shows it.
    expect(versions.lastIndexOf(QUEUED)).toBe(0);
    expect(t.slack.threadMessages(CHANNEL, second.ts)).toHaveLength(1);
  }, 60_000);

  test('a queued question ends with the restart note when the bot shuts down', async () => {
    t = await startTestBot({ SLACK_STREAMING: 'edits', MAX_CONCURRENT_ANSWERS: '1' });
    scriptClaude(t);
    await t.mention({ text: '<@UBOT> long one' });
    await t.claude.waitForRequests(1);
    const waiting = await t.mention({ text: '<@UBOT> waits' });
    const waitingTs = await firstMessage(t, waiting);
    expect(versionsOf(t.slack, waitingTs)).toEqual([QUEUED]);
    await t.bot.stop(0);
    expect(versionsOf(t.slack, waitingTs).at(-1)).toBe(toMrkdwn(copy.notes.restart));
    expect(t.claude.requests.map(questionOf)).toEqual(['long one']);
  });

  test('a question that first waits for its user and then finds the process full shows the queued line, then its answer', async () => {
    t = await startTestBot({ SLACK_STREAMING: 'edits', USER_MAX_CONCURRENT: '1', MAX_CONCURRENT_ANSWERS: '1' });
    scriptClaude(t);
    await t.mention({ user: 'U1', text: '<@UBOT> long one' });
    await t.claude.waitForRequests(1);
    // U1's second question waits for U1's slot (the usual placeholder and the ephemeral); U2's for the process.
    const mine = await t.mention({ user: 'U1', text: '<@UBOT> mine' });
    const mineTs = await firstMessage(t, mine);
    const other = await t.mention({ user: 'U2', text: '<@UBOT> other question' });
    expect(versionsOf(t.slack, await firstMessage(t, other))).toEqual([QUEUED]);
    expect(versionsOf(t.slack, mineTs)).toEqual([THINKING]);

    await t.idle(30_000);
    // The freed slot went to U2's question, which waited for it longer: U1's then waited for the process, and said so.
    expect(t.claude.requests.map(questionOf)).toEqual(['long one', 'other question', 'mine']);
    const versions = versionsOf(t.slack, mineTs);
    expect(versions).toContain(QUEUED);
    expect(versions.at(-1)).toBe('answer to mine');
    const queuedAt = t.slack.messages.get(mineTs)!.versions[versions.indexOf(QUEUED)]!.at;
    expect(queuedAt).toBeGreaterThanOrEqual(requestFor(t, 'long one').endedAt!);
  }, 60_000);

  test('native transport: the queued reply is a posted message (no stream) answered with chat.update edits', async () => {
    t = await startTestBot({ SLACK_STREAMING: 'native', MAX_CONCURRENT_ANSWERS: '1' });
    scriptClaude(t);
    const long = await t.mention({ text: '<@UBOT> long one' });
    await t.claude.waitForRequests(1);
    const queued = await t.mention({ text: '<@UBOT> second' });
    const queuedTs = await firstMessage(t, queued);
    expect(versionsOf(t.slack, queuedTs)).toEqual([QUEUED]);

    await t.idle(30_000);
    const startedIn = t.slack.callsOf('chat.startStream').map((call) => call.params.thread_ts);
    expect(startedIn).toEqual([long.ts]);
    expect(versionsOf(t.slack, queuedTs).at(-1)).toBe('answer to second');
    expect(t.slack.callsOf('chat.update').filter((call) => call.params.ts === queuedTs).length).toBeGreaterThan(0);
  }, 60_000);

  test('a question waiting for a slot holds back no edit of the answers running: with 2 edits a minute the running answer still ends, then the waiting one', async () => {
    // Two chat.update a minute: a final that had to leave one for the final of a message still showing no text
    // (the waiting reply) could never be sent, and the waiting reply waits for that final's slot.
    t = await startTestBot({ SLACK_STREAMING: 'edits', MAX_CONCURRENT_ANSWERS: '1', USER_MAX_CONCURRENT: '1', SLACK_EDITS_PER_MINUTE: '2' });
    t.claude.scriptFor = (body) =>
      questionOf({ body } as RecordedRequest) === 'long one' ? { chunks: Array.from({ length: 20 }, (_, i) => `w${i} `), delayMs: 100 } : { chunks: ['done.'] };
    const long = await t.mention({ user: 'U1', text: '<@UBOT> long one' });
    await t.claude.waitForRequests(1);
    // One waits for the process (queued), one for its user's slot.
    const queued = await t.mention({ user: 'U2', text: '<@UBOT> queued' });
    const mine = await t.mention({ user: 'U1', text: '<@UBOT> mine' });
    await t.idle(90_000);
    expect(versionsOf(t.slack, await firstMessage(t, long)).at(-1)).toBe(Array.from({ length: 20 }, (_, i) => `w${i}`).join(' '));
    for (const event of [queued, mine]) expect(versionsOf(t.slack, await firstMessage(t, event)).at(-1)).toBe('done.');
  }, 120_000);

  // With SLACK_EDITS_PER_MINUTE 50, the edit budget kept back for 40 more finals left none for the running answer's progress.
  test('40 questions waiting for a slot leave the running answer its progress edits, not only its final', async () => {
    t = await startTestBot({ SLACK_STREAMING: 'edits', MAX_CONCURRENT_ANSWERS: '1' });
    scriptClaude(t);
    const long = await t.mention({ user: 'U1', text: '<@UBOT> long one' });
    await t.claude.waitForRequests(1);
    const waiting = await Promise.all(Array.from({ length: 40 }, (_, i) => t.mention({ user: `UW${i}`, text: `<@UBOT> q${i}` })));
    await Promise.all(waiting.map((event) => firstMessage(t, event)));
    const longTs = await firstMessage(t, long);
    await t.slack.waitFor(() => t.claude.requests.length > 1, 30_000);
    const queuedBy = Math.max(...waiting.map((event) => postedIn(t, event)!.at));
    const answeredAt = t.claude.requests[0]!.endedAt!;
    // Claude went on writing for seconds after the last question queued: edits showed that, not only the final.
    const progress = t.slack.messages.get(longTs)!.versions.filter((version) => version.at > queuedBy && version.at < answeredAt);
    expect(progress.length).toBeGreaterThanOrEqual(2);
  }, 60_000);
});

/** The replies the bot's sqlite file records as in flight (read-only, beside the running bot). */
function recordedReplies(dbPath: string): string[] {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    return db.prepare<[], { reply_ts: string }>('SELECT reply_ts FROM inflight').all().map((row) => row.reply_ts);
  } finally {
    db.close();
  }
}

describe('a crash while a question is queued', () => {
  const fakes = useFakeServers();

  test('kill -9: the next start answers the queued question once, in its queued message', async () => {
    const [slack, claude] = [fakes.slack(), fakes.claude()];
    const dbPath = join(mkdtempSync(join(tmpdir(), 'queued-crash-')), 'history.sqlite');
    const env = { SLACK_STREAMING: 'edits', MAX_CONCURRENT_ANSWERS: '1', HISTORY_DB_PATH: dbPath };
    const first = await spawnBot(slack, claude, env);
    // The first answer outlives the first process; every later one is quick.
    claude.scriptFor = (body) => {
      const question = questionOf({ body } as RecordedRequest);
      return { chunks: ['answer ', 'to ', question], delayMs: claude.requests.length === 1 ? 5_000 : 20 };
    };
    const long = mentionEvent({ user: 'U1', text: '<@UBOT> long one' });
    await deliverEvent(first.url, SIGNING_SECRET, long);
    await claude.waitForRequests(1, 10_000);
    const queued = mentionEvent({ user: 'U2', text: '<@UBOT> queued' });
    await deliverEvent(first.url, SIGNING_SECRET, queued);
    await slack.waitFor(() => slack.threadMessages(CHANNEL, queued.ts).length === 1);
    const queuedTs = slack.threadMessages(CHANNEL, queued.ts)[0]!.ts;
    expect(versionsOf(slack, queuedTs)).toEqual([QUEUED]);
    // The bot records the queued message once Slack has answered its post; the crash comes after that.
    await pollUntil(() => recordedReplies(dbPath).includes(queuedTs), 10_000, () => `in flight: ${recordedReplies(dbPath).join(', ')}`);
    first.child.kill('SIGKILL');
    await first.exited;

    const second = await spawnBot(slack, claude, env);
    try {
      await slack.waitFor(() => versionsOf(slack, queuedTs).at(-1) === 'answer to queued', 20_000);
      expect(slack.threadMessages(CHANNEL, queued.ts)).toHaveLength(1);
      expect(claude.requests.map((request) => questionOf(request)).filter((question) => question === 'queued')).toHaveLength(1);
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  }, 60_000);
});
