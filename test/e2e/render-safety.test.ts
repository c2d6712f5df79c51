import { startTestBot, type TestBot } from '../harness.js';

// Answers that once broke the renderer or the splitter: the thread must end readable, whatever Claude wrote.

/** The final text of each message of the answer in the thread, placeholder first. */
function finalTexts(t: TestBot, threadTs: string): string[] {
  return t.slack
    .threadMessages('C123', threadTs)
    .filter((message) => !message.deleted)
    .map((message) => message.versions.at(-1)!.text);
}

/** No message is left as the placeholder, a streaming note or a retry note, and each fits Slack. */
function expectFinished(texts: string[], maxLength: number): void {
  expect(texts.length).toBeGreaterThanOrEqual(1);
  for (const text of texts) {
    expect(text.length).toBeLessThanOrEqual(maxLength);
    expect(text).not.toMatch(/Thinking…|still writing|Trying again|Response interrupted/);
  }
}

describe('answers that the renderer cannot take as Markdown still end readable', () => {
  let t: TestBot;
  afterEach(() => t.stop());

  test('4,000 `>` (quotes nested 4,000 deep) end as quoted text, with the words before and after', async () => {
    t = await startTestBot({ EDIT_INTERVAL_MS: '200' });
    t.slack.maxTextLength = 4000;
    t.claude.enqueue({ chunks: ['Here you go:\n\n', '>'.repeat(2000), '>'.repeat(2000), ' done'], delayMs: 100 });
    const event = await t.mention({ text: '<@UBOT> quote me' });
    await t.idle(30_000);

    const texts = finalTexts(t, event.ts);
    expectFinished(texts, 4000);
    const shown = texts.join('\n');
    expect(shown).toMatch(/^Here you go:/);
    expect(shown).toMatch(/done$/);
    // Every `>` is still there, as a quote mark or as escaped text.
    expect((shown.match(/>|&gt;/g) ?? []).length).toBeGreaterThanOrEqual(4000);
  });

  test('a 300-column table, wider than any message, ends split across messages with every cell once', async () => {
    t = await startTestBot({ EDIT_INTERVAL_MS: '200' });
    t.slack.maxTextLength = 4000;
    const columns = Array.from({ length: 300 }, (_, i) => i);
    const table = [
      `| ${columns.map((i) => `head${i}`).join(' | ')} |`,
      `|${columns.map(() => '---').join('|')}|`,
      `| ${columns.map((i) => `cell${i}`).join(' | ')} |`,
    ].join('\n');
    const markdown = `The table:\n\n${table}\n\nEnd of table.`;
    t.claude.enqueue({ chunks: markdown.match(/[\s\S]{1,500}/g)!, delayMs: 20 });
    const event = await t.mention({ text: '<@UBOT> wide table' });
    await t.idle(30_000);

    const texts = finalTexts(t, event.ts);
    expectFinished(texts, 4000);
    const shown = texts.join('\n');
    expect(shown).toMatch(/^The table:/);
    expect(shown).toMatch(/End of table\.$/);
    for (const i of columns) expect(shown.match(new RegExp(`\\bcell${i}\\b`, 'g'))).toHaveLength(1);
  });
});
