import Anthropic from '@anthropic-ai/sdk';
import { ClaudeError, ClaudeStream, type AnswerRequest, type ClaudeStreamOptions } from '../../src/claude/claudeStream.js';
import { FakeAnthropic, type Script } from '../fakes/fakeAnthropic.js';

/** ClaudeStream with the real SDK against the fake Anthropic server: what reaches the wire and what comes back. */
describe('ClaudeStream: thinking on the wire', () => {
  let fake: FakeAnthropic;
  beforeEach(async () => {
    fake = await FakeAnthropic.start();
  });
  afterEach(() => fake.close());

  function claude(options: Partial<ClaudeStreamOptions> = {}): ClaudeStream {
    const client = new Anthropic({ apiKey: 'sk-test', baseURL: fake.baseUrl, maxRetries: 0 });
    return new ClaudeStream(client, {
      model: 'claude-sonnet-5-5',
      maxTokens: 16_000,
      effort: 'medium',
      thinkingDisplay: 'summary',
      idleTimeoutMs: 5_000,
      firstEventTimeoutMs: 5_000,
      ...options,
    });
  }

  /** Answers one question with `script`, recording every onText and onThinking call. */
  async function ask(script: Script, options: Partial<ClaudeStreamOptions> = {}, request: Partial<AnswerRequest> = {}) {
    fake.enqueue(script);
    const texts: string[] = [];
    const thoughts: string[] = [];
    const answer = await claude(options).answer({
      system: 'be brief',
      turns: [{ role: 'user', content: 'why?' }],
      onText: (text) => texts.push(text),
      onThinking: (thinking) => thoughts.push(thinking),
      ...request,
    });
    return { answer, texts, thoughts };
  }

  test.each([
    ['summary', 'low', { type: 'adaptive', display: 'summarized' }],
    ['status', 'max', { type: 'adaptive', display: 'omitted' }],
    ['off', 'xhigh', { type: 'adaptive', display: 'omitted' }],
  ] as const)('THINKING_DISPLAY=%s, CLAUDE_EFFORT=%s reach the request body; no sampling parameter ever does', async (display, effort, thinking) => {
    await ask({ chunks: ['ok'] }, { thinkingDisplay: display, effort });
    const body = fake.requests[0]!.body;
    expect(body.output_config).toEqual({ effort });
    expect(body.thinking).toEqual(thinking);
    expect(body.max_tokens).toBe(16_000);
    for (const sampling of ['temperature', 'top_p', 'top_k']) expect(body).not.toHaveProperty(sampling);
    expect(body.messages.at(-1).role).toBe('user');
  });

  test('a conversation ending with an assistant turn fails as bad_request before anything is sent', async () => {
    const failure = await ask(
      { chunks: ['never'] },
      {},
      {
        turns: [
          { role: 'user', content: 'q' },
          { role: 'assistant', content: 'prefill' },
        ],
      },
    ).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ClaudeError);
    expect((failure as ClaudeError).kind).toBe('bad_request');
    expect(fake.requests).toHaveLength(0);
  });

  test('the text is every text block, in order; thinking goes to onThinking only, across thinking blocks', async () => {
    const { answer, texts, thoughts } = await ask({
      thinking: { chunks: ['Consider A. ', 'Then B.'] },
      chunks: ['First part. '],
      blocks: [{ thinking: ['Check again.'] }, { text: ['Second ', 'part.'] }, { redactedThinking: 'opaque' }, { text: [' End.'] }],
    });
    expect(answer.text).toBe('First part. Second part. End.');
    expect(texts.at(-1)).toBe('First part. Second part. End.');
    // Each call carries the whole text so far: it only grows.
    texts.slice(1).forEach((text, i) => expect(text.startsWith(texts[i]!)).toBe(true));
    expect(thoughts).toEqual([
      '',
      'Consider A. ',
      'Consider A. Then B.',
      'Consider A. Then B.',
      'Consider A. Then B.\n\nCheck again.',
      'Consider A. Then B.\n\nCheck again.',
    ]);
    for (const text of texts) expect(text).not.toMatch(/Consider|Check again|sig_|opaque/);
  });

  test("with display 'omitted' the thinking block's start is reported, then the text", async () => {
    const { answer, thoughts } = await ask({ thinking: { chunks: ['hidden', 'hidden'], delayMs: 20 }, chunks: ['Answer.'] }, { thinkingDisplay: 'status' });
    expect(thoughts).toEqual(['']);
    expect(answer.text).toBe('Answer.');
  });

  test('usage (cache and thinking tokens) and a refusal’s stop_details come back on the answer', async () => {
    const { answer } = await ask({
      thinking: { chunks: ['hm'] },
      chunks: [],
      stopReason: 'refusal',
      stopDetails: { category: 'cyber', explanation: 'Could enable malware.' },
      usage: { inputTokens: 1200, cacheCreationInputTokens: 700, cacheReadInputTokens: 300, outputTokens: 90, thinkingTokens: 85 },
    });
    expect(answer).toEqual({
      text: '',
      stopReason: 'refusal',
      outputTokens: 90,
      usage: { inputTokens: 1200, cacheCreationInputTokens: 700, cacheReadInputTokens: 300, outputTokens: 90, thinkingTokens: 85 },
      stopDetails: { category: 'cyber', explanation: 'Could enable malware.' },
    });
  });

  test('max_tokens reached while thinking: no text, the stop reason, and the thinking share of the tokens', async () => {
    const { answer, texts } = await ask({ thinking: { chunks: ['long ', 'thought'] }, chunks: [], stopReason: 'max_tokens', usage: { outputTokens: 16_000, thinkingTokens: 16_000 } });
    expect(texts).toEqual([]);
    expect(answer).toMatchObject({ text: '', stopReason: 'max_tokens', usage: { outputTokens: 16_000, thinkingTokens: 16_000 } });
    expect(answer.stopDetails).toBeUndefined();
  });

  test('omitted thinking longer than STREAM_IDLE_TIMEOUT_MS is not "interrupted" while the API pings', async () => {
    const { answer } = await ask(
      { thinking: { chunks: ['a', 'b', 'c', 'd', 'e', 'f'], delayMs: 250 }, chunks: ['Done.'], pingEveryMs: 100 },
      { thinkingDisplay: 'off', idleTimeoutMs: 600 },
    );
    expect(answer.text).toBe('Done.');
    expect(fake.requests).toHaveLength(1);
  });

  test('a stream that is truly silent (no pings) while thinking is still aborted as interrupted', async () => {
    const failure = await ask({ thinking: { chunks: ['a', 'b'], delayMs: 1500 }, chunks: ['late'] }, { thinkingDisplay: 'off', idleTimeoutMs: 400 }).catch(
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(ClaudeError);
    expect((failure as ClaudeError).kind).toBe('interrupted');
  });
});
