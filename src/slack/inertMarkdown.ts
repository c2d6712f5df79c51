// Claude's Markdown for Slack's native streams (`markdown_text` of chat.startStream/appendStream/stopStream),
// which Slack renders itself. Whether Slack also parses its own `<!channel>`, `<@U…>`, `<#C…>`, `<url|label>`
// there is not documented (DESIGN.md §6), so none of it may survive.
//
// Neutraliser: a ZERO WIDTH SPACE (U+200B) right after the character that would start the syntax. It is
// invisible, so prose and code read exactly as Claude wrote them, and it is the character render.ts already
// relies on Slack to keep. Look-alikes (`‹`, `＜`, `＠`) would show, and would break code copied out of the
// answer in a visible way; HTML entities (`&lt;`) might be shown raw, since Slack's Markdown is not
// CommonMark-documented. The price: code copied from the answer carries the invisible character after `<`.

/** The character inserted after a `<` or `@` that could start Slack syntax. */
const BREAK = '\u200b';

// `<` and its Markdown entity spellings, and likewise `@`: a Markdown renderer decodes both to the character.
const LESS_THAN = String.raw`<|&(?:lt|#0*60|#x0*3c);`;
const AT = String.raw`@|&(?:commat|#0*64|#x0*40);`;

/**
 * Every Slack entity (`<!here>`, `<!subteam^…>`, `<!date^…>`, `<@U…>`, `<#C…|name>`, `<https://…|label>`)
 * has a character right after its `<`; a `<` followed by whitespace (as in `a < b`) or by our BREAK cannot
 * open one and is left alone.
 */
const LIVE_LESS_THAN = String.raw`(?:${LESS_THAN})(?=[^\s${BREAK}])`;

/**
 * `@channel`, `@here` and `@everyone` in any case, whatever follows (`@here.`, `@channels` alike), also with
 * Markdown emphasis or a backslash between (`@**here**`, `@\_here`), or an entity that may spell a letter
 * (`@&#99;hannel`). Other `@` words (`a@b.com`, `@Override`, `@username`) are not mentions Slack parses
 * from text and stay unchanged.
 */
const LIVE_AT = String.raw`(?:${AT})(?=[*_~\x60\\]*(?:channel|here|everyone|&))`;

const LIVE = new RegExp(`${LIVE_LESS_THAN}|${LIVE_AT}`, 'gi');
const LIVE_MENTION = new RegExp(LIVE_AT, 'gi');

/**
 * `markdown` with none of Slack's live syntax left: a U+200B after each `<` that could open a Slack entity
 * and after the `@` of each bare `@channel`/`@here`/`@everyone`; everything else, code included, unchanged,
 * so headings, lists, tables, fences, `[label](https://…)` links and emphasis render as before. CommonMark
 * autolinks and inline HTML (`<https://…>`, `<br>`, `<!-- … -->`) show as written text instead.
 *
 * Each insertion depends only on characters up to the next whitespace, so for `a` ending in whitespace,
 * `inertMarkdown(a + b)` starts with `inertMarkdown(a)` (stream the prefix up to appendableLength). Idempotent.
 */
export function inertMarkdown(markdown: string): string {
  return markdown.replace(LIVE, `$&${BREAK}`);
}

/** `text` with a U+200B after the `@` of each bare `@channel`, `@here`, `@everyone` (as inertMarkdown does), nothing else changed. */
export function inertMentions(text: string): string {
  return text.includes('@') || text.includes('&') ? text.replace(LIVE_MENTION, `$&${BREAK}`) : text;
}

/**
 * The length (UTF-16 code units) of the longest start of a streamed `markdown` that inertMarkdown can
 * neutralise for good: up to and including its last whitespace character or ideograph / kana / hangul
 * (languages written without spaces must stream too, and no Slack syntax contains one), 0 if it has none.
 * The word after it may still grow (`@ever` into `@everyone`). An unclosed `<` needs no holding back:
 * whether it is neutralised depends only on the character after it.
 */
export function appendableLength(markdown: string): number {
  let end = markdown.length;
  while (end > 0 && !ENDS_A_PIECE.test(markdown[end - 1] ?? '')) end--;
  return end;
}

/** A character after which the text so far can be sent: whitespace, or a CJK character (never part of Slack syntax). */
export const ENDS_A_PIECE = /[\s\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\u3000-\u303f]/u;
