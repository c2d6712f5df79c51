import type { HistoryStore } from '../../src/history/historyStore.js';
import { API_KEY, BOT_TOKEN, firstReplyVersions, replyTs, startTestBot, stillThinking, type TestBot } from '../harness.js';

describe('notes and failures', () => {
  let t: TestBot;
  beforeEach(async () => {
    t = await startTestBot({ EDIT_INTERVAL_MS: '100', CLAUDE_MAX_TOKENS: '64', STREAM_RETRIES: '1' });
  });
  afterEach(() => t.stop());

  async function ask(): Promise<string[]> {
    await t.mention({ text: '<@UBOT> question' });
    await t.idle();
    return firstReplyVersions(t.slack);
  }

  function expectNoSecretsAnywhere() {
    const shown = t.slack.calls.filter((call) => call.method.startsWith('chat.')).map((call) => JSON.stringify(call.params));
    const everything = [...shown, ...t.logs].join('\n');
    expect(everything).not.toContain(API_KEY);
    expect(everything).not.toContain(BOT_TOKEN);
  }

  test('max_tokens ends with a truncation note naming the limit', async () => {
    t.claude.enqueue({ chunks: ['The answer goes on', ' and on'], stopReason: 'max_tokens' });
    const versions = await ask();
    expect(versions.at(-1)).toMatch(/^The answer goes on and on\n\n_\(Answer truncated: it reached the 64-token limit/);
  });

  test('refusal ends with a note that Claude declined', async () => {
    t.claude.enqueue({ chunks: ['I cannot help with that.'], stopReason: 'refusal' });
    const versions = await ask();
    expect(versions.at(-1)).toContain('declined');
  });

  test('an error event mid-stream is retried from scratch: the final text is the retry alone', async () => {
    t.claude.enqueue(
      { chunks: ['First ', 'attempt ', 'fragment ', 'never'], delayMs: 40, fail: { afterChunks: 3, how: 'error_event' } },
      { chunks: ['Second ', 'complete ', 'answer.'], delayMs: 40 },
    );
    const versions = await ask();
    expect(versions.at(-1)).toBe('Second complete answer.');
    expect(versions.some((text) => text.includes('Response interrupted. Trying again'))).toBe(true);
    expect(t.claude.requests).toHaveLength(2);
    expect(t.claude.requests[1]!.body.messages).toEqual(t.claude.requests[0]!.body.messages);
  });

  test('a TCP drop with retries exhausted keeps the partial text with an interrupted note', async () => {
    t.claude.enqueue(
      { chunks: ['one ', 'two ', 'three'], delayMs: 30, fail: { afterChunks: 2, how: 'drop' } },
      { chunks: ['uno ', 'dos ', 'tres'], delayMs: 30, fail: { afterChunks: 2, how: 'drop' } },
    );
    const versions = await ask();
    expect(t.claude.requests).toHaveLength(2);
    expect(versions.at(-1)).toMatch(/^uno dos\s*\n\n_\(Response interrupted: .*Please ask again\.\)_$/);
  });

  test.each([
    [401, 'authentication_error', 'invalid x-api-key', /API key was rejected/],
    [400, 'invalid_request_error', 'prompt is too long: 250000 tokens > 200000 maximum', /too long for Claude's context window/],
    [400, 'invalid_request_error', 'messages: roles must alternate', /Claude rejected the request/],
    [529, 'overloaded_error', 'Overloaded', /Claude is overloaded/],
    [429, 'rate_limit_error', 'Rate limited', /too many requests/],
  ])('HTTP %i (%s) before any text replaces the placeholder with a clear message', async (status, type, message, expected) => {
    // The SDK retries 429 and 529 twice before giving up; retry-after 0 keeps that fast.
    const script = { httpError: { status, type, message, retryAfter: 0 } };
    t.claude.enqueue(script, script, script);
    const versions = await ask();
    expect(versions.at(-1)).toMatch(expected);
    expect(stillThinking(t.slack, replyTs(t.slack))).toBe(false);
    expectNoSecretsAnywhere();
  });

  test('Claude unreachable replaces the placeholder with a clear message', async () => {
    await t.claude.close();
    const versions = await ask();
    expect(versions.at(-1)).toMatch(/couldn't reach Claude/);
  });
});

describe('a history store that fails', () => {
  test('the placeholder is replaced by a clear message instead of staying on Thinking…', async () => {
    const broken: HistoryStore = {
      load: () => Promise.reject(new Error('store down')),
      appendExchange: () => Promise.reject(new Error('store down')),
      close: async () => {},
    };
    const t = await startTestBot({}, { history: broken });
    try {
      await t.mention({ text: '<@UBOT> hello' });
      await t.idle();
      expect(firstReplyVersions(t.slack).at(-1)).toMatch(/temporarily unavailable/);
      expect(stillThinking(t.slack, replyTs(t.slack))).toBe(false);
      expect(t.claude.requests).toHaveLength(0);
    } finally {
      await t.stop();
    }
  });
});
