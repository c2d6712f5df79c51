import type { Json } from '../fakes/httpUtil.js';
import type { RecordedCall, StoredMessage, StreamRefusal } from '../fakes/fakeSlack.js';
import { startTestBot, type StreamChunk, type TestBot } from '../harness.js';

// Issue #12 §1: the native transport (chat.startStream → appendStream → stopStream) through the real bot and
// the fakes, one test per behaviour and per fallback. Time is only ever bounded from below.

const CHANNEL = 'C123';
const EDIT_INTERVAL_MS = 300;
/** Our clock and the fake's (performance-based) clock may disagree by a millisecond or two. */
const CLOCK_SLACK_MS = 5;

/** Chunk fields as the fake records them (markdown_text, task_update). */
type Chunk = StreamChunk;

/** The bot on the fakes with SLACK_STREAMING=native (unless `env` says otherwise) and EDIT_INTERVAL_MS above. */
function startNative(env: Record<string, string> = {}): Promise<TestBot> {
  return startTestBot({ SLACK_STREAMING: 'native', EDIT_INTERVAL_MS: String(EDIT_INTERVAL_MS), ...env });
}

/** The bot's messages in a thread, oldest first, deleted ones left out. */
function replies(t: TestBot, threadTs: string, channel = CHANNEL): StoredMessage[] {
  return t.slack.threadMessages(channel, threadTs).filter((message) => !message.deleted);
}

/** Waits until the thread's agent session is `active` again (the bot sets it best-effort, after the final). */
function sessionEnded(t: TestBot, threadTs: string, channel = CHANNEL): Promise<void> {
  return t.slack.waitFor(() => t.slack.agentSession(channel, threadTs)?.status === 'active');
}

/** The ts of the message each call is about (startStream: the one it created). */
function tsOf(call: RecordedCall): string | undefined {
  return (call.params.ts ?? call.response?.ts) as string | undefined;
}

/** Calls of `method` about the message at `ts`, in answer order. */
function callsAbout(t: TestBot, method: string, ts: string): RecordedCall[] {
  return t.slack.callsOf(method).filter((call) => tsOf(call) === ts);
}

/** The chunks a call carried. */
function chunksOf(call: RecordedCall): Chunk[] {
  return (call.params.chunks as Chunk[] | undefined) ?? [];
}

/** The Markdown a streaming call carried. */
function markdownOf(call: RecordedCall): string {
  return chunksOf(call)
    .filter((chunk) => chunk.type === 'markdown_text')
    .map((chunk) => chunk.text!)
    .join('');
}

/** The words of a text, loosely: Markdown and mrkdwn marks, U+200B and punctuation dropped. */
function words(text: string): string[] {
  return text.replace(/\u200b/g, '').split(/[^\p{L}\p{N}]+/u).filter(Boolean);
}

/** `count` words w0 … w(count-1) as streamed deltas of `perChunk` words each. */
function wordChunks(count: number, perChunk = 1, from = 0): string[] {
  const all = Array.from({ length: count }, (_, i) => `w${from + i}`);
  const chunks: string[] = [];
  for (let i = 0; i < all.length; i += perChunk) chunks.push(`${i === 0 ? '' : ' '}${all.slice(i, i + perChunk).join(' ')}`);
  return chunks;
}

