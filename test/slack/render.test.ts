import fc from 'fast-check';
import { escapeMrkdwn, escapeMrkdwnWithin, RenderCache, toMrkdwn } from '../../src/slack/render.js';
import { count, deepNesting, gluedSpan, hostileText, longLines, markdownArbitraries, WORD, wideTable, words } from './markdownArbitraries.js';

// ---- Markdown-like answers. Each `§` becomes a unique word w0, w1, … in reading order. ----

const URLS = ['https://example.com/u1', 'https://example.com/a?b=1&c=2', 'http://example.org/x|y', 'https://example.com/p>q', 'mailto:someone@example.com'];
// Typed by Claude as text: none may turn into a mention, a link or formatting.
const SPECIALS = ['&', '<', '>', 'a&b', 'x<y>z', '@channel', '@here', '<!here>', '<!channel>', '<!everyone>', '<@U123>', '<#C123|general>', '&lt;!here&gt;', '🎉', '日本語', 'é', '👩‍💻'];

const inline = fc.oneof(
  { weight: 12, arbitrary: fc.constant(WORD) },
  count.map((n) => `**${words(n)}**`),
  count.map((n) => `__${words(n)}__`),
  count.map((n) => `*${words(n)}*`),
  count.map((n) => `_${words(n)}_`),
  count.map((n) => `~~${words(n)}~~`),
  count.map((n) => `\`${words(n)} & <b>\``),
  fc.tuple(count, fc.constantFrom(...URLS)).map(([n, url]) => `[${words(n)}](${url})`),
  fc.tuple(count, fc.constantFrom(...URLS)).map(([n, url]) => `[${words(n)} | ${WORD} > x](${url})`),
  count.map((n) => `[${words(n)}](!here)`),
  fc.constantFrom('https://example.com/bare?q=1&r=2', '<https://example.com/auto>'),
  { weight: 3, arbitrary: fc.constantFrom(...SPECIALS) },
  { weight: 2, arbitrary: gluedSpan },
);
const { answer } = markdownArbitraries({
  inline,
  lineItems: 12,
  paragraphLines: 3,
  headingLevels: 6,
  headingText: 'line',
  fenceOpeners: ['```', '```python', '```js', '~~~'],
  fenceLineWords: 4,
  fenceTails: ['', ' = a < b && c', '  # note', ' * x ** 2'],
  fenceLines: 6,
  listItems: 6,
  tableRows: 4,
  rule: true,
});

// ---- What every rendering must satisfy ----

// Letters may touch a word (`這是**w1**文字` in a heading renders as `這是w1文字`); ASCII digits never follow one.
const wordsIn = (text: string): string[] => text.match(/w\d+/g) ?? [];
const withoutCode = (mrkdwn: string): string => mrkdwn.replace(/```[\s\S]*?```/g, '');
const fenceCount = (mrkdwn: string): number => mrkdwn.split('```').length - 1;

