import type { StoredMessage } from '../fakes/fakeSlack.js';
import { deliverInteraction, feedbackClick } from '../fakes/slackRequests.js';
import { SIGNING_SECRET, startTestBot, type TestBot } from '../harness.js';

interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** The bot's messages in the thread of `threadTs`, oldest first, deleted ones left out. */
function replies(t: TestBot, threadTs: string): StoredMessage[] {
  return t.slack.threadMessages('C123', threadTs).filter((message) => !message.deleted);
}

/** Every block of every version of `message` (and of its creating post), flattened. */
function blockTypesEver(message: StoredMessage): string[] {
  return message.versions.flatMap((version) => (version.blocks ?? []).map((block) => (block as { type: string }).type));
}

/** ~10,000 characters of numbered paragraphs: three messages at Slack's text limit. */
function longAnswer(): string {
  return Array.from({ length: 100 }, (_, p) => Array.from({ length: 16 }, (_, w) => `w${p * 16 + w}`).join(' ')).join('\n\n');
}

describe('feedback buttons under final answers', () => {
  let t: TestBot;
  afterEach(() => t.stop());

  async function ask(text = '<@UBOT> question'): Promise<StoredMessage[]> {
    const event = await t.mention({ text });
    await t.idle();
    return replies(t, event.ts);
  }

  test("a finished answer's message carries the answer as section blocks and the feedback buttons, with text as fallback", async () => {
    t = await startTestBot({ EDIT_INTERVAL_MS: '100' });
    t.claude.enqueue({ chunks: ['The **answer** ', 'is 42.'], delayMs: 30 });
    const [reply] = await ask();
    expect(reply!.text).toBe('The *answer* is 42.');
    expect(reply!.blocks).toEqual([
      { type: 'section', text: { type: 'mrkdwn', text: 'The *answer* is 42.' } },
      {
        type: 'context_actions',
        elements: [
          {
            type: 'feedback_buttons',
            action_id: 'answer_feedback',
            positive_button: { text: { type: 'plain_text', text: expect.any(String) }, value: 'positive' },
            negative_button: { text: { type: 'plain_text', text: expect.any(String) }, value: 'negative' },
          },
        ],
      },
    ]);
    // Only the final version has the feedback buttons (earlier ones carry the Stop button instead).
    const earlierBlocks = reply!.versions.slice(0, -1).flatMap((version) => (version.blocks ?? []).map((block) => (block as { type: string }).type));
    expect(earlierBlocks).not.toContain('context_actions');
    expect(earlierBlocks).toContain('actions');
  });

  test("a long answer's earlier messages have no buttons; the last one has them, its sections within 3,000 characters", async () => {
    t = await startTestBot({ EDIT_INTERVAL_MS: '100', CLAUDE_MAX_TOKENS: '8000' });
    const markdown = longAnswer();
    const chunks = Array.from({ length: 50 }, (_, i) => markdown.slice(i * 200, (i + 1) * 200));
    t.claude.enqueue({ chunks, delayMs: 5 });
    const messages = await ask();
    expect(messages.length).toBeGreaterThanOrEqual(3);
    for (const earlier of messages.slice(0, -1)) {
      expect(blockTypesEver(earlier)).not.toContain('context_actions');
      expect(earlier.blocks ?? []).toEqual([]);
    }
    const last = messages.at(-1)!;
    const blocks = last.blocks as { type: string; text?: { text: string } }[];
    expect(blocks.at(-1)!.type).toBe('context_actions');
    const sections = blocks.slice(0, -1);
    expect(sections.length).toBeGreaterThan(0);
    expect(sections.every((block) => block.type === 'section' && block.text!.text.length <= 3000)).toBe(true);
    // The blocks show the same words as the text fallback.
    expect(sections.map((block) => block.text!.text).join(' ').split(/\s+/)).toEqual(last.text.split(/\s+/));
  });

  test('FEEDBACK_BUTTONS=off: answers are text only', async () => {
    t = await startTestBot({ EDIT_INTERVAL_MS: '100', FEEDBACK_BUTTONS: 'off' });
    t.claude.enqueue({ chunks: ['Plain ', 'answer.'], delayMs: 30 });
    const [reply] = await ask();
    expect(reply!.text).toBe('Plain answer.');
    expect(reply!.blocks ?? []).toEqual([]);
    expect(blockTypesEver(reply!)).not.toContain('context_actions');
  });

  test('a Slack that refuses the buttons still shows the answer, as text alone', async () => {
    t = await startTestBot({ EDIT_INTERVAL_MS: '100' });
    t.slack.unknownBlockTypes.add('context_actions');
    t.claude.enqueue({ chunks: ['Still ', 'readable.'], delayMs: 30 });
    const [reply] = await ask();
    expect(reply!.text).toBe('Still readable.');
    expect(reply!.blocks ?? []).toEqual([]);
    expect(t.logs.some((line) => line.includes('Slack refused the answer with buttons'))).toBe(true);
  });

  test("a failed answer's note has no buttons", async () => {
    t = await startTestBot({ EDIT_INTERVAL_MS: '100' });
    t.claude.enqueue({ httpError: { status: 400, type: 'invalid_request_error', message: 'messages: roles must alternate' } });
    const [reply] = await ask();
    expect(reply!.text).toMatch(/Claude rejected the request/);
    expect(reply!.blocks ?? []).toEqual([]);
    expect(blockTypesEver(reply!)).not.toContain('context_actions');
  });

  test('a click is acked, logged once as `feedback`, thanked with an ephemeral, and never edits the answer', async () => {
    t = await startTestBot({ EDIT_INTERVAL_MS: '100', CLAUDE_MODEL: 'claude-opus-5-5' });
    t.claude.enqueue({ chunks: ['Helpful answer.'], delayMs: 10 });
    const event = await t.mention({ text: '<@UBOT> help' });
    await t.idle();
    const answer = replies(t, event.ts)[0]!;
    const updatesBefore = t.slack.callsOf('chat.update').length;
    const logsBefore = t.logs.length;

    const click = feedbackClick({ value: 'negative', actionId: 'answer_feedback' }, { messageTs: answer.ts, channel: 'C123', threadTs: event.ts, user: 'U777', team: 'T0001' });
    const response = await deliverInteraction(t.url, SIGNING_SECRET, click);
    expect(response.status).toBe(200);
    await t.slack.waitFor(() => t.slack.callsOf('chat.postEphemeral').length > 0);

    const lines = t.logs.slice(logsBefore).map((line) => JSON.parse(line) as LogLine);
    const feedback = lines.filter((line) => line.msg === 'feedback');
    expect(feedback).toHaveLength(1);
    expect(feedback[0]).toMatchObject({ level: 30, team: 'T0001', channel: 'C123', messageTs: answer.ts, user: 'U777', value: 'negative', model: 'claude-opus-5-5' });
    expect(lines.filter((line) => line.level >= 50)).toEqual([]);

    const ephemerals = t.slack.callsOf('chat.postEphemeral');
    expect(ephemerals).toHaveLength(1);
    expect(ephemerals[0]!.params).toMatchObject({ channel: 'C123', user: 'U777', thread_ts: event.ts });
    expect(ephemerals[0]!.params.text).toMatch(/thank/i);
    expect(t.slack.callsOf('chat.update')).toHaveLength(updatesBefore);
  });
});