describe('native streaming: the happy path', () => {
  let t: TestBot;
  afterEach(() => t.stop());

  test('a mention streams in the thread: first words before Claude ends, appends paced, one stopStream with the rest and the buttons', async () => {
    t = await startNative();
    const chunks = wordChunks(30);
    const answer = chunks.join('');
    t.claude.enqueue({ chunks, delayMs: 60 });
    const event = await t.mention({ text: '<@UBOT> count for me' });
    await t.idle();

    const [start, ...otherStarts] = t.slack.callsOf('chat.startStream');
    expect(otherStarts).toEqual([]);
    expect(start!.params).toMatchObject({ channel: CHANNEL, thread_ts: event.ts, recipient_user_id: event.user, recipient_team_id: 'T0001' });
    expect(start!.response.ok).toBe(true);
    const ts = start!.response.ts as string;
    // The stream is the reply: nothing was posted, nothing edited.
    expect(t.slack.callsOf('chat.postMessage')).toEqual([]);
    expect(t.slack.callsOf('chat.update')).toEqual([]);

    const appends = callsAbout(t, 'chat.appendStream', ts).filter((call) => markdownOf(call) !== '');
    expect(appends.length).toBeGreaterThanOrEqual(2);
    const lastChunkAt = t.claude.requests[0]!.chunkTimes.at(-1)!;
    expect(appends[0]!.at).toBeLessThan(lastChunkAt);
    const allAppends = callsAbout(t, 'chat.appendStream', ts);
    for (let i = 1; i < allAppends.length; i++) expect(allAppends[i]!.at - allAppends[i - 1]!.at).toBeGreaterThanOrEqual(EDIT_INTERVAL_MS - CLOCK_SLACK_MS);

    const stops = callsAbout(t, 'chat.stopStream', ts);
    expect(stops).toHaveLength(1);
    const [stop] = stops;
    expect(stop!.response.ok).toBe(true);
    expect(markdownOf(stop!)).not.toBe('');
    expect((stop!.params.blocks as Json[]).map((block) => block.type)).toEqual(['context_actions']);
    expect(allAppends.every((call) => call.at < stop!.at)).toBe(true);

    const [reply, ...more] = replies(t, event.ts);
    expect(more).toEqual([]);
    expect(reply!.ts).toBe(ts);
    expect(reply!.text).toBe(answer);
    expect(appends.map(markdownOf).join('') + markdownOf(stop!)).toBe(answer);
    expect(t.slack.agentSession(CHANNEL, event.ts)?.history).toEqual(['processing', 'active']);
  });

  test('a DM streams too (recipient fields optional there)', async () => {
    t = await startNative();
    t.claude.enqueue({ chunks: ['Hello ', 'from ', 'a DM.'], delayMs: 50 });
    const event = await t.dm({ text: 'hi' });
    await t.idle();

    const [start] = t.slack.callsOf('chat.startStream');
    expect(start!.params).toMatchObject({ channel: 'D123' });
    expect(start!.response.ok).toBe(true);
    expect(t.slack.callsOf('chat.postMessage')).toEqual([]);
    const [reply] = replies(t, event.ts, 'D123');
    expect(reply!.ts).toBe(start!.response.ts);
    expect(reply!.text).toBe('Hello from a DM.');
    expect(reply!.stream?.state).toBe('completed');
  });
});

describe('native streaming: thinking as a task', () => {
  let t: TestBot;
  afterEach(() => t.stop());

  /** Two seconds of summarised thinking (10 sentences, 200 ms apart), then a short answer. */
  const thinksThenAnswers = {
    thinking: { chunks: Array.from({ length: 10 }, (_, i) => `Step ${i} of my reasoning. `), delayMs: 200 },
    chunks: ['The answer ', 'is 42.'],
    delayMs: 30,
  };

  /** Every chunk the stream got, in order, with the call that carried it. */
  function streamChunks(ts: string): { chunk: Chunk; call: RecordedCall }[] {
    return ['chat.startStream', 'chat.appendStream', 'chat.stopStream']
      .flatMap((method) => callsAbout(t, method, ts))
      .sort((a, b) => t.slack.calls.indexOf(a) - t.slack.calls.indexOf(b))
      .flatMap((call) => chunksOf(call).map((chunk) => ({ chunk, call })));
  }

  test('summary: in_progress with the latest sentence as details, then complete before the first text', async () => {
    t = await startNative({ THINKING_DISPLAY: 'summary' });
    t.claude.enqueue(thinksThenAnswers);
    const event = await t.mention();
    await t.idle();

    const ts = t.slack.callsOf('chat.startStream')[0]!.response.ts as string;
    const chunks = streamChunks(ts);
    const firstText = chunks.findIndex(({ chunk }) => chunk.type === 'markdown_text');
    expect(firstText).toBeGreaterThan(0);
    const tasks = chunks.filter(({ chunk }) => chunk.type === 'task_update');
    expect(tasks.every(({ chunk }) => chunk.id === 'thinking' && chunk.title === 'Thinking')).toBe(true);
    // Progress while Claude thought: each shows the newest complete sentence Claude had sent by then.
    const thinkingTimes = t.claude.requests[0]!.thinkingTimes;
    const progress = tasks.filter(({ chunk }) => chunk.status === 'in_progress' && chunk.details);
    expect(progress.length).toBeGreaterThanOrEqual(2);
    for (const { chunk, call } of progress) {
      const step = Number(/^Step (\d+) of my reasoning\.$/.exec(chunk.details!)?.[1]);
      expect(step).toBeLessThan(thinkingTimes.filter((at) => at <= call.at).length);
    }
    const steps = progress.map(({ chunk }) => chunk.details);
    expect(new Set(steps).size).toBe(steps.length);
    // The task completes before (or with) the first text, and never reopens.
    const completed = chunks.findIndex(({ chunk }) => chunk.type === 'task_update' && chunk.status === 'complete');
    expect(completed).toBeGreaterThan(chunks.indexOf(progress.at(-1)!));
    expect(completed).toBeLessThan(firstText);
    expect(chunks.slice(completed + 1).some(({ chunk }) => chunk.type === 'task_update')).toBe(false);
    expect(replies(t, event.ts)[0]!.text).toBe('The answer is 42.');
  });

  test('THINKING_DISPLAY=off: no task_update at all', async () => {
    t = await startNative({ THINKING_DISPLAY: 'off' });
    t.claude.enqueue(thinksThenAnswers);
    const event = await t.mention();
    await t.idle();

    const ts = t.slack.callsOf('chat.startStream')[0]!.response.ts as string;
    const chunks = streamChunks(ts);
    expect(chunks.filter(({ chunk }) => chunk.type === 'task_update')).toEqual([]);
    expect(replies(t, event.ts)[0]!.text).toBe('The answer is 42.');
  });
});

