import { copy } from '../../src/copy.js';
import { toMrkdwn } from '../../src/slack/render.js';
import type { StreamScript } from '../fakes/fakeAnthropic.js';
import { editsOnly, firstReplyVersions, onNativeStreams, replyCalls, replyTs, startTestBot, stillThinking, thinkingTasks, versionsOf, type TestBot } from '../harness.js';

const EDIT_INTERVAL_MS = 1000;
const PLACEHOLDER = '_Thinking…_';
const THINKING_LINE = /^_Thinking(: |… \d+ s_)/;

/** 3 s of summarised thinking (15 sentences, 200 ms apart), then a short answer. */
const thinksThenAnswers = (): StreamScript => ({
  firstTokenDelayMs: 100,
  thinking: { chunks: Array.from({ length: 15 }, (_, i) => `Step ${i} of my reasoning about *this* question. `), delayMs: 200 },
  chunks: ['The answer ', 'is 42.'],
  delayMs: 20,
});

/** Every version of the first reply with the time Slack applied it. */
function timedVersions(t: TestBot): { text: string; at: number }[] {
  return t.slack.messages.get(replyTs(t.slack))!.versions;
}

/**
 * The thinking sentences the first reply showed, with when Slack showed each: an edited message's
 * `_Thinking: …_` lines (a line not exactly of that form is kept whole, so assertions on the sentence catch
 * it), a native stream's thinking task details.
 */
function sentencesShown(t: TestBot): { sentence: string; at: number }[] {
  const lines = timedVersions(t)
    .filter(({ text }) => text.startsWith('_Thinking: '))
    .map(({ text, at }) => ({ sentence: /^_Thinking: (.*)_$/.exec(text)?.[1] ?? text, at }));
  const tasks = thinkingTasks(t.slack, replyTs(t.slack)).flatMap(({ status, details, at }) => (status === 'in_progress' && details ? [{ sentence: details, at }] : []));
  return [...tasks, ...lines].sort((a, b) => a.at - b.at);
}

/** When the first reply showed any thinking: a thinking line (edits) or the thinking task in progress (native stream). */
function thinkingTimes(t: TestBot): number[] {
  const lines = timedVersions(t).filter(({ text }) => THINKING_LINE.test(text));
  const tasks = thinkingTasks(t.slack, replyTs(t.slack)).filter(({ status }) => status === 'in_progress');
  return [...lines, ...tasks].map(({ at }) => at);
}

/** How the answer ended: the "answer finished" log line. */
function finishedLine(t: TestBot): Record<string, unknown> {
  const line = t.logs.map((raw) => JSON.parse(raw) as Record<string, unknown>).find((entry) => entry.msg === 'answer finished');
  if (!line) throw new Error('no "answer finished" line');
  return line;
}