/** Every `<` starts a link to a URL the Markdown wrote; no mention, channel or special command. */
function expectOnlyWrittenLinks(mrkdwn: string, markdown: string | null): void {
  expect(mrkdwn).not.toMatch(/<[!@#]/);
  for (const at of [...mrkdwn.matchAll(/</g)].map((m) => m.index)) {
    const entity = /^<((?:https?:\/\/|mailto:)[^<>|\s]+)(?:\|([^<>|]*))?>/.exec(mrkdwn.slice(at));
    expect(entity).not.toBeNull();
    if (!entity || markdown === null) continue;
    const url = (entity[1] ?? '').replace(/&amp;/g, '&').replace(/%7C/g, '|').replace(/%3E/g, '>').replace(/%3C/g, '<').replace(/%60/g, '`');
    expect(markdown).toContain(url);
  }
}

function expectSlackShape(mrkdwn: string): void {
  expect(fenceCount(mrkdwn) % 2).toBe(0);
  // The renderer's private marker for span boundaries never reaches Slack.
  expect(mrkdwn).not.toContain('\ue000');
  const prose = withoutCode(mrkdwn);
  expect(prose).not.toContain('**');
  expect(prose).not.toMatch(/^#/m);
}

// Slack reads a formatting character as formatting only when its outer neighbour is whitespace, punctuation,
// a line's end or a zero-width space; letters and digits of any script on both sides of a delimiter run show it raw.
const WORD_LIKE = /[^\s.,:!?'"()[\]{}*_~`\u200b]/u;

/**
 * No run of `*`, `_`, `~` or backticks in prose (links and code blocks aside) is touched by letters on both sides.
 * `streaming`: a lone `*` or `_` that nothing after it could close is the start of a span still being written (or
 * a literal such as `2*3`): the renderer shows it as it is, so it is not counted.
 */
function expectRenderedDelimiters(mrkdwn: string, { streaming = false } = {}): void {
  const prose = withoutCode(mrkdwn).replace(/<[^<>]*>/g, ' ');
  for (const run of prose.matchAll(/[*_~`]+/g)) {
    const rest = prose.slice(run.index + run[0].length);
    if (streaming && /^[*_]$/.test(run[0]) && !rest.includes(run[0])) continue;
    const before = prose.slice(0, run.index).match(/.$/u)?.[0];
    const after = rest.match(/^./u)?.[0];
    const stuck = before !== undefined && after !== undefined && WORD_LIKE.test(before) && WORD_LIKE.test(after);
    expect({ run: run[0], before, after, stuck }).toEqual({ run: run[0], before, after, stuck: false });
  }
}

function prefixesOf(markdown: string, samples: number[]): string[] {
  return samples.map((share) => markdown.slice(0, Math.floor(share * markdown.length)));
}

describe('toMrkdwn properties', () => {
  test('a final render is well-formed mrkdwn, keeps every word once and in order, and only links what Claude linked', () => {
    fc.assert(
      fc.property(answer, (markdown) => {
        const mrkdwn = toMrkdwn(markdown);
        expectSlackShape(mrkdwn);
        expectRenderedDelimiters(mrkdwn);
        expectOnlyWrittenLinks(mrkdwn, markdown);
        expect(wordsIn(mrkdwn)).toEqual(wordsIn(markdown));
      }),
      { numRuns: 300 },
    );
  });

  test('every streamed prefix renders balanced fences, no dangling `**` or `#`, and all its words once in order', () => {
    fc.assert(
      fc.property(answer, fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 12 }), (markdown, samples) => {
        for (const prefix of prefixesOf(markdown, samples)) {
          const mrkdwn = toMrkdwn(prefix, { streaming: true });
          expectSlackShape(mrkdwn);
          expectRenderedDelimiters(mrkdwn, { streaming: true });
          expectOnlyWrittenLinks(mrkdwn, prefix);
          expect(wordsIn(mrkdwn)).toEqual(wordsIn(prefix));
        }
        expect(toMrkdwn(markdown, { streaming: true })).toBe(toMrkdwn(markdown));
      }),
      { numRuns: 200 },
    );
  });

  test('arbitrary text made of Markdown and Slack syntax never produces a mention, an unwritten link or an unbalanced fence', () => {
    const piece = fc.constantFrom(
      ...['*', '**', '_', '~', '`', '```', '#', '> ', '<', '>', '&', '!', '@', '[', ']', '(', ')', '|', '- ', '1. ', ':', '/', '\\', '\n', '\n\n', ' ', '    '],
      ...['a', 'here', 'channel', 'everyone', 'U123', 'C9', 'http://', 'https://x.io/', 'mailto:', 'www.', '&lt;', '&gt;', '&amp;', '&#60;', '&#x3c;', '<!here>', '<@U1>', '<#C1>'],
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 60 }), fc.boolean(), (pieces, streaming) => {
        const mrkdwn = toMrkdwn(pieces.join(''), { streaming });
        expectOnlyWrittenLinks(mrkdwn, null);
        expect(fenceCount(mrkdwn) % 2).toBe(0);
      }),
      { numRuns: 1000 },
    );
  });

  test('the cache of finished blocks never changes the output, whatever the order of renders', () => {
    fc.assert(
      fc.property(answer, fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 2, maxLength: 20 }), (markdown, samples) => {
        // As streaming does (each render reusing the last) against longest first (each render fresh or
        // reusing a different entry) and against no cache.
        const growing = prefixesOf(markdown, samples).sort((a, b) => a.length - b.length);
        const cache = new RenderCache();
        const rendered = new Map(growing.map((prefix) => [prefix, toMrkdwn(prefix, { streaming: true, cache })]));
        const longestFirst = new RenderCache();
        for (const prefix of growing.reverse()) {
          expect(toMrkdwn(prefix, { streaming: true, cache: longestFirst })).toBe(rendered.get(prefix));
          expect(toMrkdwn(prefix, { streaming: true })).toBe(rendered.get(prefix));
        }
        expect(toMrkdwn(markdown, { cache })).toBe(toMrkdwn(markdown));
      }),
      { numRuns: 150 },
    );
    const cache = new RenderCache();
    // A reference definition arriving later turns earlier text into a link.
    toMrkdwn('See [the docs][1].\n\nMore text.\n\n', { streaming: true, cache });
    expect(toMrkdwn('See [the docs][1].\n\nMore text.\n\n[1]: https://example.com/docs\n', { cache })).toBe('See <https://example.com/docs|the docs>.\n\nMore text.');
    // A line that may still become a list item joins the list before it once it does.
    for (const prefix of ['1. one\n\n2', '1. one\n\n2.', '1. one\n\n2. two']) toMrkdwn(prefix, { streaming: true, cache });
    expect(toMrkdwn('1. one\n\n2. two\n\nend', { cache })).toBe(toMrkdwn('1. one\n\n2. two\n\nend'));
  });
});

