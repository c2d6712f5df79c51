import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copy } from '../../src/copy.js';
import { toMrkdwn } from '../../src/slack/render.js';
import { deliverEvent, mentionEvent } from '../fakes/slackRequests.js';
import { replyCalls, SIGNING_SECRET, startTestBot, versionsOf, type TestBot } from '../harness.js';
import { spawnBot, useFakeServers } from '../processBot.js';

const PLACEHOLDER = toMrkdwn(copy.thinking);
const words = (n: number, prefix = 'w') => Array.from({ length: n }, (_, i) => `${prefix}${i} `);
/**
 * A workspace edit budget too short to pay a first text: with 2 chat.update a minute, the answer's own final
 * takes one, and a first text must leave it plus the margin every take keeps.
 */
const SHORT_BUDGET = { SLACK_EDITS_PER_MINUTE: '2', SLACK_STREAMING: 'edits' };

describe('first words fast while the edit budget is short (DESIGN.md §3 "Placeholder")', () => {
  let t: TestBot;
  afterEach(() => t.stop());

  test('the post waits for Claude’s first words and carries them: Slack never shows the bare placeholder', async () => {
    t = await startTestBot(SHORT_BUDGET);
    t.claude.enqueue({ chunks: words(12), firstTokenDelayMs: 300, delayMs: 100 });
    const event = await t.mention({ text: '<@UBOT> go' });
    await t.idle();

    const [post, ...more] = replyCalls(t.slack, event.ts);
    expect(more).toEqual([]);
    expect(String(post!.params.text)).toMatch(/^w0\b/);
    expect(String(post!.params.text)).toContain(toMrkdwn(copy.stillWriting));
    const versions = versionsOf(t.slack, post!.response.ts as string);
    expect(versions).not.toContain(PLACEHOLDER);
    expect(versions.at(-1)).toBe(words(12).join('').trim());
    // The words reached Slack with the post itself, not with an edit after it.
    expect(post!.at).toBeGreaterThan(t.claude.requests[0]!.chunkTimes[0]!);
  });

  test('a short answer that completes within the hold is posted once, final, with its feedback buttons, and never edited', async () => {
    t = await startTestBot(SHORT_BUDGET);
    t.claude.enqueue({ chunks: ['Short ', 'answer.'], firstTokenDelayMs: 100, delayMs: 20 });
    const event = await t.mention({ text: '<@UBOT> quick one' });
    await t.idle();

    const posts = t.slack.callsOf('chat.postMessage');
    expect(posts).toHaveLength(1);
    expect(posts[0]!.params.thread_ts).toBe(event.ts);
    expect(posts[0]!.params.text).toBe('Short answer.');
    const blockTypes = (posts[0]!.params.blocks as { type: string }[]).map((block) => block.type);
    expect(blockTypes).toContain('context_actions');
    expect(blockTypes).not.toContain('actions');
    expect(t.slack.callsOf('chat.update')).toEqual([]);
  });

  test('Claude silent for longer than the hold: the bare placeholder is posted first, then edited as usual', async () => {
    t = await startTestBot(SHORT_BUDGET);
    t.claude.enqueue({ chunks: ['Late ', 'but ', 'here.'], firstTokenDelayMs: 3_000, delayMs: 20 });
    const event = await t.mention({ text: '<@UBOT> slow one' });
    await t.idle();

    const [post, ...more] = replyCalls(t.slack, event.ts);
    expect(more).toEqual([]);
    expect(post!.params.text).toBe(PLACEHOLDER);
    expect(post!.at).toBeLessThan(t.claude.requests[0]!.chunkTimes[0]!);
    expect(versionsOf(t.slack, post!.response.ts as string).at(-1)).toBe('Late but here.');
  });

  test('a thinking answer: its first thinking line is progress enough, so the post carries it without waiting for text', async () => {
    t = await startTestBot({ ...SHORT_BUDGET, THINKING_DISPLAY: 'status' });
    t.claude.enqueue({ chunks: ['Thought ', 'it ', 'through.'], thinking: { chunks: words(6, 'step'), delayMs: 200 }, delayMs: 20 });
    const event = await t.mention({ text: '<@UBOT> think first' });
    await t.idle();

    const [post] = replyCalls(t.slack, event.ts);
    expect(String(post!.params.text)).toMatch(/^_Thinking… \d+ s_$/);
    expect(post!.at).toBeLessThan(t.claude.requests[0]!.chunkTimes[0]!);
    expect(versionsOf(t.slack, post!.response.ts as string).at(-1)).toBe('Thought it through.');
  });

  test('under a normal budget the placeholder is posted at once, before Claude’s first words', async () => {
    t = await startTestBot({ SLACK_STREAMING: 'edits' });
    t.claude.enqueue({ chunks: ['Plenty ', 'of ', 'budget.'], firstTokenDelayMs: 800, delayMs: 20 });
    const event = await t.mention({ text: '<@UBOT> normal' });
    await t.idle();

    const [post] = replyCalls(t.slack, event.ts);
    expect(post!.params.text).toBe(PLACEHOLDER);
    expect(post!.at).toBeLessThan(t.claude.requests[0]!.chunkTimes[0]!);
    expect(versionsOf(t.slack, post!.response.ts as string).at(-1)).toBe('Plenty of budget.');
  });
});

