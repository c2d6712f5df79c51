import fc from 'fast-check';
import { FEEDBACK_ACTION_ID, finalAnswerBlocks } from '../../src/slack/answerBlocks.js';
import { toMrkdwn } from '../../src/slack/render.js';
import { AnswerLayout, SLACK_TEXT_LIMIT, splitAll } from '../../src/slack/split.js';
import { count, markdownArbitraries, WORD, words } from './markdownArbitraries.js';

const inline = fc.oneof(
  { weight: 10, arbitrary: fc.constant(WORD) },
  count.map((n) => `**${words(n)}**`),
  count.map((n) => `\`${words(n)} & x\``),
  fc.constantFrom('<!here>', '@channel', '<@U123>', '&', 'https://example.com/a?b=1&c=2'),
);
const { answer } = markdownArbitraries({
  inline,
  lineItems: 30,
  paragraphLines: 6,
  headingLevels: 3,
  headingText: 'words',
  fenceOpeners: ['```', '```python'],
  fenceLineWords: 12,
  fenceTails: ['', ' = a < b && c'],
  fenceLines: 40,
  listItems: 10,
  tableRows: 10,
  rule: true,
});
/** The Markdown of one message of an answer, as ReplyMessage hands it over: a part of splitAll at Slack's text limit. */
const messageMarkdown = fc.array(answer, { minLength: 1, maxLength: 4 }).map((answers) => splitAll(answers.join('\n\n'), SLACK_TEXT_LIMIT).at(-1)!);

const wordsIn = (text: string): string[] => text.match(/(?<![\p{L}\p{N}])w\d+(?!\d)/gu) ?? [];

interface Block {
  type: string;
  text?: { type: string; text: string };
}

describe('finalAnswerBlocks', () => {
  test('sections of at most 3,000 characters with balanced fences show every word once and in order, then the buttons', () => {
    fc.assert(
      fc.property(messageMarkdown, (markdown) => {
        const blocks = finalAnswerBlocks(markdown) as Block[] | undefined;
        // The answer's layout, new to this text, shows the same.
        expect(finalAnswerBlocks(markdown, new AnswerLayout())).toEqual(blocks);
        if (toMrkdwn(markdown).trim() === '') return;
        expect(blocks).toBeDefined();
        expect(blocks!.length).toBeLessThanOrEqual(50);
        expect(blocks!.at(-1)).toMatchObject({ type: 'context_actions', elements: [{ type: 'feedback_buttons', action_id: FEEDBACK_ACTION_ID }] });
        const sections = blocks!.slice(0, -1);
        for (const section of sections) {
          expect(section.type).toBe('section');
          expect(section.text!.type).toBe('mrkdwn');
          expect(section.text!.text.length).toBeLessThanOrEqual(3000);
          expect(section.text!.text.trim()).not.toBe('');
          expect(section.text!.text.split('```').length % 2).toBe(1);
          expect(section.text!.text).not.toMatch(/<[!@#]/);
        }
        expect(wordsIn(sections.map((section) => section.text!.text).join('\n'))).toEqual(wordsIn(markdown));
      }),
      { numRuns: 150 },
    );
  });

  test('Markdown that renders to nothing gets no blocks (buttons alone would hide the text)', () => {
    expect(finalAnswerBlocks('[x]: https://example.com')).toBeUndefined();
  });
});
