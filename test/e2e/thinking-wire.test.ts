import { firstReplyVersions, startTestBot, type TestBot } from '../harness.js';

/** The configured bot against the thinking fake: what reaches Claude, and that only text reaches Slack and history. */
describe('Claude thinks: the wire, end to end', () => {
  let t: TestBot;
  afterEach(() => t.stop());

  test('CLAUDE_EFFORT and THINKING_DISPLAY reach the request body; no sampling parameter; the last turn is the user’s', async () => {
    t = await startTestBot({ CLAUDE_EFFORT: 'high', THINKING_DISPLAY: 'status' });
    t.claude.enqueue({ chunks: ['Sure.'] });
    await t.mention({ text: '<@UBOT> think hard' });
    await t.idle();
    const body = t.claude.requests[0]!.body;
    expect(body).toMatchObject({ output_config: { effort: 'high' }, thinking: { type: 'adaptive', display: 'omitted' }, max_tokens: 16_000 });
    for (const sampling of ['temperature', 'top_p', 'top_k']) expect(body).not.toHaveProperty(sampling);
    expect(body.messages.at(-1)).toEqual({ role: 'user', content: 'think hard' });
  });

  test('by default: effort medium, summarised thinking, max_tokens 16000', async () => {
    t = await startTestBot();
    t.claude.enqueue({ chunks: ['Sure.'] });
    await t.mention({ text: '<@UBOT> hello' });
    await t.idle();
    expect(t.claude.requests[0]!.body).toMatchObject({
      output_config: { effort: 'medium' },
      thinking: { type: 'adaptive', display: 'summarized' },
      max_tokens: 16_000,
    });
  });

  test('an answer of several text blocks around thinking: the reply and history hold every text block, no thinking', async () => {
    t = await startTestBot();
    t.claude.enqueue(
      {
        thinking: { chunks: ['Weighing the options. ', 'Option B wins.'], delayMs: 20 },
        chunks: ['Use option B. '],
        blocks: [{ thinking: ['Double-checking B.'] }, { text: ['It is ', 'faster.'] }],
        delayMs: 20,
      },
      { chunks: ['Yes.'] },
    );
    const first = await t.mention({ text: '<@UBOT> A or B?' });
    await t.idle();
    expect(firstReplyVersions(t.slack).at(-1)).toBe('Use option B. It is faster.');
    // Thinking may show as the marked thinking line before the answer; never inside the answer's own text.
    const answerVersions = firstReplyVersions(t.slack).filter((version) => !version.startsWith('_Thinking'));
    for (const version of answerVersions) expect(version).not.toMatch(/Weighing|Double-checking|sig_/);

    await t.mention({ text: '<@UBOT> sure?', thread_ts: first.ts });
    await t.idle();
    expect(t.claude.requests[1]!.body.messages).toEqual([
      { role: 'user', content: 'A or B?' },
      { role: 'assistant', content: 'Use option B. It is faster.' },
      { role: 'user', content: 'sure?' },
    ]);
  });
});