describe('toMrkdwn examples', () => {
  test.each([
    ['**bold** and __bold__', '*bold* and *bold*'],
    ['*italic* and _italic_', '_italic_ and _italic_'],
    ['~~strike~~', '~strike~'],
    ['***both***', '_*both*_'],
    ['use `a < b && **c**` here', 'use `a &lt; b &amp;&amp; **c**` here'],
    ['# Title with **bold**', '*Title with bold*'],
    ['### Deep `code`', '*Deep `code`*'],
    ['Setext\n======', '*Setext*'],
    ['- one\n- two\n  - nested\n    - deeper\n      - deepest', '• one\n• two\n    ◦ nested\n        ▪ deeper\n            ▪ deepest'],
    ['3. three\n4. four', '3. three\n4. four'],
    ['- [ ] todo\n- [x] done', '• ☐ todo\n• ☑ done'],
    ['> quoted\n> lines', '> quoted\n> lines'],
    ['[the docs](https://example.com/a?b=1&c=2)', '<https://example.com/a?b=1&amp;c=2|the docs>'],
    ['see https://example.com/x.', 'see <https://example.com/x>.'],
    ['<https://example.com>', '<https://example.com>'],
    ['![diagram](https://example.com/d.png)', '<https://example.com/d.png|diagram>'],
    ['a\n\n---\n\nb', 'a\n\n──────────\n\nb'],
    ['line one  \nline two', 'line one\nline two'],
    ['5 > 3 & 2 < 4', '5 &gt; 3 &amp; 2 &lt; 4'],
    ['&lt;!here&gt; &amp; <!channel> @channel <@U123>', '&lt;!here&gt; &amp; &lt;!channel&gt; @\u200bchannel &lt;@U123&gt;'],
    // Slack shows the markers of a span that letters touch from outside: a zero-width space separates them.
    ['這是**粗體**文字', '這是\u200b*粗體*\u200b文字'],
    ['word*it*word, a~~gone~~b', 'word\u200b_it_\u200bword, a\u200b~gone~\u200bb'],
    ['使用`npm`命令', '使用\u200b`npm`\u200b命令'],
    ['(**ok**), "*fine*" and **bold**.', '(*ok*), "_fine_" and *bold*.'],
  ])('%j → %j', (markdown, expected) => {
    expect(toMrkdwn(markdown)).toBe(expected);
  });

  test('a fenced block drops the language and keeps the code verbatim except the three escapes', () => {
    const code = 'if a < b and c > d:\n    print("x & y")  # **not bold**\n\n  _not italic_';
    expect(toMrkdwn(`Intro\n\n\`\`\`python\n${code}\n\`\`\`\n\nOutro`)).toBe(`Intro\n\n\`\`\`\n${escapeMrkdwn(code)}\n\`\`\`\n\nOutro`);
  });

  test('backticks that would open or close a Slack code block are kept inert', () => {
    expect(toMrkdwn('````markdown\n```python\nx\n```\n````')).toBe('```\n`\u200b`\u200b`python\nx\n`\u200b`\u200b`\n```');
    expect(toMrkdwn('type ``` to start')).toBe('type `\u200b`\u200b` to start');
  });

  test('a list item keeps its code block verbatim and its later paragraphs under the text', () => {
    expect(toMrkdwn('1. Install:\n\n   ```sh\n   npm i marked\n   ```\n\n   Then run it.')).toBe('1. Install:\n```\nnpm i marked\n```\n   Then run it.');
  });

  test('a table becomes a code block with aligned columns, alignment kept', () => {
    const table = '| Name | Qty | Note |\n|:-----|----:|:----:|\n| apple | 3 | **ripe** |\n| kiwi & co | 12 | [x](https://e.com) |';
    expect(toMrkdwn(table)).toBe(
      ['```', 'Name      | Qty | Note', '----------+-----+-----', 'apple     |   3 | ripe', 'kiwi &amp; co |  12 |  x', '```'].join('\n'),
    );
  });

  test('links whose text or URL holds `|` or `>` stay one link with the written target', () => {
    expect(toMrkdwn('[a|b>c](https://e.com/x|y>z)')).toBe('<https://e.com/x%7Cy%3Ez|a∣b&gt;c>');
  });

  test('a link to something other than a web or mail address stays text', () => {
    expect(toMrkdwn('[everyone](!everyone) [me](@U123) [chan](#C1) [js](javascript:alert(1))')).toBe(
      'everyone (!everyone) me (@U123) chan (#C1) js (javascript:alert(1))',
    );
  });

  test('escapeMrkdwnWithin fits the escaped text in the limit, cutting with … and never inside an escape or a code point', () => {
    const text = fc.array(fc.constantFrom('a', ' ', '&', '<', '>', '👩‍💻', '日'), { maxLength: 40 }).map((parts) => parts.join(''));
    fc.assert(
      fc.property(text, fc.integer({ min: 1, max: 60 }), (input, max) => {
        const out = escapeMrkdwnWithin(input, max);
        expect(out.length).toBeLessThanOrEqual(max);
        if (escapeMrkdwn(input).length <= max) return expect(out).toBe(escapeMrkdwn(input));
        expect(out.endsWith('…')).toBe(true);
        // The longest start, in code points, whose escape fits with the `…`.
        const chars = [...input];
        const fits = (n: number) => escapeMrkdwn(chars.slice(0, n).join('')).length + 1 <= max;
        let kept = 0;
        while (kept < chars.length && fits(kept + 1)) kept++;
        expect(out).toBe(`${escapeMrkdwn(chars.slice(0, kept).join(''))}…`);
      }),
      { numRuns: 500 },
    );
  });

  test('escapeMrkdwn escapes exactly &, < and >', () => {
    expect(escapeMrkdwn('<!here> & *bold* _it_ ~s~ `c` > q')).toBe('&lt;!here&gt; &amp; *bold* _it_ ~s~ `c` &gt; q');
  });
});

