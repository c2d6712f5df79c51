import fc from 'fast-check';
import { appendableLength, ENDS_A_PIECE, inertMarkdown, inertMentions } from '../../src/slack/inertMarkdown.js';

const ZWSP = '\u200b';

// ---- What Slack could see in the Markdown: entities and backslash escapes decoded, emphasis markers gone ----

const NAMED: Record<string, string> = { lt: '<', gt: '>', amp: '&', commat: '@' };

const codePoint = (n: number): string => String.fromCodePoint(Math.min(n, 0x10ffff));

/** The text a Markdown renderer shows for `markdown`, with every `*`, `_`, `~` and backtick removed (stricter than any renderer). */
function shownText(markdown: string): string {
  return markdown
    .replace(/\\([!-/:-@[-`{-~])/g, '$1')
    .replace(/&(?:#(\d+)|#x([0-9a-f]+)|(\w+));/gi, (entity, dec?: string, hex?: string, name?: string) =>
      dec ? codePoint(Number(dec)) : hex ? codePoint(parseInt(hex, 16)) : (NAMED[(name ?? '').toLowerCase()] ?? entity),
    )
    .replace(/[*_~`]/g, '');
}

/** Each of Slack's live forms, by name (Slack formatting reference: "Advanced formatting"). */
const LIVE_FORMS: Record<string, RegExp> = {
  'special mention <!channel> <!here> <!everyone>': /<!(?:channel|here|everyone|group)/i,
  'user group <!subteam^…>': /<!subteam\^/i,
  'date <!date^…>': /<!date\^/i,
  'user <@U…> <@W…>': /<@/,
  'channel <#C…>': /<#/,
  'link <url|label> <url>': /<[a-z][a-z0-9+.-]*:/i,
  'any entity-opening <': /<(?![\s\u200b]|$)/,
  'bare @channel @here @everyone': /@(?:channel|here|everyone)/i,
};

function liveFormsIn(markdown: string): string[] {
  const shown = shownText(markdown);
  return Object.entries(LIVE_FORMS)
    .filter(([, form]) => form.test(shown))
    .map(([name]) => name);
}

// ---- Strings made of the pieces that make (or almost make) Slack syntax ----

const PIECES = [
  ...['<', '>', '!', '@', '|', '^', '#', '\\', '*', '**', '_', '~', '`', '```', '&', ';', ':', '/', '[', ']', '(', ')'],
  ...['here', 'channel', 'everyone', 'HeRe', 'CHANNEL', 'ever', 'chan', 'C1', '#C1', 'U1', 'W1', 'subteam^S1', 'date^1^{date}', 'a', 'b.com'],
  ...['https://x.io', 'mailto:', '&lt;', '&LT;', '&#60;', '&#x3C;', '&#0060;', '&#64;', '&#x40;', '&commat;', '&#99;', 'hannel', '&#104;', 'ere', '&amp;', '&gt;', ZWSP],
  ...[' ', '  ', '\n', '\n\n', '\t', '\u00a0', '\r\n'],
  ...['日本語', '。', 'です', 'カ', '한'],
];
const tricky = fc.array(fc.constantFrom(...PIECES), { maxLength: 40 }).map((parts) => parts.join(''));

describe('inertMarkdown: properties', () => {
  test('no live Slack syntax survives, in whatever is shown after entities, escapes and emphasis', () => {
    fc.assert(
      fc.property(tricky, (markdown) => {
        expect(liveFormsIn(inertMarkdown(markdown))).toEqual([]);
      }),
      { numRuns: 3000 },
    );
  });

  test('prefix-stable: for every cut after whitespace, the neutralised prefix starts the neutralised whole', () => {
    fc.assert(
      fc.property(tricky, tricky, (a, b) => {
        const whole = a + b;
        const full = inertMarkdown(whole);
        for (let cut = 1; cut <= whole.length; cut++) {
          if (/\s/.test(whole[cut - 1] ?? '')) expect(full.startsWith(inertMarkdown(whole.slice(0, cut)))).toBe(true);
        }
      }),
      { numRuns: 1500 },
    );
  });

  test('only inserts zero-width spaces, and is idempotent', () => {
    fc.assert(
      fc.property(tricky, (markdown) => {
        const out = inertMarkdown(markdown);
        expect(out.replaceAll(ZWSP, '')).toBe(markdown.replaceAll(ZWSP, ''));
        expect(inertMarkdown(out)).toBe(out);
      }),
      { numRuns: 1500 },
    );
  });

  test('appendableLength: a start ending at whitespace or a CJK character that no continuation changes once neutralised', () => {
    fc.assert(
      fc.property(tricky, tricky, (sent, more) => {
        const length = appendableLength(sent);
        const held = sent.slice(length);
        expect(length === 0 || ENDS_A_PIECE.test(sent[length - 1] ?? '')).toBe(true);
        expect([...held].some((char) => ENDS_A_PIECE.test(char))).toBe(false);
        expect(inertMarkdown(sent + more).startsWith(inertMarkdown(sent.slice(0, length)))).toBe(true);
      }),
      { numRuns: 1500 },
    );
  });

  test('inertMentions makes exactly the bare mentions inert that inertMarkdown does', () => {
    fc.assert(
      fc.property(tricky, (markdown) => {
        const withoutLessThan = markdown.replace(/<|&(?:lt|#0*60|#x0*3c);/gi, '');
        expect(inertMentions(withoutLessThan)).toBe(inertMarkdown(withoutLessThan));
      }),
      { numRuns: 1000 },
    );
  });
});

describe('inertMarkdown: examples', () => {
  test.each([
    ['<!channel>', `<${ZWSP}!channel>`],
    ['<!here> and <!everyone>', `<${ZWSP}!here> and <${ZWSP}!everyone>`],
    ['<!here|@here>', `<${ZWSP}!here|@${ZWSP}here>`],
    ['<!subteam^S012AB|@oncall>', `<${ZWSP}!subteam^S012AB|@oncall>`],
    ['<!date^1392734382^{date_short}|Feb 18, 2014>', `<${ZWSP}!date^1392734382^{date_short}|Feb 18, 2014>`],
    ['<@U024BE7LH> and <@W123|bob>', `<${ZWSP}@U024BE7LH> and <${ZWSP}@W123|bob>`],
    ['<#C024BE7LR> or <#C024BE7LR|general>', `<${ZWSP}#C024BE7LR> or <${ZWSP}#C024BE7LR|general>`],
    ['<https://evil.example|your bank> <https://example.com>', `<${ZWSP}https://evil.example|your bank> <${ZWSP}https://example.com>`],
    ['Hey @channel, @Here and @EVERYONE!', `Hey @${ZWSP}channel, @${ZWSP}Here and @${ZWSP}EVERYONE!`],
    ['@**here** and @\\_here', `@${ZWSP}**here** and @${ZWSP}\\_here`],
    ['&lt;!here&gt; &#60;@U1&#62; &#64;channel @&#99;hannel', `&lt;${ZWSP}!here&gt; &#60;${ZWSP}@U1&#62; &#64;${ZWSP}channel @${ZWSP}&#99;hannel`],
    ['\\<!here>', `\\<${ZWSP}!here>`],
    // In code, the break is invisible: the code reads the same.
    ['run `notify <!here>` now', `run \`notify <${ZWSP}!here>\` now`],
    ['```sh\necho "<@U1> @channel"\n```', `\`\`\`sh\necho "<${ZWSP}@U1> @${ZWSP}channel"\n\`\`\``],
    ['| who | note |\n|---|---|\n| <@U1> | @here |', `| who | note |\n|---|---|\n| <${ZWSP}@U1> | @${ZWSP}here |`],
    ['[@channel <!here>](https://example.com)', `[@${ZWSP}channel <${ZWSP}!here>](https://example.com)`],
    // A `<` that cannot open anything stays as it is.
    ['a < b and c <\n', 'a < b and c <\n'],
  ])('%j → %j', (markdown, expected) => {
    expect(inertMarkdown(markdown)).toBe(expected);
  });

  test.each([
    ['a table', '| Name | Qty |\n|:-----|----:|\n| apple | 3 |\n| kiwi & co | 12 |'],
    ['a fenced block', '```python\ndef f(x):\n    return x * 2  # **not bold**\n```'],
    ['a link', 'See [docs](https://example.com) and https://example.com/a?b=1&c=2.'],
    ['headings, lists, emphasis', '# Title\n\n## Sub\n\n- **bold** and _it_\n- ~~gone~~ `code`\n\n1. one\n2. two\n\n> quote\n\n---'],
    // Not a mention Slack parses from text, and a mail client still gets the whole address.
    ['an e-mail address', 'Write to a@b.com or ops@example.org.'],
    ['other @ words', '@Override, @username and @chan'],
  ])('%s passes unchanged', (_, markdown) => {
    expect(inertMarkdown(markdown)).toBe(markdown);
  });

  test('an address whose domain starts with a mention word gets the invisible break: it can never ping', () => {
    expect(inertMarkdown('ops@here.com')).toBe(`ops@${ZWSP}here.com`);
  });
});

describe('appendableLength: examples', () => {
  test.each([
    ['', 0],
    ['word', 0],
    ['Hi @ever', 3],
    ['Hi @everyone ', 13],
    ['a <!he', 2],
    ['line\nnext', 5],
    ['a < b', 4],
    ['日本語の回答', 6],
    ['答え@he', 2],
  ])('%j → %d', (markdown, length) => {
    expect(appendableLength(markdown)).toBe(length);
  });
});