describe('Claude thinks: what the user sees', () => {
  let t: TestBot;
  afterEach(() => t.stop());

  test('summary: the latest thinking sentence within EDIT_INTERVAL_MS of the first thinking delta, then the answer; the final and history hold only text', async () => {
    t = await startTestBot({ EDIT_INTERVAL_MS: String(EDIT_INTERVAL_MS), THINKING_DISPLAY: 'summary' });
    t.claude.enqueue(thinksThenAnswers());
    const event = await t.mention({ text: '<@UBOT> what is the answer?' });
    await t.idle(20_000);

    const versions = timedVersions(t);
    const deltaTimes = t.claude.requests[0]!.thinkingTimes;
    const sentences = sentencesShown(t);
    expect(sentences[0]).toBeDefined();
    // Within EDIT_INTERVAL_MS of the first thinking delta, told on the fake's own clock (its deltas come 200 ms
    // apart, and come later still on a loaded machine): before the delta sent EDIT_INTERVAL_MS + 2 deltas after it.
    expect(sentences[0]!.at).toBeLessThan(deltaTimes[EDIT_INTERVAL_MS / 200 + 2]!);
    // The shown sentence is Claude's, one line, and its Markdown cannot break our italics.
    expect(sentences[0]!.sentence).toMatch(/^Step \d+ of my reasoning about this question\.$/);
    // Progress kept coming while Claude thought (3 s at one edit a second).
    expect(sentences.length).toBeGreaterThanOrEqual(2);
    const firstAnswer = versions.find((version) => version.text.startsWith('The answer'))!;
    expect(thinkingTimes(t).filter((at) => at >= firstAnswer.at)).toEqual([]);
    expect(versions.at(-1)!.text).toBe('The answer is 42.');
    expect(await t.history.load({ teamId: 'T0001', channel: 'C123', threadTs: event.ts })).toEqual([
      { question: 'what is the answer?', answer: 'The answer is 42.', questionTs: event.ts },
    ]);
  });

  // The clock is a line of the edited message; a native stream shows Slack's own progress for its thinking task.
  editsOnly('status: "Thinking… N s" refreshed while Claude thinks, then the answer; no edit after the final', async () => {
    t = await startTestBot({ EDIT_INTERVAL_MS: '300', THINKING_DISPLAY: 'status' });
    t.claude.enqueue(thinksThenAnswers());
    await t.mention();
    await t.idle(20_000);
    const texts = firstReplyVersions(t.slack);
    const clock = texts.filter((text) => /^_Thinking… \d+ s_$/.test(text));
    // About 3 s of thinking: the seconds count up, one edit per change.
    expect(clock.length).toBeGreaterThanOrEqual(2);
    expect(new Set(clock).size).toBe(clock.length);
    expect(texts.at(-1)).toBe('The answer is 42.');
    const edits = t.slack.callsOf('chat.update').length;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(t.slack.callsOf('chat.update')).toHaveLength(edits);
  });

  test('status: a stream that fails while Claude thinks ends on the failure message, and the clock stops with it', async () => {
    t = await startTestBot({ EDIT_INTERVAL_MS: '200', THINKING_DISPLAY: 'status', STREAM_RETRIES: '0' });
    t.claude.enqueue({ ...thinksThenAnswers(), fail: { afterChunks: 0, how: 'error_event' } });
    await t.mention();
    await t.idle(20_000);
    const texts = firstReplyVersions(t.slack);
    if (onNativeStreams) {
      // The stream shows the thinking task from its start, and completes it with the final.
      expect(thinkingTasks(t.slack, replyTs(t.slack)).map(({ status }) => status)).toEqual(['in_progress', 'complete']);
    } else expect(texts.some((text) => /^_Thinking… \d+ s_$/.test(text))).toBe(true);
    expect(texts.at(-1)).toBe(copy.failures.interrupted);
    const ts = replyTs(t.slack);
    const callsAboutReply = () => t.slack.calls.filter((call) => call.params.ts === ts).length;
    const calls = callsAboutReply();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(callsAboutReply()).toBe(calls);
  });

  test('off: the placeholder (an empty stream) only until the answer', async () => {
    t = await startTestBot({ THINKING_DISPLAY: 'off' });
    t.claude.enqueue(thinksThenAnswers());
    await t.mention();
    await t.idle(20_000);
    const texts = firstReplyVersions(t.slack);
    expect(texts[0]).toBe(onNativeStreams ? '' : PLACEHOLDER);
    expect(thinkingTasks(t.slack, replyTs(t.slack))).toEqual([]);
    expect(texts.slice(1).some((text) => THINKING_LINE.test(text))).toBe(false);
    expect(texts.at(-1)).toBe('The answer is 42.');
  });

  test('a retry from scratch shows thinking again after "Trying again…", then only the new answer', async () => {
    t = await startTestBot({ THINKING_DISPLAY: 'summary', STREAM_RETRIES: '1' });
    t.claude.enqueue(
      { ...thinksThenAnswers(), thinking: { chunks: ['First try. '], delayMs: 0 }, fail: { afterChunks: 1, how: 'error_event' } },
      { ...thinksThenAnswers(), thinking: { chunks: ['Second try, thinking afresh. ', 'Almost there. '], delayMs: 300 } },
    );
    await t.mention();
    await t.idle(20_000);
    const texts = firstReplyVersions(t.slack);
    const retry = texts.findIndex((text) => text.includes('Trying again'));
    expect(retry).toBeGreaterThan(0);
    expect(texts.slice(retry + 1).some((text) => text.startsWith('_Thinking: Second try, thinking afresh.'))).toBe(true);
    expect(texts.at(-1)).toBe('The answer is 42.');
  });

  test('the "answer finished" line carries the token counts and the times to first thinking and first text', async () => {
    t = await startTestBot();
    t.claude.enqueue({
      ...thinksThenAnswers(),
      thinking: { chunks: ['Brief thought. '], delayMs: 0 },
      firstTokenDelayMs: 150,
      usage: { inputTokens: 1200, cacheCreationInputTokens: 1000, cacheReadInputTokens: 100, outputTokens: 300, thinkingTokens: 250 },
    });
    await t.mention();
    await t.idle();
    const line = finishedLine(t);
    expect(line).toMatchObject({
      outcome: 'complete',
      input_tokens: 1200,
      cache_creation_input_tokens: 1000,
      cache_read_input_tokens: 100,
      output_tokens: 300,
      thinking_tokens: 250,
    });
    // The thinking block starts at once; its first delta and the text come after the 150 ms pause.
    expect(line.first_thinking_ms).toBeGreaterThanOrEqual(0);
    expect(line.first_text_ms).toBeGreaterThanOrEqual(150);
    expect(line.first_text_ms).toBeGreaterThan(line.first_thinking_ms as number);
  });
});

