import { onNativeStreams, replyCalls, startTestBot, versionsOf, visibleText, type TestBot } from '../harness.js';

const words = (n: number, prefix = 'w') => Array.from({ length: n }, (_, i) => `${prefix}${i} `);

describe('mention, DM and slash command each stream an answer into the right thread', () => {
  let t: TestBot;
  beforeEach(async () => {
    t = await startTestBot({ EDIT_INTERVAL_MS: '200' });
  });
  afterEach(() => t.stop());

  /**
   * Asserts one reply went to `threadTs` (a placeholder, or a native stream), grew through intermediate versions
   * (edits marked "still writing", or appends each extending the text before), and ended as the whole answer.
   */
  function expectStreamedReply(channel: string, threadTs: string, answer: string) {
    const replies = replyCalls(t.slack, threadTs);
    expect(replies).toHaveLength(1);
    expect(replies[0]!.method).toBe(onNativeStreams ? 'chat.startStream' : 'chat.postMessage');
    expect(replies[0]!.params.channel).toBe(channel);
    if (!onNativeStreams) expect(replies[0]!.params.text).toBe('_Thinking…_');
    const replyTs = replies[0]!.response.ts as string;
    const versions = versionsOf(t.slack, replyTs);
    const intermediate = versions.slice(1, -1);
    expect(intermediate.length).toBeGreaterThanOrEqual(1);
    if (onNativeStreams) {
      // Some of the answer showed before its end, and every append extended what the stream showed.
      expect(intermediate.some((text) => text !== '' && text !== versions.at(-1))).toBe(true);
      versions.slice(1).forEach((text, i) => expect(text.startsWith(versions[i]!)).toBe(true));
    } else expect(intermediate.every((text) => text.includes('still writing'))).toBe(true);
    expect(visibleText(versions.at(-1))).toBe(answer.trim());
  }

  test('a mention in a channel is answered in its thread, without the mention in the prompt', async () => {
    const chunks = words(12);
    t.claude.enqueue({ chunks, delayMs: 60 });
    const event = await t.mention({ text: '<@UBOT> explain HTTP caching' });
    await t.idle();
    expectStreamedReply('C123', event.ts, chunks.join(''));
    expect(t.claude.requests[0]!.body.messages).toEqual([{ role: 'user', content: 'explain HTTP caching' }]);
    expect(t.claude.requests[0]!.body.stream).toBe(true);
  });

  test('a mention inside a thread is answered in that thread', async () => {
    t.claude.enqueue({ chunks: words(8), delayMs: 60 });
    await t.mention({ text: '<@UBOT> and then?', thread_ts: '1700000000.000001' });
    await t.idle();
    expectStreamedReply('C123', '1700000000.000001', words(8).join(''));
  });

  test('a DM is answered in the thread of that message', async () => {
    t.claude.enqueue({ chunks: words(10), delayMs: 60 });
    const event = await t.dm({ text: 'what is a monad?' });
    await t.idle();
    expectStreamedReply('D123', event.ts, words(10).join(''));
    expect(t.claude.requests[0]!.body.messages).toEqual([{ role: 'user', content: 'what is a monad?' }]);
  });

  test('the slash command posts the question in the channel and answers in its thread', async () => {
    t.claude.enqueue({ chunks: words(10), delayMs: 60 });
    const response = await t.command({ text: 'what is the GIL?', channel_id: 'C777', user_id: 'U42' });
    expect(response.status).toBe(200);
    await t.idle();
    const question = t.slack.callsOf('chat.postMessage')[0]!;
    expect(question.params).toMatchObject({ channel: 'C777', text: '<@U42> asked: what is the GIL?' });
    expect(question.params.thread_ts).toBeUndefined();
    expectStreamedReply('C777', question.response.ts as string, words(10).join(''));
    expect(t.claude.requests[0]!.body.messages).toEqual([{ role: 'user', content: 'what is the GIL?' }]);
  });

  test('the slash command in a channel the bot is not in answers with an ephemeral invite hint', async () => {
    t.slack.setChannelError('C999', 'not_in_channel');
    await t.command({ text: 'hello?', channel_id: 'C999' });
    await t.slack.waitFor(() => t.slack.callsOf('response_url').length === 1);
    const ephemeral = t.slack.callsOf('response_url')[0]!.params;
    expect(ephemeral.response_type).toBe('ephemeral');
    expect(ephemeral.text).toContain('/invite');
    expect(t.claude.requests).toHaveLength(0);
  });

  test('an empty slash command gets the usage hint and no Claude call', async () => {
    const response = await t.command({ text: '   ' });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ response_type: 'ephemeral', text: expect.stringContaining('/ask') });
    expect(t.claude.requests).toHaveLength(0);
  });
});
