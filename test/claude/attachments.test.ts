import Anthropic from '@anthropic-ai/sdk';
import fc from 'fast-check';
import { ClaudeError, ClaudeStream } from '../../src/claude/claudeStream.js';
import type { Attachment, Turn } from '../../src/claude/turn.js';
import { FILES_ONLY_TEXT, messageOf } from '../../src/claude/turnMessages.js';
import { FakeAnthropic } from '../fakes/fakeAnthropic.js';
import { jpeg, pdf, png } from '../fixtures/files.js';

/** Turns with attachments on the wire: the real SDK against the fake Anthropic, which checks blocks as the API does. */
describe('ClaudeStream: attachments', () => {
  let fake: FakeAnthropic;
  beforeEach(async () => {
    fake = await FakeAnthropic.start();
  });
  afterEach(() => fake.close());

  function ask(turns: Turn[]) {
    const client = new Anthropic({ apiKey: 'sk-test', baseURL: fake.baseUrl, maxRetries: 0 });
    const claude = new ClaudeStream(client, {
      model: 'claude-sonnet-5-5',
      maxTokens: 1_000,
      effort: 'low',
      thinkingDisplay: 'off',
      // Generous: sending a 33 MB body to the fake takes seconds on a loaded machine, and these tests are not about time.
      idleTimeoutMs: 60_000,
      firstEventTimeoutMs: 60_000,
    });
    return claude.answer({ system: 'be brief', turns, onText: () => undefined });
  }

  test('a user turn with an image, a PDF and a text file: those blocks first, then the question', async () => {
    const image = (await png(20, 20)).toString('base64');
    const doc = (await pdf(2)).toString('base64');
    await ask([
      { role: 'user', content: 'earlier' },
      { role: 'assistant', content: 'answer' },
      {
        role: 'user',
        content: 'what is in these?',
        attachments: [
          { type: 'image', name: 'a.png', mediaType: 'image/png', data: image },
          { type: 'pdf', name: 'b.pdf', data: doc },
          { type: 'text', name: 'c.log', text: 'line 1\n' },
        ],
      },
    ]);
    const { messages } = fake.requests[0]!.body;
    expect(messages.slice(0, 2)).toEqual([
      { role: 'user', content: 'earlier' },
      { role: 'assistant', content: 'answer' },
    ]);
    expect(messages[2]).toEqual({
      role: 'user',
      content: [
        { type: 'image', source: { type: 'base64', media_type: 'image/png', data: image } },
        { type: 'document', title: 'b.pdf', source: { type: 'base64', media_type: 'application/pdf', data: doc } },
        { type: 'document', title: 'c.log', source: { type: 'text', media_type: 'text/plain', data: 'line 1\n' } },
        { type: 'text', text: 'what is in these?' },
      ],
    });
  });

  test('files with no words: a short text block stands for the question', async () => {
    await ask([{ role: 'user', content: '  ', attachments: [{ type: 'text', name: 'x.txt', text: 'x' }] }]);
    expect(fake.requests[0]!.body.messages[0].content.at(-1)).toEqual({ type: 'text', text: FILES_ONLY_TEXT });
  });

  test('the fake rejects what the API rejects, so a malformed block fails the answer as bad_request', async () => {
    const jpegData = (await jpeg(10, 10)).toString('base64');
    const bad: Attachment[] = [
      { type: 'image', name: 'lie.png', mediaType: 'image/png', data: jpegData },
      { type: 'image', name: 'broken.png', mediaType: 'image/png', data: 'not base64!' },
      { type: 'image', name: 'huge.png', mediaType: 'image/png', data: 'A'.repeat(5 * 1024 * 1024 + 4) },
      { type: 'pdf', name: 'fake.pdf', data: Buffer.from('hello').toString('base64') },
      // Past the request's 32 MB: a 413 `request_too_large`.
      { type: 'text', name: 'big.log', text: 'a'.repeat(33 * 1024 * 1024) },
    ];
    for (const attachment of bad) {
      const failure = await ask([{ role: 'user', content: 'q', attachments: [attachment] }]).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(ClaudeError);
      expect((failure as ClaudeError).kind).toBe('bad_request');
    }
  });
});

describe('messageOf', () => {
  const attachment: fc.Arbitrary<Attachment> = fc.oneof(
    fc.record({ type: fc.constant('image' as const), name: fc.string(), mediaType: fc.constantFrom('image/png' as const, 'image/gif' as const), data: fc.base64String() }),
    fc.record({ type: fc.constant('pdf' as const), name: fc.string(), data: fc.base64String() }),
    fc.record({ type: fc.constant('text' as const), name: fc.string(), text: fc.string() }),
  );

  test('attachments come first, in order, one block each; the last block is non-empty text; no attachments → the plain string', () => {
    fc.assert(
      fc.property(fc.string(), fc.array(attachment, { maxLength: 5 }), (content, attachments) => {
        const message = messageOf({ role: 'user', content, attachments });
        if (attachments.length === 0) return expect(message).toEqual({ role: 'user', content });
        if (typeof message.content === 'string') throw new Error('expected blocks');
        expect(message.content).toHaveLength(attachments.length + 1);
        message.content.slice(0, -1).forEach((block, i) => expect(block.type).toBe(attachments[i]!.type === 'image' ? 'image' : 'document'));
        const last = message.content.at(-1)!;
        expect(last).toEqual({ type: 'text', text: content.trim() ? content : FILES_ONLY_TEXT });
      }),
    );
  });
});