describe('toMrkdwn while streaming', () => {
  test.each([
    ['an unclosed fence is closed at the cut', 'Run:\n\n```python\nprint(1)\nprint(', 'Run:\n\n```\nprint(1)\nprint(\n```'],
    ['a half-typed closing fence is hidden', '```js\nx()\n``', '```\nx()\n```'],
    ['a fence with no code yet is not shown', 'Run:\n\n```py', 'Run:'],
    ['a dangling ** is dropped', 'Hello **wor', 'Hello wor'],
    ['a bare ** at the end is dropped', 'Hello **', 'Hello'],
    ['a half-closed ** shows as the italics it is so far', 'a **bold*', 'a _bold_'],
    ['a dangling _ is dropped', 'see _this', 'see this'],
    ['a dangling ~~ is dropped', 'old ~~price', 'old price'],
    ['a dangling backtick is dropped', 'call `foo.ba', 'call foo.ba'],
    ['a dangling ** inside a word is dropped', '這是**粗', '這是粗'],
    ['a dangling backtick inside a word is dropped', '使用`np', '使用np'],
    ['a lone * or _ inside a word is kept', '2*3 and snake_ca', '2*3 and snake_ca'],
    ['an incomplete link shows its text', 'see [the docs](https://exa', 'see the docs'],
    ['an unclosed link text shows as text', 'see [the do', 'see the do'],
    ['a lone # is not shown', 'Intro\n\n#', 'Intro'],
    ['the cut inside a list item', '- one\n- two **b', '• one\n• two b'],
    ['the cut inside a quote', '> quote *x', '> quote x'],
  ])('%s', (_name, markdown, expected) => {
    expect(toMrkdwn(markdown, { streaming: true })).toBe(expected);
  });

  test('the final render keeps what streaming hides', () => {
    expect(toMrkdwn('Hello **wor')).toBe('Hello **wor');
    expect(toMrkdwn('```js\nx()\n``')).toBe('```\nx()\n``\n```');
  });

  test('only the end of the partial answer is neutralised', () => {
    expect(toMrkdwn('use *args here\n\nmore **text', { streaming: true })).toBe('use *args here\n\nmore text');
  });
});