describe('native streaming: chat.startStream refused', () => {
  let t: TestBot;
  afterEach(() => t.stop());

  const REFUSALS: StreamRefusal[] = ['feature_disabled', 'not_allowed', 'unknown_method', 'channel_type_not_supported', 'messages_tab_disabled'];

  /** Asks in `channel` and waits for the answer; returns the question's event. */
  async function ask(text: string, chunks: string[], channel = CHANNEL): Promise<{ ts: string }> {
    t.claude.enqueue({ chunks, delayMs: 150 });
    const event = await t.mention({ text: `<@UBOT> ${text}`, channel });
    await t.idle();
    return event;
  }

  /** The answer came as a posted placeholder edited with chat.update into `text`. */
  function expectEdited(threadTs: string, text: string, channel = CHANNEL): void {
    const [reply, ...more] = replies(t, threadTs, channel);
    expect(more).toEqual([]);
    expect(reply!.stream).toBeUndefined();
    expect(t.slack.callsOf('chat.postMessage').some((call) => tsOf(call) === reply!.ts)).toBe(true);
    expect(callsAbout(t, 'chat.update', reply!.ts).length).toBeGreaterThanOrEqual(1);
    expect(reply!.text).toBe(text);
  }

  test.each(REFUSALS)('%s, auto: the answer arrives by edits, and the workspace stops trying for a while', async (code) => {
    t = await startNative({ SLACK_STREAMING: 'auto' });
    t.slack.refuseStreaming('T0001', code);
    const first = await ask('first', ['One ', 'two ', 'three.']);
    expect(t.slack.callsOf('chat.startStream').map((call) => call.response.error)).toEqual([code]);
    expectEdited(first.ts, 'One two three.');

    const second = await ask('second', ['Four ', 'five ', 'six.']);
    expectEdited(second.ts, 'Four five six.');
    expect(t.slack.callsOf('chat.startStream')).toHaveLength(1);
    if (code !== 'channel_type_not_supported') return;
    // Only that conversation cannot take streams: another one still tries.
    const elsewhere = await ask('elsewhere', ['Seven.'], 'C456');
    expect(t.slack.callsOf('chat.startStream').map((call) => call.params.channel)).toEqual([CHANNEL, 'C456']);
    expect(replies(t, elsewhere.ts, 'C456')[0]!.text).toBe('Seven.');
  });

  test.each(REFUSALS)('%s, native: the answer arrives by edits, and the next answer tries again', async (code) => {
    t = await startNative({ SLACK_STREAMING: 'native' });
    t.slack.refuseStreaming('T0001', code);
    const first = await ask('first', ['One ', 'two ', 'three.']);
    expectEdited(first.ts, 'One two three.');
    const second = await ask('second', ['Four ', 'five ', 'six.']);
    expectEdited(second.ts, 'Four five six.');
    expect(t.slack.callsOf('chat.startStream').map((call) => call.response.error)).toEqual([code, code]);
  });
});

