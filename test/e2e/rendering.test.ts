import type { StoredMessage } from '../fakes/fakeSlack.js';
import { startTestBot, type TestBot } from '../harness.js';

/** Splits `text` into `n` chunks of similar size, as a stream would deliver it. */
function chunked(text: string, n: number): string[] {
  const size = Math.ceil(text.length / n);
  return Array.from({ length: Math.ceil(text.length / size) }, (_, i) => text.slice(i * size, (i + 1) * size));
}

/** A ~15,000-character answer: numbered words in paragraphs, with a 60-line code block in the middle. */
function longAnswer(): { markdown: string; words: number; codeLines: number } {
  const paragraph = (from: number) => Array.from({ length: 20 }, (_, i) => `w${from + i}`).join(' ');
  const paragraphs = (from: number, count: number) => Array.from({ length: count }, (_, i) => paragraph(from + i * 20));
  const code = Array.from({ length: 60 }, (_, i) => `    code_line_${i} = compute(${i})  # step ${i}`).join('\n');
  const before = paragraphs(0, 60);
  const after = paragraphs(1200, 60);
  const markdown = `${before.join('\n\n')}\n\n\`\`\`python\n${code}\n\`\`\`\n\n${after.join('\n\n')}`;
  return { markdown, words: 2400, codeLines: 60 };
}

/** The answer's messages in the thread (placeholder first), by their last version. */
function replyMessages(t: TestBot, threadTs: string): StoredMessage[] {
  return t.slack.threadMessages('C123', threadTs).filter((message) => !message.deleted);
}

const fenceCount = (text: string) => (text.match(/^```/gm) ?? []).length;

describe('answers that read right in Slack', () => {
  let t: TestBot;
  afterEach(() => t.stop());

  test('a 15,000-character answer continues across messages: every word once, in order, code in fences', async () => {
    t = await startTestBot({ EDIT_INTERVAL_MS: '200', CLAUDE_MAX_TOKENS: '4000' });
    t.slack.maxTextLength = 4000;
    const { markdown, words, codeLines } = longAnswer();
    expect(markdown.length).toBeGreaterThan(15_000);
    t.claude.enqueue({ chunks: chunked(markdown, 300), delayMs: 5, stopReason: 'max_tokens' });
    const event = await t.mention({ text: '<@UBOT> long one' });
    await t.idle(20_000);

    const messages = replyMessages(t, event.ts);
    expect(messages.length).toBeGreaterThanOrEqual(2);
    const finals = messages.map((message) => message.versions.at(-1)!.text);
    finals.forEach((text) => expect(text.length).toBeLessThanOrEqual(4000));
    finals.forEach((text) => expect(fenceCount(text) % 2).toBe(0));

    const seenWords = finals.join('\n').match(/\bw\d+\b/g)!.map((word) => Number(word.slice(1)));
    expect(seenWords).toEqual(Array.from({ length: words }, (_, i) => i));
    for (let line = 0; line < codeLines; line++) {
      const holders = finals.filter((text) => text.includes(`code_line_${line} =`));
      expect(holders).toHaveLength(1);
      // Inside a fence: an odd number of fence lines precede it in its message.
      const text = holders[0]!;
      expect(fenceCount(text.slice(0, text.indexOf(`code_line_${line} =`))) % 2).toBe(1);
    }
    // The note goes on the last message only; no message still says it is writing.
    expect(finals.at(-1)).toMatch(/Answer truncated/);
    finals.slice(0, -1).forEach((text) => expect(text).not.toMatch(/Answer truncated/));
    finals.forEach((text) => expect(text).not.toMatch(/still writing/));
    // No version of any message, while streaming, showed an unclosed fence.
    for (const message of messages) for (const version of message.versions) expect(fenceCount(version.text) % 2).toBe(0);
    // History keeps the whole answer once.
    const stored = await t.history.load({ teamId: 'T0001', channel: 'C123', threadTs: event.ts });
    expect(stored[0]!.answer).toBe(markdown);
  });

  test('Markdown renders as Slack mrkdwn: bold, link, heading, list, code fence, table; nothing Claude writes can notify', async () => {
    t = await startTestBot();
    const sample = [
      '# Caching',
      '',
      'Use **ETags** and read [the spec](https://example.com/rfc?a=1&b=2).',
      '',
      '- first',
      '- second',
      '  - nested',
      '',
      '```js',
      'const x = a < b && c > d;',
      '```',
      '',
      '| header | value |',
      '|---|---|',
      '| max-age | 60 |',
      '',
      'Ping @channel or <!here> or <@U999>.',
    ].join('\n');
    t.claude.enqueue({ chunks: chunked(sample, 8), delayMs: 20 });
    const event = await t.mention({ text: '<@UBOT> markdown please' });
    await t.idle();
    const final = replyMessages(t, event.ts)[0]!.versions.at(-1)!.text;
    expect(final).toContain('*Caching*');
    expect(final).not.toMatch(/^#/m);
    expect(final).toContain('*ETags*');
    expect(final).not.toContain('**');
    expect(final).toContain('<https://example.com/rfc?a=1&amp;b=2|the spec>');
    expect(final).toMatch(/^• first$/m);
    expect(final).toMatch(/^ {4}◦ nested$/m);
    expect(final).toContain('```\nconst x = a &lt; b &amp;&amp; c &gt; d;\n```');
    expect(final).toMatch(/```[^`]*header\s*\|\s*value[^`]*max-age\s*\|\s*60[^`]*```/);
    expect(final).not.toMatch(/<!channel>|<!here>|<@U999>/);
    expect(final).toContain('&lt;!here&gt;');
  });

  test('when Slack refuses a message as too long, the answer is split smaller, not lost, and a warning is logged', async () => {
    t = await startTestBot({ EDIT_INTERVAL_MS: '200' });
    t.slack.maxTextLength = 2000;
    const { markdown } = longAnswer();
    const text = markdown.slice(0, 5000);
    t.claude.enqueue({ chunks: chunked(text, 50), delayMs: 5 });
    const event = await t.mention({ text: '<@UBOT> long one' });
    await t.idle();
    const finals = replyMessages(t, event.ts).map((message) => message.versions.at(-1)!.text);
    finals.forEach((part) => expect(part.length).toBeLessThanOrEqual(2000));
    const seen = finals.join('\n').match(/\bw\d+\b/g)!;
    expect(seen).toEqual(text.match(/\bw\d+\b/g));
    expect(t.logs.join('')).toMatch(/Slack refused a message; splitting smaller/);
  });

  test('a retry from scratch reuses the messages already posted and removes the extra ones', async () => {
    t = await startTestBot({ EDIT_INTERVAL_MS: '100' });
    const { markdown } = longAnswer();
    t.claude.enqueue(
      { chunks: chunked(markdown.slice(0, 9000), 90), delayMs: 5, fail: { afterChunks: 85, how: 'error_event' } },
      { chunks: ['A short ', 'second answer.'], delayMs: 20 },
    );
    const event = await t.mention({ text: '<@UBOT> go' });
    await t.idle();
    const messages = replyMessages(t, event.ts);
    expect(messages).toHaveLength(1);
    expect(messages[0]!.versions.at(-1)!.text).toBe('A short second answer.');
    const posted = t.slack.callsOf('chat.postMessage').filter((call) => call.params.thread_ts === event.ts);
    expect(posted.length).toBeGreaterThan(1);
    expect(t.slack.callsOf('chat.delete')).toHaveLength(posted.length - 1);
  });
});