describe('Claude thinks: how answers end', () => {
  let t: TestBot;
  afterEach(() => t.stop());

  test('max_tokens reached while thinking, no text: the note says so and what to change; no retry, nothing stored', async () => {
    t = await startTestBot({ CLAUDE_MAX_TOKENS: '3000' });
    t.claude.enqueue({ thinking: { chunks: ['Thinking at length. '], delayMs: 0 }, chunks: [], stopReason: 'max_tokens' });
    const event = await t.mention();
    await t.idle();
    const final = firstReplyVersions(t.slack).at(-1)!;
    expect(final).toContain('3000-token output budget thinking');
    expect(final).toContain('`CLAUDE_MAX_TOKENS`');
    expect(final).toContain('`CLAUDE_EFFORT`');
    expect(final).not.toBe(PLACEHOLDER);
    expect(stillThinking(t.slack, replyTs(t.slack))).toBe(false);
    expect(t.claude.requests).toHaveLength(1);
    expect(finishedLine(t).outcome).toBe('thinking_used_budget');
    expect(await t.history.load({ teamId: 'T0001', channel: 'C123', threadTs: event.ts })).toEqual([]);
  });

  test('max_tokens with almost no text (under 20 visible characters) gets the thinking note; with real text, the truncation note', async () => {
    t = await startTestBot({ CLAUDE_MAX_TOKENS: '3000' });
    t.claude.enqueue(
      { thinking: { chunks: ['Hmm. '] }, chunks: ['So the '], stopReason: 'max_tokens' },
      { thinking: { chunks: ['Hmm. '] }, chunks: ['The answer has begun and goes on'], stopReason: 'max_tokens' },
    );
    await t.mention();
    await t.idle();
    expect(firstReplyVersions(t.slack).at(-1)).toBe(toMrkdwn(copy.notes.thinkingUsedBudget(3000)));
    const second = await t.mention();
    await t.idle();
    const final = firstReplyVersions(t.slack, second.ts).at(-1)!;
    expect(final).toContain('The answer has begun and goes on');
    expect(final).toContain('Answer truncated');
  });

  test('a refusal with a known category says why in plain words; an explanation is shown escaped and inert', async () => {
    t = await startTestBot();
    t.claude.enqueue({
      chunks: [],
      stopReason: 'refusal',
      stopDetails: { category: 'cyber', explanation: 'Writing <!channel> *malware* is [not ok](https://x.example).' },
    });
    await t.mention();
    await t.idle();
    const final = firstReplyVersions(t.slack).at(-1)!;
    expect(final).toContain('declined to answer this request because it could help cause cyber harm');
    // Shown, not live: escaped in mrkdwn; in a stream's Markdown, broken by a zero-width space after the `<`.
    expect(final).toContain(onNativeStreams ? 'Writing <\u200b!channel>' : 'Writing &lt;!channel&gt;');
    expect(final).not.toContain('<!channel>');
    expect(final).not.toContain('*malware*');
    expect(final).not.toContain('|');
  });

  test('a refusal with an unknown category names it; one with no category or a long explanation keeps to the plain note', async () => {
    t = await startTestBot();
    t.claude.enqueue(
      { chunks: [], stopReason: 'refusal', stopDetails: { category: 'constructor' as never, explanation: null } },
      { chunks: [], stopReason: 'refusal', stopDetails: { category: null, explanation: 'x '.repeat(200) } },
    );
    await t.mention();
    await t.idle();
    await t.mention();
    await t.idle();
    const finals = replyCalls(t.slack).map((call) => versionsOf(t.slack, call.response.ts as string).at(-1));
    expect(finals).toHaveLength(2);
    expect(finals[0]).toContain('because of a usage policy (category: constructor)');
    expect(finals[1]).toBe('_(Claude declined to answer this request.)_');
  });
});