describe('native streaming: no chat.startStream budget left', () => {
  let t: TestBot;
  afterEach(() => t.stop());

  test.each(['auto', 'native'])('%s: 25 questions at once start at most 20 streams; every answer completes, no 429', async (mode) => {
    t = await startNative({ SLACK_STREAMING: mode, MAX_CONCURRENT_ANSWERS: '100' });
    // Slack's tiers, per workspace: Tier 2 for start/stop, Tier 4 for appends, Tier 3 for chat.update.
    t.slack.rateLimit('chat.startStream', { perMinute: 20, burst: 20 });
    t.slack.rateLimit('chat.stopStream', { perMinute: 20, burst: 20 });
    t.slack.rateLimit('chat.appendStream', { perMinute: 100, burst: 100 });
    t.slack.rateLimit('chat.update', { perMinute: 50, burst: 50 });
    const answers = Array.from({ length: 25 }, (_, q) => wordChunks(6, 2, q * 100));
    t.claude.scriptFor = (body) => {
      const question = /ask-(\d+)-ask/.exec(JSON.stringify(body))![1]!;
      return { chunks: answers[Number(question)]!, delayMs: 100 };
    };
    const events = await Promise.all(answers.map((_, q) => t.mention({ text: `<@UBOT> ask-${q}-ask`, user: `U${q}` })));
    await t.idle(60_000);

    const starts = t.slack.callsOf('chat.startStream');
    expect(starts.length).toBeLessThanOrEqual(20);
    expect(starts.length).toBeGreaterThan(0);
    const threads = events.map((event) => replies(t, event.ts));
    expect(threads.every((messages) => messages.length === 1)).toBe(true);
    // The answers without a stream were posted and edited instead.
    const streamed = threads.filter(([message]) => message!.stream !== undefined);
    expect(streamed.length).toBe(starts.length);
    for (const [q, [message]] of threads.entries()) expect(words(message!.text)).toEqual(words(answers[q]!.join('')));
    expect(t.slack.count429()).toBe(0);
  });
});

