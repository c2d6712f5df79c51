import fc from 'fast-check';
import { toMrkdwn } from '../../src/slack/render.js';
import { AnswerLayout, SLACK_TEXT_LIMIT, splitAll, splitForSlack, type Split } from '../../src/slack/split.js';
import { count, deepNesting, hostileText, longLines, markdownArbitraries, WORD, wideTable, words } from './markdownArbitraries.js';

// ---- Markdown-like answers. Each `§` becomes a unique word w0, w1, … in reading order. ----
// (Built like render.test.ts's, with what stresses splitting: long unbroken tokens, long lines,
// code blocks and tables.)

// Characters used only by unbroken tokens, counted to prove a hard cut loses nothing.
const LONG_CHARS = ['Z', 'ж', '🦀'];
const URLS = ['https://example.com/u1', 'https://example.com/a?b=1&c=2', 'http://example.org/x|y', 'https://example.com/p>q'];

const inline = fc.oneof(
  { weight: 14, arbitrary: fc.constant(WORD) },
  count.map((n) => `**${words(n)}**`),
  count.map((n) => `_${words(n)}_`),
  count.map((n) => `~~${words(n)}~~`),
  count.map((n) => `\`${words(n)} & x\``),
  fc.tuple(count, fc.constantFrom(...URLS)).map(([n, url]) => `[${words(n)} | a > b](${url})`),
  fc.constantFrom('https://example.com/bare?q=1&r=2', '&', '<', '>', '<!here>', '@channel', '<@U123>', '🎉', '日本語', '&&&&&'),
  fc.tuple(fc.constantFrom(...LONG_CHARS), fc.integer({ min: 100, max: 2000 })).map(([char, n]) => char.repeat(n)),
);
const { answer } = markdownArbitraries({
  inline,
  lineItems: 25,
  paragraphLines: 4,
  headingLevels: 3,
  headingText: 'words',
  fenceOpeners: ['```', '```python', '~~~ts'],
  fenceLineWords: 12,
  fenceTails: ['', ' = a < b && c', ' # **x**'],
  fenceLines: 25,
  listItems: 10,
  tableRows: 20,
  rule: false,
});
const limit = fc.integer({ min: 300, max: SLACK_TEXT_LIMIT });
/** Where the edits of a streamed answer show it, as shares of its length: one, then more. */
const share = fc.double({ min: 0, max: 1, noNaN: true });
const moreShares = fc.array(share, { maxLength: 6 });

/** The answer as its edits show it: the prefixes at the sorted `shares`, then the whole answer. */
function growing(markdown: string, shares: number[]): string[] {
  return [...[...shares].sort((a, b) => a - b).map((at) => markdown.slice(0, Math.floor(at * markdown.length))), markdown];
}

// ---- Checks ----

const wordsIn = (text: string): string[] => text.match(/(?<![\p{L}\p{N}])w\d+(?!\d)/gu) ?? [];
const occurrences = (text: string, char: string): number => text.split(char).length - 1;