describe('toMrkdwn on hostile input', () => {
  /** Outside our own link entities and quote marks (after a line's indent and list markers), `&`, `<` and `>` only appear escaped. */
  function expectEscaped(mrkdwn: string): void {
    expectOnlyWrittenLinks(mrkdwn, null);
    const text = mrkdwn.replace(/<(?:https?:\/\/|mailto:)[^<>]*>/g, '').replace(/^[\s>•◦▪☐☑\d.]*/gm, '');
    expect(text).not.toMatch(/[<>]/);
    expect(text.replace(/&(?:amp|lt|gt);/g, '')).not.toContain('&');
  }

  test('any text, however long, nested or malformed, renders without throwing, escaped, streaming or not', () => {
    fc.assert(
      fc.property(fc.oneof(hostileText, deepNesting, wideTable, longLines), fc.boolean(), (markdown, streaming) => {
        expectEscaped(toMrkdwn(markdown, { streaming }));
      }),
      { numRuns: 300 },
    );
  });

  test('quotes nested 4,000 deep show as a quote of the rest, every `>` kept', () => {
    const mrkdwn = toMrkdwn(`Here:\n\n${'>'.repeat(4000)} done`);
    expect(mrkdwn).toMatch(/^Here:\n\n> > /);
    expect(mrkdwn).toMatch(/&gt; done$/);
    expect((mrkdwn.match(/>|&gt;/g) ?? []).length).toBe(4000);
  });

  test('lists and quotes nested thousands deep, on one line or by indentation, keep their text', () => {
    expect(toMrkdwn(`${'> - '.repeat(3000)}end`)).toMatch(/end$/);
    const items = Array.from({ length: 500 }, (_, i) => `${'  '.repeat(i)}- item${i}`).join('\n');
    expect(toMrkdwn(items).match(/item\d+/g)).toEqual(Array.from({ length: 500 }, (_, i) => `item${i}`));
  });

  // Found by fast-check (split.test.ts, seed 1704123933): ordered-list markers were never capped, so `1. ` × 4,263
  // recursed in marked until the stack ran out, and whether it did depended on how deep the caller's stack was.
  test.each(['1. ', '1) ', '- ', '> ', '> 1. '])('%j nested past 8 levels on one line shows the rest as text, not as a fallback', (marker) => {
    const mrkdwn = toMrkdwn(`${marker.repeat(12)}x`);
    expect(mrkdwn).toMatch(/\S.*x$/);
    // 12 markers: 8 levels nest, the other 4 are the text.
    expect(mrkdwn).toContain(`${`${marker.trim().replace('>', '&gt;')} `.repeat(4)}x`);
  });

  test.each(['1. ', '1) ', '- '])('%j nested thousands deep renders as the capped list, not as the fallback text of a failed render', (marker) => {
    expect(toMrkdwn(`${marker.repeat(4263)} x\ny`)).toMatch(/^ {28}\S/);
  });

  test('emphasis nested thousands deep keeps its words', () => {
    const mrkdwn = toMrkdwn(`${'**a '.repeat(3000)}x${' b**'.repeat(3000)}`);
    expect(mrkdwn.match(/\ba\b/g)).toHaveLength(3000);
    expect(mrkdwn.match(/\bb\b/g)).toHaveLength(3000);
  });
});