describe('a burst under the default budget (50 chat.update a minute)', () => {
  let t: TestBot;
  afterEach(() => t.stop());

  test('30 questions at once: the first few are posted at once, the rest hold for their first words, forecast from the rate they arrive', async () => {
    t = await startTestBot({ SLACK_STREAMING: 'edits', USER_MAX_CONCURRENT: '100' });
    for (let i = 0; i < 30; i++) t.claude.enqueue({ chunks: words(20), firstTokenDelayMs: 300, delayMs: 20 });
    const events = await Promise.all(Array.from({ length: 30 }, (_, i) => t.mention({ channel: `CB${i}`, text: `<@UBOT> burst ${i}` })));
    await t.idle(30_000);
    const firstPosts = events.map((event) => replyCalls(t.slack, event.ts)[0]!);
    const bare = firstPosts.filter((post) => post.params.text === PLACEHOLDER).length;
    // The bucket (50) would pay the finals and first texts of about 24 if no more came; the burst's rate says more come.
    expect(bare).toBeGreaterThan(0);
    expect(bare).toBeLessThan(15);
    for (const event of events) expect(versionsOf(t.slack, replyCalls(t.slack, event.ts)[0]!.response.ts as string).at(-1)).toBe(words(20).join('').trim());
  }, 40_000);
});

describe('a crash while the post is held', () => {
  const fakes = useFakeServers();

  test('kill -9 during the hold: the next start answers the question, once, in a new message', async () => {
    const [slack, claude] = [fakes.slack(), fakes.claude()];
    const env = { ...SHORT_BUDGET, HISTORY_DB_PATH: join(mkdtempSync(join(tmpdir(), 'first-words-')), 'history.sqlite') };
    const first = await spawnBot(slack, claude, env);
    // Silent for longer than the hold: the process dies while its post is still held.
    claude.enqueue({ chunks: ['never ', 'shown'], firstTokenDelayMs: 20_000 }, { chunks: ['Answered ', 'after ', 'all.'], delayMs: 20 });
    const event = mentionEvent({ text: '<@UBOT> survive the hold' });
    await deliverEvent(first.url, SIGNING_SECRET, event);
    await claude.waitForRequests(1, 10_000);
    first.child.kill('SIGKILL');
    await first.exited;
    expect(replyCalls(slack)).toEqual([]);

    const second = await spawnBot(slack, claude, env);
    try {
      await claude.waitForRequests(2, 10_000);
      await slack.waitFor(() => replyCalls(slack).length === 1 && versionsOf(slack, replyCalls(slack)[0]!.response.ts as string).at(-1) === 'Answered after all.', 10_000);
      expect(claude.requests[1]!.body.messages).toEqual([{ role: 'user', content: 'survive the hold' }]);
      expect(replyCalls(slack)[0]!.params.thread_ts).toBe(event.ts);
      expect(claude.requests).toHaveLength(2);
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  }, 40_000);
});