/** What every part must satisfy: it fits, its fences balance, and it stays safe and unbroken. */
function expectGoodPart(mrkdwn: string, max: number): void {
  expect(mrkdwn.length).toBeLessThanOrEqual(max);
  expect(occurrences(mrkdwn, '```') % 2).toBe(0);
  const prose = mrkdwn.replace(/```[\s\S]*?```/g, '');
  expect(prose).not.toContain('**');
  expect(prose).not.toMatch(/^#/m);
  expect(mrkdwn).not.toMatch(/<[!@#]/);
  for (const at of [...mrkdwn.matchAll(/</g)].map((m) => m.index)) expect(mrkdwn.slice(at)).toMatch(/^<https?:\/\/[^<>|\s]+(?:\|[^<>|]*)?>/);
}

/** Every word exactly once and in order across the parts, code still shown as code; every character of an unbroken token kept. */
function expectEverythingOnce(parts: string[], markdown: string): void {
  const shown = parts.join('\n');
  expect(wordsIn(shown)).toEqual(wordsIn(markdown));
  const shownAsCode = new Set(wordsIn(parts.flatMap((part) => part.match(/```[\s\S]*?```/g) ?? []).join('\n')));
  const fenced = wordsIn((markdown.match(/^(```|~~~).*\n[\s\S]*?\n\1$/gm) ?? []).join('\n'));
  expect(fenced.filter((word) => !shownAsCode.has(word))).toEqual([]);
  for (const char of LONG_CHARS) expect(occurrences(shown, char)).toBe(occurrences(markdown, char));
}

/** The caller's streaming loop: finish a message whenever the live text overflows, carry the reopen prefix. */
function streamInto(answer: string, chunks: number[], max: number): { finished: string[]; live: string; splits: Array<{ split: Split; carry: string }> } {
  const layout = new AnswerLayout();
  const finished: string[] = [];
  const splits: Array<{ split: Split; carry: string }> = [];
  let offset = 0;
  let carry = '';
  let received = 0;
  for (const size of [...chunks, answer.length]) {
    received = Math.min(answer.length, received + size);
    for (;;) {
      const live = carry + answer.slice(offset, received);
      const split = splitForSlack(live, max, layout);
      if (!split) break;
      splits.push({ split, carry });
      finished.push(toMrkdwn(split.head));
      offset += split.consumed - carry.length;
      carry = split.reopen;
    }
  }
  return { finished, live: toMrkdwn(carry + answer.slice(offset)), splits };
}

describe('splitAll properties', () => {
  test('parts fit the limit, balance fences, stay safe, and show every word once and in order', () => {
    fc.assert(
      fc.property(answer, limit, (markdown, max) => {
        const parts = splitAll(markdown, max).map((part) => toMrkdwn(part));
        for (const part of parts) expectGoodPart(part, max);
        expectEverythingOnce(parts, markdown);
      }),
      { numRuns: 150 },
    );
  });

  test('splitting while streaming (carry + rest of the answer) loses and repeats nothing, and always progresses', () => {
    fc.assert(
      fc.property(answer, limit, fc.array(fc.integer({ min: 1, max: 400 }), { maxLength: 80 }), (markdown, max, chunks) => {
        const { finished, live, splits } = streamInto(markdown, chunks, max);
        for (const part of [...finished, live]) expectGoodPart(part, max);
        expectEverythingOnce([...finished, live], markdown);
        for (const { split, carry } of splits) expect(split.consumed).toBeGreaterThan(carry.length);
      }),
      { numRuns: 100 },
    );
  });

  test('a finished part does not change as the answer grows (one layout across its edits)', () => {
    const stable = fc.property(answer, limit, share, moreShares, (markdown, max, first, more) => {
      const layout = new AnswerLayout();
      const steps = growing(markdown, [first, ...more]).map((prefix) => splitAll(prefix, max, layout));
      for (const [i, early] of steps.entries()) for (const late of steps.slice(i + 1)) expect(late.slice(0, early.length - 1)).toEqual(early.slice(0, -1));
    });
    fc.assert(stable, { numRuns: 150 });
    // Replays the run that failed before answers had a layout (a code span closed after a cut inside it).
    fc.assert(stable, { seed: 1828422267, path: '1544', numRuns: 1 });
  });

  test('a layout changes no words shown: a fresh one splits as none does, a used one only keeps its earlier cuts', () => {
    fc.assert(
      fc.property(answer, limit, share, moreShares, (markdown, max, first, more) => {
        expect(splitAll(markdown, max, new AnswerLayout())).toEqual(splitAll(markdown, max));
        const layout = new AnswerLayout();
        for (const prefix of growing(markdown, [first, ...more])) {
          const parts = splitAll(prefix, max, layout);
          for (const part of parts) expect(toMrkdwn(part, { cache: layout.render }).length).toBeLessThanOrEqual(max);
          expect(wordsIn(parts.join('\n'))).toEqual(wordsIn(splitAll(prefix, max).join('\n')));
        }
      }),
      { numRuns: 100 },
    );
  });

  test('splitForSlack returns null exactly when the whole text fits', () => {
    fc.assert(
      fc.property(answer, limit, (markdown, max) => {
        const split = splitForSlack(markdown, max);
        if (toMrkdwn(markdown).length <= max) expect(split).toBeNull();
        else {
          expect(split).not.toBeNull();
          expect(toMrkdwn(split?.head ?? '').length).toBeLessThanOrEqual(max);
          expect(split?.head.startsWith(markdown.slice(0, split.consumed))).toBe(true);
        }
      }),
      { numRuns: 150 },
    );
  });
});

describe('splitForSlack examples', () => {
  const para = (first: number, n: number): string => Array.from({ length: n }, (_, i) => `w${first + i}`).join(' ');

  test('uses the default limit', () => {
    expect(splitForSlack('short answer')).toBeNull();
    const long = `${para(0, 500)}\n\n${para(500, 500)}`;
    expect(toMrkdwn(splitForSlack(long)?.head ?? '').length).toBeLessThanOrEqual(SLACK_TEXT_LIMIT);
  });

  test('prefers a paragraph boundary that fills half a message to a fuller cut inside the next paragraph', () => {
    const first = para(0, 45);
    const markdown = `${first}\n\n${para(45, 20)}\n${para(65, 20)}`;
    expect(splitForSlack(markdown, 300)).toEqual({ head: `${first}\n\n`, consumed: first.length + 2, reopen: '' });
    const short = para(0, 25);
    const fuller = `${short}\n\n${para(25, 30)}\n${para(55, 30)}`;
    expect(splitForSlack(fuller, 300)?.head).toBe(`${short}\n\n${para(25, 30)}\n`);
  });

  test('falls back to a line boundary, then to a space, never cutting a word', () => {
    const lines = `${para(0, 10)}\n${para(10, 10)}\n${para(20, 10)}`;
    expect(splitForSlack(lines, 90)?.head).toBe(`${para(0, 10)}\n${para(10, 10)}\n`);
    const spaced = para(0, 60);
    const head = splitForSlack(spaced, 100)?.head ?? '';
    expect(head.length).toBeGreaterThan(90);
    expect(head).toMatch(/ $/);
  });

  test('closes a fence at the cut and reopens it with its language', () => {
    const code = Array.from({ length: 40 }, (_, i) => `print(${i})`).join('\n');
    const markdown = `Intro\n\n\`\`\`python\n${code}\n\`\`\`\n\nOutro`;
    const split = splitForSlack(markdown, 200);
    expect(split?.reopen).toBe('```python\n');
    expect(split?.head).toMatch(/^Intro\n\n```python\nprint\(0\)\n[\s\S]*\)\n```$/);
    const rest = `${split?.reopen}${markdown.slice(split?.consumed)}`;
    expect(toMrkdwn(rest)).toMatch(/^```\nprint\(\d+\)/);
  });

  test('closes and reopens a fence inside a quote with its quote mark', () => {
    const code = Array.from({ length: 30 }, (_, i) => `> print(${i})`).join('\n');
    const split = splitForSlack(`> \`\`\`python\n${code}\n> \`\`\``, 200);
    expect(split?.reopen).toBe('> ```python\n');
    expect(split?.head).toMatch(/\)\n> ```$/);
  });

  test('hard-cuts a single unbroken token longer than the limit, keeping every character', () => {
    const token = 'x'.repeat(10_000);
    const parts = splitAll(token, 3500);
    expect(parts.map((part) => part.length)).toEqual([3500, 3500, 3000]);
    expect(parts.join('')).toBe(token);
    // Nor does it split a character made of several code points.
    const coder = '👩‍💻';
    for (const part of splitAll(`${coder.repeat(600)}e\u0301${coder.repeat(600)}`, 1000)) expect(part).toMatch(/^(?:👩‍💻|e\u0301)+$/u);
  });

  test('does not cut inside a link, and moves it whole to the next part', () => {
    const link = '[the full reference documentation](https://example.com/a/very/long/path?with=query&and=more)';
    const markdown = `${para(0, 20)} ${link} ${para(20, 3)}`;
    const parts = splitAll(markdown, 160);
    expect(parts.some((part) => part.includes(link))).toBe(true);
    for (const part of parts) expect(toMrkdwn(part).length).toBeLessThanOrEqual(160);
  });

  test('a hard cut of long text does not break a URL shorter than the limit', () => {
    const url = 'https://example.com/path/to/something';
    const markdown = `${'y'.repeat(180)}${url}${'y'.repeat(100)}`;
    const parts = splitAll(markdown, 200).map((part) => toMrkdwn(part));
    expect(parts.some((part) => part.includes(`<${url}`))).toBe(true);
  });

  test('measures the rendered text: escaping counts', () => {
    const markdown = `${'& '.repeat(100)}\n${'& '.repeat(100)}`;
    const split = splitForSlack(markdown, 600);
    expect(toMrkdwn(split?.head ?? '').length).toBeLessThanOrEqual(600);
    expect(split?.consumed).toBe(201);
  });

  test('repeats a table header in the next part when a table is cut between rows', () => {
    const rows = Array.from({ length: 30 }, (_, i) => `| r${i} | v${i} |`).join('\n');
    const markdown = `| Name | Value |\n|---|---|\n${rows}`;
    const split = splitForSlack(markdown, 300);
    expect(split?.reopen).toBe('| Name | Value |\n|---|---|\n');
    expect(toMrkdwn(`${split?.reopen}${markdown.slice(split?.consumed)}`)).toMatch(/^```\nName +\| Value\n/);
  });

  test('a cut decided before the next line is complete is not reused once that line makes a table header', () => {
    const before = `${para(0, 3)}\n\n| ${para(3, 30)} | h2 |\n`;
    const max = toMrkdwn(before).length;
    const layout = new AnswerLayout();
    expect(splitForSlack(`${before}|`, max, layout)?.consumed).toBe(before.length);
    const table = `${before}|---|---|\n| a | b |\n| c | d |\n`;
    expect(splitForSlack(table, max, layout)?.consumed).not.toBe(before.length);
  });

  test('a paragraph boundary that arrives later and still fits is taken', () => {
    const start = `${para(0, 45)}\n\nshort line one\nshort line two\n`;
    const long = para(100, 80);
    const layout = new AnswerLayout();
    expect(splitForSlack(`${start}${long}`, 300, layout)?.consumed).toBe(para(0, 45).length + 2);
    const more = `${start}\nw90 w91\n${long}`;
    expect(splitForSlack(more, 300, layout)?.consumed).toBe(start.length + 1);
  });

  // Found by fast-check (seed 1828422267): a part cut while a code span was still open, and the same answer once
  // the span closed, which a fresh split cuts before the span.
  const openSpan = `> w0 ${'Z'.repeat(519)} w1 w2 [w3 w4 | a > b](https://example.com/a?b=1&c=2) w5 ~~w6 w7~~ \`w8 & x\``;
  const spanTyped = openSpan.slice(0, -1);

  test('a part finished while a code span was being typed stays as it was once the span closes', () => {
    const layout = new AnswerLayout();
    const early = splitAll(spanTyped, 300, layout);
    expect(early.at(-2)).toMatch(/`w8 & $/);
    // A fresh split cuts elsewhere: the example still needs the layout.
    expect(splitAll(openSpan, 300).slice(0, early.length - 1)).not.toEqual(early.slice(0, -1));
    expect(splitAll(openSpan, 300, layout).slice(0, early.length - 1)).toEqual(early.slice(0, -1));
  });

  test('a retry (an answer not extending the last) drops the finished parts; another limit starts over', () => {
    const layout = new AnswerLayout();
    splitAll(spanTyped, 300, layout);
    expect(splitAll(openSpan, 400, layout)).toEqual(splitAll(openSpan, 400));
    expect(splitAll('_Retrying…_', 300, layout)).toEqual(['_Retrying…_']);
    expect(splitAll(openSpan, 300, layout)).toEqual(splitAll(openSpan, 300));
    // A retry that repeats the answer's start keeps the parts it still starts with.
    const first = splitAll(openSpan, 300, layout)[0] ?? '';
    expect(splitAll(`${first}w9`, 300, layout)).toEqual([first, 'w9']);
  });

  test('splitAll returns the answer itself when it fits', () => {
    expect(splitAll('**short**')).toEqual(['**short**']);
    expect(splitAll('')).toEqual(['']);
  });
});

describe('splitAll on hostile input', () => {
  test('every part fits the limit, final or streaming, for any text: lines of any length, tables wider than a message, deep nesting', () => {
    fc.assert(
      fc.property(fc.oneof(hostileText, deepNesting, wideTable, longLines), limit, (markdown, max) => {
        const parts = splitAll(markdown, max);
        for (const part of parts) {
          expect(toMrkdwn(part).length).toBeLessThanOrEqual(max);
          expect(toMrkdwn(part, { streaming: true }).length).toBeLessThanOrEqual(max);
        }
      }),
      { numRuns: 150 },
    );
  });

  test('a table wider than any message is cut across parts, every body cell kept once', () => {
    fc.assert(
      fc.property(wideTable, limit, share, (markdown, max, first) => {
        // Fresh, and through a layout holding the parts it froze for a prefix (hard cuts of a line still growing).
        const layout = new AnswerLayout();
        splitAll(markdown.slice(0, Math.floor(first * markdown.length)), max, layout);
        for (const parts of [splitAll(markdown, max), splitAll(markdown, max, layout)]) {
          for (const part of parts) expect(toMrkdwn(part).length).toBeLessThanOrEqual(max);
          // Body cells are the only `c`s; a repeated table head carries none.
          expect(occurrences(parts.join(''), 'c')).toBe(occurrences(markdown, 'c'));
        }
      }),
      { numRuns: 100 },
    );
  });

  test('a 300-column table fits at the limit and at the smallest limit a re-split uses', () => {
    const columns = Array.from({ length: 300 }, (_, i) => i);
    const table = [`| ${columns.map((i) => `head${i}`).join(' | ')} |`, `|${columns.map(() => '---').join('|')}|`, `| ${columns.map((i) => `cell${i}`).join(' | ')} |`].join('\n');
    for (const max of [SLACK_TEXT_LIMIT, 437]) {
      const parts = splitAll(table, max);
      for (const part of parts) expect(toMrkdwn(part).length).toBeLessThanOrEqual(max);
      expect(parts.join('')).toBe(table);
    }
  });

  test('a code line longer than the limit is hard-cut, the fence closed and reopened around each cut', () => {
    const markdown = `\`\`\`python\n${'x = 1; '.repeat(2000)}\n\`\`\``;
    const parts = splitAll(markdown, 1000).map((part) => toMrkdwn(part));
    expect(parts.length).toBeGreaterThan(10);
    for (const part of parts) {
      expect(part.length).toBeLessThanOrEqual(1000);
      expect(part).toMatch(/^```\n[\s\S]*\n```$/);
    }
  });
});
