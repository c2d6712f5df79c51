import fc from 'fast-check';
import { toMrkdwn } from '../../src/slack/render.js';

// The edits path: Claude's Markdown as mrkdwn in `text` and in section blocks, whose text objects Slack parses
// for "certain mentions" by default (Block Kit text object reference, `verbatim`). Whatever Claude writes, and
// wherever (prose, code, link labels, table cells, headings), nothing may ping or link through Slack syntax.

const ZWSP = '\u200b';
const DOC_URL = 'https://example.com/docs';

/** Slack's live forms as Claude may type them, raw or as entities, and look-alikes that must stay as they are. */
const LIVE = [
  ...['<!channel>', '<!here>', '<!everyone>', '<!here|@here>', '<!subteam^S1|@team>', '<!date^1^{date}|today>'],
  ...['<@U1>', '<@W1|bob>', '<#C1>', '<#C1|general>', '<https://evil.example|your bank>', '<https://evil.example|bank>', '<https://example.com>'],
  ...['@channel', '@here', '@everyone', '@Here', '@EVERYONE', '@channel,', '(@here)', '@**here**', '@_channel_', '@`here`', '**@here**'],
  ...['&lt;!here&gt;', '&#60;@U1&#62;', '&#64;channel', 'ops@here.com', 'https://x.io/@here', 'a@b.com'],
];
const PIECES = ['a', 'b', ' ', '*', '_', '~', '`', '<', '>', '!', '@', '|', '#', '&', 'here', 'channel', 'U1'];

const inline = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...LIVE) }, fc.constantFrom(...PIECES));
const run = fc.array(inline, { minLength: 1, maxLength: 8 }).map((items) => items.join(' '));
const glued = fc.array(inline, { minLength: 1, maxLength: 8 }).map((items) => items.join(''));
const cell = run.map((text) => text.replace(/\|/g, '\\|').replace(/\n/g, ' '));

const block = fc.oneof(
  run,
  glued,
  run.map((text) => `# ${text}`),
  run.map((text) => `- ${text}\n- item`),
  run.map((text) => `> ${text}`),
  run.map((text) => `**${text}**`),
  run.map((text) => `\`${text.replace(/`/g, '')}\``),
  run.map((text) => `\`\`\`\n${text}\n${text}\n\`\`\``),
  run.map((text) => `[${text.replace(/[[\]]/g, '')}](${DOC_URL})`),
  fc.tuple(cell, cell).map(([a, b]) => `| ${a} | who |\n|---|---|\n| x | ${b} |`),
);
const answer = fc.array(block, { minLength: 1, maxLength: 5 }).map((blocks) => blocks.join('\n\n'));

/** Each way `mrkdwn` could still ping or link through Slack syntax, by name; [] when none. */
function liveSyntaxIn(mrkdwn: string): string[] {
  const found: string[] = [];
  if (/<[!@#]/.test(mrkdwn)) found.push('special mention, user or channel entity');
  // Every `<` must open a link this renderer built: to a web or mail address, labelled only from a Markdown link
  // (here always DOC_URL) or with the address an autolink shows (marked decodes entities in it, so it may differ).
  const labelled = (url: string, label: string) => url === DOC_URL || url.startsWith('mailto:') || /^https?:\/\//.test(label);
  for (const at of [...mrkdwn.matchAll(/</g)].map((m) => m.index)) {
    const entity = /^<((?:https?:\/\/|mailto:)[^\s<>|]+)(?:\|([^<>|]*))?>/i.exec(mrkdwn.slice(at));
    if (!entity) found.push(`raw < at ${at}`);
    else if (entity[2] !== undefined && !labelled(entity[1] ?? '', entity[2])) found.push(`Slack link with a label: ${entity[0]}`);
  }
  // Slack reserves only `&`, `<`, `>`: any `&` but our escapes could decode to one.
  if (/&(?!amp;|lt;|gt;)/.test(mrkdwn)) found.push('raw &');
  // Outside link URLs (a path may hold `@here`), a bare mention, even with formatting between.
  const text = mrkdwn.replace(/<[^|>]*/g, '<');
  if (/@[*_~`]*(?:channel|here|everyone)/i.test(text)) found.push('bare @channel, @here or @everyone');
  return found;
}

describe('no live Slack syntax in toMrkdwn output', () => {
  test('finished renders', () => {
    fc.assert(
      fc.property(answer, (markdown) => {
        expect(liveSyntaxIn(toMrkdwn(markdown))).toEqual([]);
      }),
      { numRuns: 1000 },
    );
  });

  test('streaming renders of every prefix', () => {
    fc.assert(
      fc.property(answer, fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 8 }), (markdown, cuts) => {
        for (const cut of cuts) {
          expect(liveSyntaxIn(toMrkdwn(markdown.slice(0, Math.floor(cut * markdown.length)), { streaming: true }))).toEqual([]);
        }
      }),
      { numRuns: 500 },
    );
  });

  test.each([
    ['Hey @channel, @Here and @EVERYONE!', `Hey @${ZWSP}channel, @${ZWSP}Here and @${ZWSP}EVERYONE!`],
    ['# Ping @here', `*Ping @${ZWSP}here*`],
    ['use `@channel` or\n\n```\n@everyone <!here>\n```', `use \`@${ZWSP}channel\` or\n\n\`\`\`\n@${ZWSP}everyone &lt;!here&gt;\n\`\`\``],
    ['[@here <!channel>](https://example.com/docs)', `<https://example.com/docs|@${ZWSP}here &lt;!channel&gt;>`],
    ['| who |\n|---|\n| @channel <@U1> |', `\`\`\`\nwho\n--------------\n@${ZWSP}channel &lt;@U1&gt;\n\`\`\``],
    // The address itself is kept: only what is shown changes.
    ['mail ops@here.com or see https://x.io/@here', `mail <mailto:ops@here.com|ops@${ZWSP}here.com> or see <https://x.io/@here>`],
    // Claude's Slack link becomes a link that shows its whole target, never a label over it.
    ['<https://evil.example|your bank>', '&lt;<https://evil.example%7Cyour> bank&gt;'],
  ])('%j → %j', (markdown, expected) => {
    expect(toMrkdwn(markdown)).toBe(expected);
    expect(liveSyntaxIn(toMrkdwn(markdown))).toEqual([]);
  });

  test('a bare mention a streaming cut would glue together (`@**here` without its closer) is inert too', () => {
    expect(liveSyntaxIn(toMrkdwn('Hi @**here', { streaming: true }))).toEqual([]);
  });
});