describe('native streaming: Slack ends the stream early', () => {
  let t: TestBot;
  afterEach(() => t.stop());

  /** No call was answered `streaming_state_conflict` (chat.update on a message still streaming). */
  function expectNoConflict(): void {
    expect(t.slack.calls.filter((call) => call.response?.error === 'streaming_state_conflict')).toEqual([]);
  }

  test('the stream expires mid-answer: the same message is finished with chat.update, nothing lost', async () => {
    t = await startNative();
    t.slack.streamLifetimeMs = 1_000;
    const chunks = wordChunks(40);
    t.claude.enqueue({ chunks, delayMs: 75 });
    const event = await t.mention();
    await t.idle();

    const ts = t.slack.callsOf('chat.startStream')[0]!.response.ts as string;
    expect(t.slack.calls.some((call) => call.response?.error === 'message_not_in_streaming_state')).toBe(true);
    const [reply, ...more] = replies(t, event.ts);
    expect(more).toEqual([]);
    expect(reply!.ts).toBe(ts);
    expect(callsAbout(t, 'chat.update', ts).at(-1)!.response.ok).toBe(true);
    expect(reply!.text).toBe(chunks.join(''));
    expectNoConflict();
    await sessionEnded(t, event.ts);
  });

  /** About 25,000 characters of paragraphs of 16 numbered words, each word `wrap`ped (e.g. in `**` for bold). */
  function longAnswer(wrap = ''): string {
    const paragraphs = wrap ? 200 : 260;
    return Array.from({ length: paragraphs }, (_, p) => Array.from({ length: 16 }, (_, w) => `${wrap}w${p * 16 + w}${wrap}`).join(' ')).join('\n\n');
  }

  /** Streams `markdown` in 500-character deltas over about two seconds. */
  function enqueueLong(markdown: string): void {
    t.claude.enqueue({ chunks: markdown.match(/[\s\S]{1,500}/g)!, delayMs: 40 });
  }

  // Bold words render shorter as mrkdwn (`*w1*`) than the Markdown the stream carries (`**w1**`).
  test.each([
    ['plain', ''],
    ['bold', '**'],
  ])('a long answer (%s): the stream is stopped at a paragraph below the cap and the answer continues in further messages', async (_shape, wrap) => {
    t = await startNative();
    const markdown = longAnswer(wrap);
    expect(markdown.length).toBeGreaterThan(24_000);
    enqueueLong(markdown);
    const event = await t.mention();
    await t.idle(30_000);

    const ts = t.slack.callsOf('chat.startStream')[0]!.response.ts as string;
    const [first, ...rest] = replies(t, event.ts);
    expect(first!.ts).toBe(ts);
    expect(first!.stream?.state).toBe('completed');
    expect(callsAbout(t, 'chat.stopStream', ts).map((call) => call.response.ok)).toEqual([true]);
    expect(callsAbout(t, 'chat.update', ts)).toEqual([]);
    expect(first!.text.length).toBeLessThan(12_000);
    // Cut at a paragraph: the rest of the answer starts with a new paragraph.
    const head = first!.text.trimEnd();
    expect(markdown.startsWith(head)).toBe(true);
    expect(markdown.slice(head.length)).toMatch(/^\n\n/);
    expect(rest.length).toBeGreaterThanOrEqual(2);
    expect(rest.every((message) => message.stream === undefined)).toBe(true);
    expect(replies(t, event.ts).flatMap((message) => words(message.text))).toEqual(words(markdown));
    expect(t.slack.calls.filter((call) => call.response?.error === 'msg_too_long')).toEqual([]);
    expectNoConflict();
    await sessionEnded(t, event.ts);
  });

  test('a stream Slack fills earlier than expected (msg_too_long on an append): the answer is still complete', async () => {
    t = await startNative();
    t.slack.streamMaxChars = 3_000;
    const markdown = longAnswer();
    enqueueLong(markdown);
    const event = await t.mention();
    await t.idle(30_000);

    expect(t.slack.callsOf('chat.appendStream').some((call) => call.response.error === 'msg_too_long')).toBe(true);
    const messages = replies(t, event.ts);
    expect(messages[0]!.ts).toBe(t.slack.callsOf('chat.startStream')[0]!.response.ts);
    expect(messages.flatMap((message) => words(message.text))).toEqual(words(markdown));
    expectNoConflict();
    await sessionEnded(t, event.ts);
  });
});

