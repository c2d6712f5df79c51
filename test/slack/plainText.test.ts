import fc from 'fast-check';
import { referencedIds, toPlainText, type PlainTextNames } from '../../src/slack/plainText.js';

/** What Slack does to a user's literal text before sending it: `&`, `<` and `>` escaped. */
const slackEscape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const names: PlainTextNames = {
  botUserId: 'UBOT',
  users: new Map([
    ['U0OTHER', 'Ada Lovelace'],
    ['U1', 'grace'],
  ]),
  channels: new Map([['C1', 'random']]),
};
const noNames: PlainTextNames = { users: new Map(), channels: new Map() };

describe('toPlainText: examples from the issue', () => {
  test('a mention with another user, the bot twice, a channel and a labelled link', () => {
    const text = '<@U0OTHER> I think so. <@UBOT> summarise <#C0CHAN|general> and <https://ex.com/a_b|this doc>? cc <@UBOT>';
    expect(toPlainText(text, names)).toBe('@Ada Lovelace I think so. summarise #general and this doc (https://ex.com/a_b)? cc');
  });

  test('entities are decoded exactly once', () => {
    expect(toPlainText('<@UBOT> is a &lt; b &amp;&amp; c?', names)).toBe('is a < b && c?');
    expect(toPlainText('a &amp;lt; b &amp;gt; c', names)).toBe('a &lt; b &gt; c');
    expect(toPlainText('&quot;as is&quot; &#39;too&#39;', names)).toBe('&quot;as is&quot; &#39;too&#39;');
  });

  test.each([
    ['<@U1>', '@grace'],
    ['<@U1|someone>', '@grace'],
    ['<@U9|bob>', '@bob'],
    ['<@U9>', '@U9'],
    ['<#C1>', '#random'],
    ['<#C1|general>', '#general'],
    ['<#C9|>', '#C9'],
    ['<#C9>', '#C9'],
    ['<https://ex.com>', 'https://ex.com'],
    ['<https://ex.com|https://ex.com>', 'https://ex.com'],
    ['<https://ex.com|ex.com>', 'https://ex.com'],
    ['<https://ex.com/?a=1&amp;b=2|q &amp; a>', 'q & a (https://ex.com/?a=1&b=2)'],
    ['<mailto:x@ex.com|x@ex.com>', 'x@ex.com'],
    ['<mailto:x@ex.com|write to X>', 'write to X (x@ex.com)'],
    ['<!here>', '@here'],
    ['<!channel>', '@channel'],
    ['<!everyone>', '@everyone'],
    ['<!here|@here>', '@here'],
    ['<!subteam^S1|@oncall>', '@oncall'],
    ['<!date^1392734382^{date_short} at {time}|Feb 18, 2014 at 6:39 AM>', 'Feb 18, 2014 at 6:39 AM'],
    ['<!something^x|shown>', 'shown'],
    ['<@UBOT|claude>', ''],
  ])('%s reads as %j', (markup, plain) => {
    expect(toPlainText(markup, names)).toBe(plain);
  });

  test("the bot's own mention leaves no doubled space, blank edge or empty line behind", () => {
    expect(toPlainText('<@UBOT> <@UBOT>  hi <@UBOT> there <@UBOT>', names)).toBe('hi there');
    expect(toPlainText('first line\n<@UBOT>\nsecond <@UBOT>\n\nthird', names)).toBe('first line\nsecond\n\nthird');
    expect(toPlainText('<@UBOT>', names)).toBe('');
  });

  test('a < that opens no markup stays text', () => {
    expect(toPlainText('a < b <> c', names)).toBe('a < b <> c');
  });
});

// ---- A message as pieces: each piece is written as Slack sends it and as a person reads it. ----

interface Piece {
  slack: string;
  plain: string;
  user?: string;
  channel?: string;
}

/** Typed text, rich in what entities and markup are made of, so decoding twice or parsing typed `<` would show. */
const typed = fc
  .array(fc.oneof(fc.constantFrom('&', 'amp;', 'lt;', 'gt;', '<', '>', '|', '@U1', '#C1', '!here', ' ', '\n'), fc.string({ unit: 'grapheme', maxLength: 3 })), {
    maxLength: 8,
  })
  .map((parts) => parts.join(''));
const label = typed.filter((s) => s !== '' && !s.startsWith('@'));
const urls = ['https://ex.com/a_b', 'http://ex.org/x?y=1&amp;z=2', 'https://ex.com'];

