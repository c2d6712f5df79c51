import fc from 'fast-check';
import { fileContentOf } from '../../src/slack/fileContent.js';
import { ATTACHMENT_BUDGET_BYTES, maxRequestBytes, MEDIA_BUDGET, RequestBudget } from '../../src/slack/fileBudget.js';

/** The request's shares for attached files: never overspent, and a file's estimate never below what it costs. */
describe('RequestBudget', () => {
  const file = fc.record({ estimate: fc.nat(40_000_000), requestBytes: fc.nat(40_000_000), media: fc.nat(150) });

  test('whatever files are reserved, released and spent, spending never passes 31 MB or 100 media', () => {
    fc.assert(
      fc.property(fc.array(file, { maxLength: 30 }), (files) => {
        const budget = new RequestBudget();
        let bytes = 0;
        let media = 0;
        for (const { estimate, requestBytes, media: m } of files) {
          if (budget.fits(estimate)) budget.reserve(estimate);
          if (budget.spend(requestBytes, m) === undefined) {
            bytes += requestBytes;
            media += m;
          }
          budget.release(estimate);
        }
        expect(bytes).toBeLessThanOrEqual(ATTACHMENT_BUDGET_BYTES);
        expect(media).toBeLessThanOrEqual(MEDIA_BUDGET);
      }),
    );
  });

  test('a reservation keeps a later file out until it is released', () => {
    const budget = new RequestBudget();
    budget.reserve(20_000_000);
    expect(budget.fits(20_000_000)).toBe(false);
    budget.release(20_000_000);
    expect(budget.fits(20_000_000)).toBe(true);
  });
});

describe('maxRequestBytes', () => {
  test('no text of `size` bytes costs the request more than the estimate, control characters and quotes included', async () => {
    const text = fc.string({ unit: fc.constantFrom('a', '"', '\\', '\x1b', '\n', 'é', '😀', '\x01'), minLength: 1, maxLength: 2000 });
    await fc.assert(
      fc.asyncProperty(text, async (s) => {
        const bytes = Buffer.from(`x${s}`);
        const content = await fileContentOf('a.log', bytes);
        if (!('attachment' in content)) throw new Error('not read');
        expect(content.requestBytes).toBe(Buffer.byteLength(JSON.stringify(content.attachment.type === 'text' ? content.attachment.text : '')));
        expect(content.requestBytes).toBeLessThanOrEqual(maxRequestBytes(bytes.length));
      }),
      { numRuns: 200 },
    );
  });
});