describe("Claude's text never pings or links, on either transport", () => {
  let t: TestBot;
  afterEach(() => t.stop());

  const HOSTILE = '<!channel> <!here> <@U999> <#C999> <https://evil.example|click> @channel @here @everyone';
  /** Slack's live syntax: an entity right after `<`, a labelled link, or a bare broadcast mention. */
  const LIVE = [/<[!@#]/, /<https?:[^>]*\|/i, /(?<!\u200b)@(?:channel|here|everyone)/i];

  /** What a reader sees of a message: U+200B dropped, mrkdwn's escapes decoded. */
  function asWritten(text: string): string {
    return text.replace(/\u200b/g, '').replace(/%7C/g, '|').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  }

  /** Every string anywhere in `value`, with the path that leads to it. */
  function strings(value: Json, path: string): { path: string; text: string }[] {
    if (typeof value === 'string') return [{ path, text: value }];
    if (Array.isArray(value)) return value.flatMap((item, index) => strings(item, `${path}[${index}]`));
    if (value !== null && typeof value === 'object') return Object.entries(value).flatMap(([key, item]) => strings(item as Json, `${path}.${key}`));
    return [];
  }

  test.each(['native', 'edits'])('SLACK_STREAMING=%s: no call carries live Slack syntax in any field', async (mode) => {
    t = await startNative({ SLACK_STREAMING: mode });
    // Split inside the entities too, as Claude's deltas may be; the thinking shown says it as well.
    t.claude.enqueue({
      thinking: { chunks: [`First ${HOSTILE}. `, `Then ${HOSTILE}. `, 'Done thinking. '], delayMs: 400 },
      chunks: ['Hi ', HOSTILE.slice(0, 30), HOSTILE.slice(30, 61), HOSTILE.slice(61), ' bye.'],
      delayMs: 150,
    });
    const event = await t.mention({ text: '<@UBOT> say something' });
    await t.idle();

    const [reply] = replies(t, event.ts);
    // Shown as Claude wrote it: only invisible breaks (native) or escapes (mrkdwn) were added.
    expect(asWritten(reply!.text)).toBe(`Hi ${HOSTILE} bye.`);
    expect(t.slack.callsOf(mode === 'native' ? 'chat.stopStream' : 'chat.update').length).toBeGreaterThan(0);
    // The hostile thinking was shown too (as the task's details, or the thinking line).
    const thinkingShown = t.slack.calls.flatMap((call) => strings(call.params, call.method)).filter(({ text }) => /(First|Then) .*U999/.test(text));
    expect(thinkingShown.length).toBeGreaterThan(0);
    const live = t.slack.calls
      .flatMap((call, index) => strings(call.params, `${index}:${call.method}`))
      .filter(({ text }) => LIVE.some((pattern) => pattern.test(text)));
    expect(live).toEqual([]);
  });
});

describe('native streaming: a retry and a rate limit', () => {
  let t: TestBot;
  afterEach(() => t.stop());

  test("a mid-stream failure and a retry: the message ends as the second attempt's text alone, by chat.update after the stream was stopped", async () => {
    t = await startNative({ STREAM_RETRIES: '1' });
    t.claude.enqueue(
      { chunks: ['Alpha ', 'beta ', 'gamma ', 'delta ', 'epsilon ', 'zeta ', 'eta '], delayMs: 150, fail: { afterChunks: 5, how: 'drop' } },
      { chunks: ['Second ', 'attempt ', 'says ', 'this ', 'instead.'], delayMs: 100 },
    );
    const event = await t.mention();
    await t.idle(20_000);

    const ts = t.slack.callsOf('chat.startStream')[0]!.response.ts as string;
    // The first attempt was streamed before it broke.
    expect(callsAbout(t, 'chat.appendStream', ts).some((call) => markdownOf(call).includes('Alpha'))).toBe(true);
    const [reply, ...more] = replies(t, event.ts);
    expect(more).toEqual([]);
    expect(reply!.ts).toBe(ts);
    expect(reply!.text).toBe('Second attempt says this instead.');
    const stops = callsAbout(t, 'chat.stopStream', ts);
    const updates = callsAbout(t, 'chat.update', ts);
    expect(stops.length).toBeGreaterThanOrEqual(1);
    expect(updates.length).toBeGreaterThanOrEqual(1);
    expect(stops[0]!.response.ok).toBe(true);
    expect(t.slack.calls.indexOf(stops[0]!)).toBeLessThan(t.slack.calls.indexOf(updates[0]!));
    expect(t.slack.calls.filter((call) => call.response?.error === 'streaming_state_conflict')).toEqual([]);
    await sessionEnded(t, event.ts);
  });

  test('a 429 on chat.appendStream: the appends wait for Retry-After, and the answer completes', async () => {
    t = await startNative();
    t.slack.failNext('chat.appendStream', { status: 429, retryAfter: 1 });
    const chunks = wordChunks(50);
    t.claude.enqueue({ chunks, delayMs: 60 });
    const event = await t.mention();
    await t.idle();

    const ts = t.slack.callsOf('chat.startStream')[0]!.response.ts as string;
    const appends = callsAbout(t, 'chat.appendStream', ts);
    const limited = appends.findIndex((call) => call.status === 429);
    expect(limited).toBeGreaterThanOrEqual(0);
    const next = appends[limited + 1];
    expect(next).toBeDefined();
    expect(next!.at - appends[limited]!.at).toBeGreaterThanOrEqual(1_000 - CLOCK_SLACK_MS);
    expect(replies(t, event.ts).map((message) => message.text)).toEqual([chunks.join('')]);
  });
});
