import fc from 'fast-check';

// ---- Markdown-like answers for property tests. Each `§` becomes a unique word w0, w1, … in reading order. ----

/** Where a generated answer has a word; `numberWords` turns each into a unique one. */
export const WORD = '§';
/** `n` words separated by spaces. */
export const words = (n: number): string => Array(n).fill(WORD).join(' ');
/** How many words a span of inline formatting holds. */
export const count = fc.integer({ min: 1, max: 4 });

/**
 * Letters of several scripts, and digits, that Claude writes right against emphasis (no space in CJK text).
 * The digits are Arabic-Indic so that, where a span's markers are dropped (bold inside a heading), they never
 * extend a numbered word `w1` into `w142`.
 */
export const GLUED_LETTERS = ['這是', '文字', 'word', 'слово', 'كلمة', 'शब्द', 'ひらがな', '한국어', 'é', '٤٢'] as const;

/** `n` words in emphasis, strikethrough or code with letters of some script touching it on both sides, e.g. `這是**§**文字`. */
export const gluedSpan = fc
  .tuple(fc.constantFrom(...GLUED_LETTERS), fc.constantFrom('**', '*', '~~', '`'), count, fc.constantFrom(...GLUED_LETTERS))
  .map(([before, mark, n, after]) => `${before}${mark}${words(n)}${mark}${after}`);

/** What the answers of one test file are made of, and how big their blocks get. */
export interface MarkdownSizes {
  /** One inline item (a word, formatting, a link …); a line is a word followed by up to `lineItems` of these. */
  inline: fc.Arbitrary<string>;
  lineItems: number;
  paragraphLines: number;
  headingLevels: number;
  /** A heading's text: a whole generated line, or a few plain words. */
  headingText: 'line' | 'words';
  /** The lines opening a fenced block (`~~~ts` is closed by `~~~`). */
  fenceOpeners: readonly string[];
  /** Words on a line of code. */
  fenceLineWords: number;
  /** What may follow the words on a line of code. */
  fenceTails: readonly string[];
  fenceLines: number;
  listItems: number;
  tableRows: number;
  /** Whether a thematic break (`---`) is one of the blocks. */
  rule: boolean;
}

/** Markdown arbitraries built to `sizes`; `answer` is blocks joined by blank lines, its words numbered. */
export function markdownArbitraries(sizes: MarkdownSizes) {
  // Every line starts with a word so that no special character opens a block (`>`, `<!here>` …).
  const line = fc.array(sizes.inline, { minLength: 0, maxLength: sizes.lineItems }).map((items) => [WORD, ...items].join(' '));
  const paragraph = fc.array(line, { minLength: 1, maxLength: sizes.paragraphLines }).map((lines) => lines.join('\n'));
  const headingText = sizes.headingText === 'line' ? line : count.map(words);
  const heading = fc.tuple(fc.integer({ min: 1, max: sizes.headingLevels }), headingText).map(([level, text]) => `${'#'.repeat(level)} ${text}`);
  const fenceLine = fc.tuple(fc.integer({ min: 1, max: sizes.fenceLineWords }), fc.constantFrom(...sizes.fenceTails));
  const fence = fc
    .tuple(fc.constantFrom(...sizes.fenceOpeners), fc.array(fenceLine, { minLength: 1, maxLength: sizes.fenceLines }))
    .map(([open, lines]) => `${open}\n${lines.map(([n, tail]) => words(n) + tail).join('\n')}\n${open.slice(0, 3)}`);
  const list = fc
    .tuple(fc.boolean(), fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), line), { minLength: 1, maxLength: sizes.listItems }))
    .map(([ordered, items]) => {
      let depth = 0;
      return items
        .map(([wanted, text], i) => {
          depth = Math.min(wanted, depth + 1);
          return `${'   '.repeat(depth)}${ordered ? `${i + 1}.` : '-'} ${text}`;
        })
        .join('\n');
    });
  const quote = paragraph.map((text) => text.replace(/^/gm, '> '));
  const table = fc.tuple(fc.integer({ min: 2, max: 4 }), fc.integer({ min: 1, max: sizes.tableRows })).map(([cols, rows]) => {
    const row = (cells: string[]): string => `| ${cells.join(' | ')} |`;
    const header = Array.from({ length: cols }, (_, i) => `Col${i}`);
    return [row(header), row(header.map(() => '---')), ...Array.from({ length: rows }, () => row(header.map(() => words(2))))].join('\n');
  });
  const blocks = [heading, fence, list, quote, table, ...(sizes.rule ? [fc.constant('---')] : [])];
  const block = fc.oneof({ weight: 4, arbitrary: paragraph }, ...blocks);
  const answer = fc.array(block, { minLength: 1, maxLength: 8 }).map((parts) => numberWords(parts.join('\n\n')));
  return { line, paragraph, heading, fence, list, quote, table, block, answer };
}