const piece: fc.Arbitrary<Piece> = fc.oneof(
  { weight: 4, arbitrary: typed.map((plain) => ({ slack: slackEscape(plain), plain })) },
  fc.tuple(fc.constantFrom('U0OTHER', 'U1', 'U9', 'W2'), fc.option(label, { nil: undefined })).map(([id, name]) => ({
    slack: name === undefined ? `<@${id}>` : `<@${id}|${slackEscape(name)}>`,
    plain: `@${names.users.get(id) ?? name ?? id}`,
    user: id,
  })),
  fc.tuple(fc.constantFrom('C1', 'C2'), fc.option(label, { nil: undefined })).map(([id, name]) =>
    name === undefined
      ? { slack: `<#${id}>`, plain: `#${names.channels.get(id) ?? id}`, channel: id }
      : { slack: `<#${id}|${slackEscape(name)}>`, plain: `#${name}` },
  ),
  fc.tuple(fc.constantFrom(...urls), fc.option(label, { nil: undefined })).map(([url, name]) => {
    const shown = url.replace(/&amp;/g, '&');
    return name === undefined || name === shown || name === shown.replace(/^https?:\/\//, '')
      ? { slack: `<${url}>`, plain: shown }
      : { slack: `<${url}|${slackEscape(name)}>`, plain: `${name} (${shown})` };
  }),
  fc.constantFrom<Piece>(
    { slack: '<!here>', plain: '@here' },
    { slack: '<!channel|@channel>', plain: '@channel' },
    { slack: '<!subteam^S1|@oncall>', plain: '@oncall' },
    { slack: '<!date^1392734382^{date}|Feb 18, 2014>', plain: 'Feb 18, 2014' },
  ),
);
const pieces = fc.array(piece, { maxLength: 10 });

describe('toPlainText: properties', () => {
  test('a message reads as its pieces read, in order', () => {
    fc.assert(
      fc.property(pieces, (parts) => {
        const slack = parts.map((p) => p.slack).join('');
        expect(toPlainText(slack, names)).toBe(
          parts
            .map((p) => p.plain)
            .join('')
            .trim(),
        );
      }),
    );
  });

  test('what the user typed, escaped by Slack, comes back exactly (decoded once)', () => {
    fc.assert(
      fc.property(typed, (text) => {
        expect(toPlainText(slackEscape(text), noNames)).toBe(text.trim());
      }),
    );
  });

  test("the bot's mentions anywhere between words change nothing else", () => {
    const word = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 6 }).filter((s) => s.trim() === s && !/\s/.test(s));
    const bot = fc.constantFrom('<@UBOT>', '<@UBOT|claude>');
    const spaced = fc.array(fc.tuple(word, fc.constantFrom(' ', '\n'), fc.array(bot, { maxLength: 2 })), { minLength: 1, maxLength: 8 });
    fc.assert(
      fc.property(fc.array(bot, { maxLength: 2 }), spaced, (lead, rest) => {
        const slack = [...lead, ...rest.flatMap(([w, , mentions]) => [slackEscape(w), ...mentions])].join(' ');
        const plain = rest.map(([w]) => w).join(' ');
        expect(toPlainText(slack, names)).toBe(plain);
        // Any separator works the same way: the mentions take their spacing with them.
        const slackWith = lead.join(' ') + rest.map(([w, sep, mentions]) => [slackEscape(w), ...mentions].join(sep) + sep).join('');
        const plainWith = rest.map(([w, sep]) => w + sep).join('');
        expect(toPlainText(slackWith, names)).toBe(plainWith.trim());
      }),
    );
  });

  test('referencedIds names every mentioned user and every unlabelled channel, once', () => {
    fc.assert(
      fc.property(pieces, (parts) => {
        const ids = referencedIds(parts.map((p) => p.slack).join(''));
        expect(new Set(ids.users)).toEqual(new Set(parts.flatMap((p) => (p.user ? [p.user] : []))));
        expect(new Set(ids.channels)).toEqual(new Set(parts.flatMap((p) => (p.channel ? [p.channel] : []))));
        expect(ids.users.length).toBe(new Set(ids.users).size);
        expect(ids.channels.length).toBe(new Set(ids.channels).size);
      }),
    );
  });
});

describe('toPlainText: cost', () => {
  // Slack caps a message at 40,000 characters, but a thread holds thousands of them: the conversion must be
  // linear. These texts take well under a second when it is, and minutes when a removed mention copies or
  // flattens what came before it (the test then times out).
  test.each([
    ['a million characters of nothing but bot mentions', '<@UBOT>'.repeat(150_000) + ' x', 'x'],
    ['a million characters of words between bot mentions', 'a <@UBOT>'.repeat(110_000), Array(110_000).fill('a').join(' ')],
  ])('%s convert in one pass', (_, text, plain) => {
    expect(toPlainText(text, names)).toBe(plain);
  });
});
