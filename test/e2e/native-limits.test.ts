// Found by attacking the native transport: sizes and boundaries on the native transport.
import type { RecordedCall, StoredMessage } from '../fakes/fakeSlack.js';
import { startTestBot, type TestBot } from '../harness.js';

const CHANNEL = 'C123';

function replies(t: TestBot, threadTs: string): StoredMessage[] {
  return t.slack.threadMessages(CHANNEL, threadTs).filter((message) => !message.deleted);
}

function markdownOf(call: RecordedCall): string {
  return ((call.params.chunks as { type: string; text?: string }[] | undefined) ?? [])
    .filter((chunk) => chunk.type === 'markdown_text')
    .map((chunk) => chunk.text!)
    .join('');
}

/** Strips what the bot may add for display: U+200B, code fence lines, mrkdwn escapes. */
function plain(text: string): string {
  return text.replace(/\u200b/g, '').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** Streams `markdown` in `size`-character deltas. */
function enqueue(t: TestBot, markdown: string, size = 400, delayMs = 30): void {
  const chunks: string[] = [];
  // Code-point aware, so a delta never splits an emoji.
  const cps = Array.from(markdown);
  for (let i = 0; i < cps.length; i += size) chunks.push(cps.slice(i, i + size).join(''));
  t.claude.enqueue({ chunks, delayMs });
}

describe('native streaming of text without spaces', () => {
  let t: TestBot;
  afterEach(() => t.stop());

  test('a Japanese answer (no spaces) streams: some text is appended before Claude has finished', async () => {
    t = await startTestBot({ SLACK_STREAMING: 'native', EDIT_INTERVAL_MS: '200' });
    const sentence = 'これは日本語の長い回答です。句読点はありますが空白はありません。';
    const markdown = sentence.repeat(40);
    enqueue(t, markdown, 20, 60);
    const event = await t.mention();
    await t.idle(30_000);
    const ts = t.slack.callsOf('chat.startStream')[0]!.response.ts as string;
    const lastChunkAt = t.claude.requests[0]!.chunkTimes.at(-1)!;
    const appendedBefore = t.slack
      .callsOf('chat.appendStream')
      .filter((call) => call.params.ts === ts && call.at < lastChunkAt)
      .map(markdownOf)
      .join('');
    expect(replies(t, event.ts)[0]!.text).toBe(markdown);
    // What the user saw while Claude wrote (about 4 s of it):
    expect(appendedBefore.length).toBeGreaterThan(0);
  }, 40_000);
});

describe('the 10,000-character seal', () => {
  let t: TestBot;
  afterEach(() => t.stop());

  async function run(markdown: string): Promise<{ messages: StoredMessage[]; ts: string }> {
    t = await startTestBot({ SLACK_STREAMING: 'native', EDIT_INTERVAL_MS: '200' });
    enqueue(t, markdown);
    const event = await t.mention();
    await t.idle(60_000);
    return { messages: replies(t, event.ts), ts: t.slack.callsOf('chat.startStream')[0]!.response.ts as string };
  }

  function expectClean(): void {
    expect(t.slack.calls.filter((call) => call.response?.error === 'streaming_state_conflict')).toEqual([]);
    expect(t.slack.calls.filter((call) => call.method.startsWith('chat.') && call.response?.ok === false).map((c) => `${c.method}:${c.response.error}`)).toEqual([]);
  }

  test('one code block of 15,000 characters: the stream is sealed (not handed over) and no line is lost', async () => {
    const lines = Array.from({ length: 700 }, (_, i) => `const value${String(i).padStart(4, '0')} = ${i};`);
    const markdown = `Here is the code:\n\n\`\`\`ts\n${lines.join('\n')}\n\`\`\`\n\nThat is all.`;
    expect(markdown.length).toBeGreaterThan(14_000);
    const { messages, ts } = await run(markdown);
    const all = messages.map((m) => plain(m.text)).join('\n');
    for (const line of lines) expect(all).toContain(line);
    expect(all).toContain('That is all.');
    // The first message was the stream, sealed at the cut: never rewritten with chat.update.
    expect(messages[0]!.ts).toBe(ts);
    expect(t.slack.callsOf('chat.update').filter((c) => c.params.ts === ts)).toEqual([]);
    expect(messages[0]!.text.length).toBeLessThan(12_000);
    expectClean();
  }, 70_000);

  test('one paragraph of 15,000 characters (no blank line): sealed, nothing lost', async () => {
    const words = Array.from({ length: 2200 }, (_, i) => `word${i}`);
    const markdown = words.join(' ');
    const { messages, ts } = await run(markdown);
    expect(messages.flatMap((m) => plain(m.text).split(/\s+/).filter(Boolean))).toEqual(words);
    expect(messages[0]!.ts).toBe(ts);
    expect(t.slack.callsOf('chat.update').filter((c) => c.params.ts === ts)).toEqual([]);
    expectClean();
  }, 70_000);

  test('emoji and CJK paragraphs around the seal: nothing lost, no broken surrogate', async () => {
    const para = (i: number) => `${'😀🎉'.repeat(30)} 第${i}段落の文章です。 ${'𠮷'.repeat(20)}`;
    const markdown = Array.from({ length: 150 }, (_, i) => para(i)).join('\n\n');
    expect(markdown.length).toBeGreaterThan(15_000);
    const { messages } = await run(markdown);
    const text = messages.map((m) => plain(m.text)).join('\n\n');
    expect(text.replace(/\s+/g, '')).toBe(markdown.replace(/\s+/g, ''));
    // No lone surrogate anywhere on the wire.
    const lone = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
    expect(t.slack.calls.filter((c) => lone.test(JSON.stringify(c.params).replace(/\\u[0-9a-f]{4}/gi, (m) => String.fromCharCode(parseInt(m.slice(2), 16)))))).toEqual([]);
    expectClean();
  }, 70_000);

  test('a 6,000-character paragraph then an 8,000-character one: the seal must not cut behind what was already streamed', async () => {
    const words = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `${tag}${i}`);
    const p1 = words(1300, 'a');
    const p2 = words(1700, 'b');
    const markdown = `${p1.join(' ')}\n\n${p2.join(' ')}`;
    expect(p1.join(' ').length).toBeGreaterThan(6_000);
    const { messages, ts } = await run(markdown);
    expect(messages.flatMap((m) => plain(m.text).split(/\s+/).filter(Boolean))).toEqual([...p1, ...p2]);
    expect(messages[0]!.ts).toBe(ts);
    // Sealed: the streamed message keeps what it streamed, no chat.update rewrites it.
    expect(t.slack.callsOf('chat.update').filter((c) => c.params.ts === ts)).toEqual([]);
    expectClean();
  }, 70_000);

  test('6,000 characters of prose, then a 6,000-character code block: the seal must not cut behind what was already streamed', async () => {
    const prose = Array.from({ length: 85 }, (_, p) => `Paragraph ${p} says something useful about the code below, at some length.`).join('\n\n');
    const lines = Array.from({ length: 300 }, (_, i) => `const value${String(i).padStart(4, '0')} = ${i};`);
    const markdown = `${prose}\n\n\`\`\`ts\n${lines.join('\n')}\n\`\`\`\n\nDone.`;
    expect(prose.length).toBeGreaterThan(5_000);
    const { messages, ts } = await run(markdown);
    const all = messages.map((m) => plain(m.text)).join('\n');
    for (const line of lines) expect(all).toContain(line);
    expect(messages[0]!.ts).toBe(ts);
    expect(t.slack.callsOf('chat.update').filter((c) => c.params.ts === ts)).toEqual([]);
    expectClean();
  }, 70_000);
});
