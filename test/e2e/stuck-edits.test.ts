import { copy } from '../../src/copy.js';
import { toMrkdwn } from '../../src/slack/render.js';
import { startTestBot, versionsOf, type TestBot } from '../harness.js';

const STILL_WRITING = toMrkdwn(copy.stillWriting);
const PLACEHOLDER = toMrkdwn(copy.thinking);
const words = (n: number) => Array.from({ length: n }, (_, i) => `word${i} `);

/** The texts the thread of `threadTs` shows now (deleted messages left out), oldest first. */
const shown = (t: TestBot, threadTs: string) =>
  t.slack
    .threadMessages('C123', threadTs)
    .filter((message) => !message.deleted)
    .map((message) => message.text);

/** True when no message of the thread is left unfinished (placeholder, "…still writing", a retry notice). */
const finished = (texts: string[]) =>
  texts.length > 0 && texts.every((text) => text !== PLACEHOLDER && !text.includes(STILL_WRITING) && !text.includes('Trying again'));

describe('stuck answers: a failed edit never leaves the message unfinished', () => {
  let t: TestBot;
  afterEach(() => t.stop());

  test('a 429 without Retry-After on an edit (a proxy in front of Slack) pauses edits; the answer still ends on its full text', async () => {
    t = await startTestBot({ EDIT_INTERVAL_MS: '200' });
    t.claude.enqueue({ chunks: words(20), delayMs: 100 });
    const event = await t.mention({ text: '<@UBOT> count' });
    await t.slack.waitFor(() => t.slack.callsOf('chat.update').length >= 1);
    t.slack.failNext('chat.update', { status: 429, noRetryAfter: true });
    await t.idle(30_000);
    expect(t.slack.count429('chat.update')).toBe(1);
    expect(shown(t, event.ts)).toEqual([words(20).join('').trim()]);
  }, 40_000);

  test('an edit refused with a code Slack does not document for it is skipped: the answer goes on and ends final', async () => {
    t = await startTestBot({ EDIT_INTERVAL_MS: '100' });
    t.claude.enqueue({ chunks: ['Hello', ' there', ' friend'], delayMs: 300 });
    t.slack.failNext('chat.update', { error: 'team_access_not_granted' });
    const event = await t.mention({ text: '<@UBOT> hello' });
    await t.idle(20_000);
    expect(t.slack.callsOf('chat.update')[0]!.response.error).toBe('team_access_not_granted');
    expect(shown(t, event.ts)).toEqual(['Hello there friend']);
  }, 30_000);

  test('a final edit refused with an unknown code (edit_window_closed) is sent again', async () => {
    t = await startTestBot({ EDIT_INTERVAL_MS: '100' });
    t.claude.enqueue({ chunks: ['Hi'] });
    // The first text's edit and the final edit are both refused (or the final twice, if no first text was sent).
    t.slack.failNext('chat.update', { error: 'edit_window_closed' }, 2);
    const event = await t.mention({ text: '<@UBOT> hi' });
    await t.idle(20_000);
    const replyTs = t.slack.callsOf('chat.postMessage')[0]!.response.ts as string;
    const refused = t.slack.callsOf('chat.update').filter((call) => call.response.error === 'edit_window_closed');
    expect(refused.map((call) => call.params.text)).toContain('Hi');
    expect(versionsOf(t.slack, replyTs).at(-1)).toBe('Hi');
    expect(shown(t, event.ts)).toEqual(['Hi']);
  }, 30_000);

  test('an answer that renders to nothing (a bare link definition, &nbsp;, an empty link) ends on the empty-answer note', async () => {
    t = await startTestBot({ EDIT_INTERVAL_MS: '100' });
    for (const answer of ['[a]: http://b', '&nbsp;', '[]()']) {
      t.claude.enqueue({ chunks: [answer] });
      const event = await t.mention({ text: '<@UBOT> say nothing' });
      await t.idle(20_000);
      expect(shown(t, event.ts)).toEqual([toMrkdwn(copy.empty)]);
    }
  }, 40_000);

  test('an answer the renderer cannot render, or Slack cannot take in any size, still ends readable', async () => {
    t = await startTestBot({ EDIT_INTERVAL_MS: '100' });
    t.slack.maxTextLength = 4000;
    const table = `| ${Array.from({ length: 300 }, (_, i) => `col${i}`).join(' | ')} |\n|${'---|'.repeat(300)}\n| ${Array.from({ length: 300 }, () => 'v').join(' | ')} |`;
    for (const answer of ['Here you go:\n\n' + '>'.repeat(4000), table]) {
      t.claude.enqueue({ chunks: [answer] });
      const event = await t.mention({ text: '<@UBOT> something hard' });
      await t.idle(30_000);
      const texts = shown(t, event.ts);
      expect(finished(texts)).toBe(true);
      expect(texts.every((text) => text.trim() !== '')).toBe(true);
    }
  }, 60_000);
});