/** Replaces each `§` with a unique word w0, w1, … in reading order. */
export function numberWords(markdown: string): string {
  let next = 0;
  return markdown.replace(/§/g, () => `w${next++}`);
}

// ---- Hostile answers: what a parser or a splitter may choke on. ----

/** Pieces of Markdown and Slack syntax, put together in any order. */
const SYNTAX = ['**', '*', '_', '__', '~~', '`', '```', '```py\n', '~~~\n', '\n', '\n\n', ' ', '\t', 'a', 'w', '這', '🦀', 'e\u0301', '|', '- ', '1. ', '  ', '    ', '> ', '>', '# ', '[', ']', '(', ')', '[x](', 'http://x.y/', 'www.', 'a@b.co', '<', '>', '&', '&nbsp;', '&amp;', '\\', '<@U1>', '<!channel>', '<br>', '---\n', '===\n', '![i](u)', '[a]: http://b\n', '| a | b |\n|---|---|\n'] as const;

/** Any string, Markdown-like soup, or either repeated into a long run (`_a` × 5,000 and the like). */
export const hostileText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.array(fc.constantFrom(...SYNTAX), { maxLength: 80 }).map((pieces) => pieces.join('')),
  fc
    .tuple(fc.oneof(fc.array(fc.constantFrom(...SYNTAX), { minLength: 1, maxLength: 4 }).map((pieces) => pieces.join('')), fc.string({ minLength: 1, maxLength: 4 })), fc.integer({ min: 1, max: 5000 }))
    .map(([run, times]) => run.repeat(times)),
);

/** Quotes and lists nested up to thousands of levels deep: on one line (`>>>>…`, `> - > - …`) or by indentation. */
export const deepNesting = fc.oneof(
  fc
    .tuple(fc.constantFrom('>', '> ', '- ', '> - ', '1. ', '* > ', '**a ', '[', '~~a '), fc.integer({ min: 1, max: 5000 }), fc.constantFrom('', ' done', ' x\ny'))
    .map(([marker, depth, tail]) => marker.repeat(depth) + tail),
  fc
    .tuple(fc.constantFrom('- ', '1. ', '> - '), fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: 4 }))
    .map(([marker, depth, step]) => Array.from({ length: depth }, (_, i) => `${' '.repeat(i * step)}${marker}item ${i}`).join('\n')),
);

/** A table of `columns` × `rows` cells up to `width` long: wider than any message once columns × width is large. */
export const wideTable = fc
  .tuple(fc.integer({ min: 1, max: 400 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 40 }))
  .map(([columns, rows, width]) => {
    const row = (cell: (i: number) => string): string => `| ${Array.from({ length: columns }, (_, i) => cell(i)).join(' | ')} |`;
    const body = Array.from({ length: rows }, (_, r) => row((i) => `c${r}x${i}`.padEnd(width, 'z')));
    return [row((i) => `h${i}`), row(() => '---'), ...body].join('\n');
  });

/** Lines of any length, as text or inside a (possibly quoted) code block. */
export const longLines = fc
  .tuple(fc.constantFrom('', '```\n', '```python\n', '> ```\n', '- ```\n'), fc.array(fc.tuple(fc.constantFrom('x', 'a b ', '&', '<', '**a** ', '`c` '), fc.integer({ min: 1, max: 3000 })), { minLength: 1, maxLength: 4 }))
  .map(([open, lines]) => open + lines.map(([run, times]) => run.repeat(times)).join('\n'));
