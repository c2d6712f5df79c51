import fc from 'fast-check';
import { fileContentOf, TEXT_MAX_CHARS, textCutMarker } from '../../src/slack/fileContent.js';

/** Text is recognised by its bytes: valid UTF-8 without NULs, whatever the name says. */
describe('fileContentOf: text', () => {
  // Text that does not start with another format's magic number (e.g. `%PDF-`, `GIF8`).
  const text = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 200 }).filter((s) => !s.includes('\0') && /^[\p{L}\p{N}\s#,.{}[\]"':-]/u.test(s));

  test('valid UTF-8 without NULs is a text attachment, unchanged', async () => {
    await fc.assert(
      fc.asyncProperty(text, async (s) => {
        expect(await fileContentOf('a.txt', Buffer.from(s))).toEqual({ attachment: { type: 'text', name: 'a.txt', text: s }, requestBytes: Buffer.byteLength(JSON.stringify(s)), media: 0 });
      }),
    );
  });

  test('bytes with a NUL, or that are not UTF-8, are never text', async () => {
    const invalid = fc.oneof(
      fc.tuple(fc.uint8Array(), fc.uint8Array()).map(([a, b]) => Buffer.concat([a, Buffer.from([0]), b])),
      fc.tuple(fc.uint8Array(), fc.uint8Array()).map(([a, b]) => Buffer.concat([a, Buffer.from([0xc3]), Buffer.from([0x28]), b])),
    );
    await fc.assert(
      fc.asyncProperty(invalid, async (bytes) => {
        const content = await fileContentOf('a.bin', bytes);
        expect('attachment' in content && content.attachment.type === 'text').toBe(false);
      }),
    );
  });

  test('a long text is cut at TEXT_MAX_CHARS without splitting a character', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 3 }), fc.constantFrom('a', 'é', '😀'), async (extra, char) => {
        const s = 'x'.repeat(TEXT_MAX_CHARS - 1 - extra) + char.repeat(10);
        const content = await fileContentOf('long.txt', Buffer.from(s));
        if (!('attachment' in content) || content.attachment.type !== 'text') throw new Error('not text');
        expect(content.cut).toBe(true);
        const [kept, marker] = content.attachment.text.split('\n[');
        expect(`[${marker}`).toBe(textCutMarker(s.length));
        expect(kept!.length).toBeLessThanOrEqual(TEXT_MAX_CHARS);
        expect(s.startsWith(kept!)).toBe(true);
        expect(kept).not.toMatch(/[\ud800-\udbff]$/);
      }),
      { numRuns: 20 },
    );
  });
});
