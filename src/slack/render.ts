// Markdown → Slack mrkdwn (https://api.slack.com/reference/surfaces/formatting).
// marked's lexer parses; this module only emits. Every character of Claude's text goes through
// escapeMrkdwn, so the only `<…>` in the output are links this module builds from Markdown links/URLs.
import { Lexer, Tokenizer, type Links, type MarkedOptions, type MarkedToken, type Token, type Tokens, type TokensList } from 'marked';
import { inertMentions } from './inertMarkdown.js';

/**
 * How to render: `streaming` is for intermediate edits of a partial answer; `cache` keeps the rendering of
 * finished blocks of one answer's texts between renders (without it, toMrkdwn renders from scratch).
 */
export interface RenderOptions {
  streaming?: boolean;
  cache?: RenderCache;
}

interface Context {
  strong: boolean;
  em: boolean;
  del: boolean;
  /** The inline run at the cut of a partial answer: its unmatched delimiters are dropped. */
  dangling: Token[] | null;
}

/**
 * marked's GFM inline rules look ahead for an e-mail address from every token, across the whole run of
 * characters an address may hold, which is quadratic on text like `_a_a_a…` or `*a*a*a…` (a second per render
 * at 32,000 characters). The lookahead only ever needs the length of an address's local part (at most 64
 * characters, RFC 5321 §4.5.3.1.1), so these bounds keep every token linear; only an "address" with a longer
 * local part, which no mail server accepts, is no longer linked.
 */
class BoundedTokenizer extends Tokenizer {
  override inlineText(src: string): Tokens.Text | undefined {
    if (src.length <= TEXT_WINDOW) return super.inlineText(src);
    // A token that ends well inside the window ends there in the whole text too.
    const token = super.inlineText(src.slice(0, TEXT_WINDOW));
    if (token && token.raw.length <= TEXT_WINDOW - MAX_LOCAL_PART) return token;
    return super.inlineText(src.slice(0, textWindowEnd(src)));
  }

  override url(src: string): Tokens.Link | undefined {
    return URL_START.test(src) || EMAIL_START.test(src) ? super.url(src) : undefined;
  }

  // Emphasis, strikethrough and link text lex their content again, recursively, each level scanning the
  // rest of the run for its closer: past MAX_NESTING levels the delimiters are text.
  private depth = 0;

  private nested<T>(tokenize: () => T): T | undefined {
    if (this.depth >= MAX_NESTING) return undefined;
    this.depth++;
    try {
      return tokenize();
    } finally {
      this.depth--;
    }
  }

  override emStrong(src: string, maskedSrc: string, prevChar?: string): Tokens.Em | Tokens.Strong | undefined {
    return this.nested(() => super.emStrong(src, maskedSrc, prevChar));
  }

  override del(src: string, maskedSrc: string, prevChar?: string): Tokens.Del | undefined {
    return this.nested(() => super.del(src, maskedSrc, prevChar));
  }

  override link(src: string): Tokens.Link | Tokens.Image | undefined {
    return this.nested(() => super.link(src));
  }

  override reflink(src: string, links: Links): Tokens.Link | Tokens.Image | Tokens.Text | undefined {
    return this.nested(() => super.reflink(src, links));
  }
}

const MAX_LOCAL_PART = 64;
const TEXT_WINDOW = 2 * MAX_LOCAL_PART;
const URL_START = /^(?:[hH][tT][tT][pP][sS]?:\/\/|[fF][tT][pP]:\/\/|www\.|mailto:|xmpp:)/;
const EMAIL_START = new RegExp(`^[A-Za-z0-9._+-]{1,${MAX_LOCAL_PART}}@`);

// Text cut after whitespace and before a word continues exactly as the whole would: an address or `www.`
// cannot start mid-word there, and a hard break's two spaces stay together.
function textWindowEnd(src: string): number {
  const isSpace = (at: number): boolean => /\s/.test(src[at] ?? '');
  for (let end = TEXT_WINDOW; end > 1; end--) if (isSpace(end - 1) && !isSpace(end)) return end;
  return TEXT_WINDOW;
}

const LEX_OPTIONS: MarkedOptions = { gfm: true, breaks: false };

function newLexer(): Lexer {
  return new Lexer({ ...LEX_OPTIONS, tokenizer: new BoundedTokenizer() });
}

const BULLETS = ['•', '◦', '▪'] as const;
const LIST_INDENT = '    ';
const RULE = '──────────';
// Slack turns only these schemes into links; anything else (e.g. `!here`, `@U123`) must stay text.
const LINKABLE_HREF = /^(?:https?:\/\/|mailto:)./i;
const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", '#39': "'", nbsp: '\u00a0' };

/**
 * Renders Claude's GitHub-flavoured Markdown as Slack mrkdwn; `streaming` hides the half-typed construct at the cut,
 * and a `cache` (one per answer) makes re-rendering a grown text cost only its unfinished blocks. Never throws:
 * nesting is capped before lexing, and input the parser still cannot take is shown as escaped plain text.
 */
export function toMrkdwn(markdown: string, opts: RenderOptions = {}): string {
  // GUARD is this module's own marker: one in Claude's text would be taken for ours.
  const text = markdown.includes(GUARD) ? markdown.replaceAll(GUARD, '') : markdown;
  try {
    return inertBareMentions(render(capNesting(text), opts));
  } catch {
    // Whatever the parser or this emitter trips on (e.g. input found later to recurse too deep), the
    // answer is still shown, as plain text with the same escaping.
    return inertBareMentions(literal(text));
  }
}

/**
 * Slack parses "certain mentions" in the plain text of a mrkdwn text object unless it is `verbatim` (Block Kit
 * text object reference), so a bare `@here` Claude wrote (even one a streaming cut glued together from
 * `@**here`) gets a zero-width space after its `@`; the URLs of our links, the only `<` left, are kept whole.
 */
function inertBareMentions(mrkdwn: string): string {
  if (!mrkdwn.includes('@')) return mrkdwn;
  return mrkdwn
    .split(LINK_URL)
    .map((part, i) => (i % 2 === 1 ? part : inertMentions(part)))
    .join('');
}

// A link's `<` and URL, up to the `|` or `>` that renderLink never lets a URL hold.
const LINK_URL = /(<[^|>]*)/;

/**
 * Each level of quote or list nesting makes marked lex its content again, recursively: 4,000 `>` overflow
 * the stack and deep indents cost time quadratic in the answer. Past MAX_NESTING levels on one line the
 * rest is text (`\>`), and indentation is capped at MAX_INDENT columns, outside fenced code.
 */
function capNesting(markdown: string): string {
  if (!DEEP_MARKERS.test(markdown) && !DEEP_INDENT.test(markdown)) return markdown;
  let fence: string | null = null;
  return markdown
    .split('\n')
    .map((line) => {
      const marker = FENCE_MARKER.exec(line)?.[1];
      if (fence) {
        if (marker && marker[0] === fence[0] && marker.length >= fence.length) fence = null;
        return line;
      }
      if (marker) fence = marker;
      return capLine(line);
    })
    .join('\n');
}

const MAX_NESTING = 8;
const MAX_INDENT = 4 * MAX_NESTING;
const CONTAINER_MARKER = /[ \t]*(?:>|(?:[-+*]|\d{1,9}[.)])(?=[ \t]|$))/y;
const DEEP_MARKERS = new RegExp(`^(?:[ \\t]*(?:>|[-+*][ \\t]|\\d{1,9}[.)][ \\t])){${MAX_NESTING + 1}}`, 'm');
const DEEP_INDENT = new RegExp(`^[ \\t]{${MAX_INDENT + 1}}`, 'm');
const THEMATIC_BREAK = /^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$/;
const FENCE_MARKER = /^[ \t>]*?(?:(?:[-+*]|\d{1,9}[.)])[ \t]+)*(`{3,}|~{3,})/;

function capLine(line: string): string {
  const indent = /^[ \t]*/.exec(line)?.[0] ?? '';
  const capped = indent.length > MAX_INDENT ? ' '.repeat(MAX_INDENT) + line.slice(indent.length) : line;
  if (THEMATIC_BREAK.test(capped)) return capped;
  CONTAINER_MARKER.lastIndex = 0;
  for (let level = 0; ; level++) {
    const marker = CONTAINER_MARKER.exec(capped);
    if (!marker) return capped;
    if (level < MAX_NESTING) continue;
    // A backslash before `>`, `-`, `+`, `*` or an ordered list's `.` or `)` (each marker's last character) makes it text.
    const at = CONTAINER_MARKER.lastIndex - 1;
    return `${capped.slice(0, at)}\\${capped.slice(at)}`;
  }
}

function render(markdown: string, { streaming = false, cache }: RenderOptions): string {
  let base = cache?.longestPrefixOf(markdown) ?? NO_PREFIX;
  let blocks = newLexer().lex(markdown.slice(base.source.length));
  // A reference definition can change how earlier text renders, so it disables the cache.
  const hasDefs = blocks.some((token) => token.type === 'def');
  if (hasDefs && base.source) {
    base = NO_PREFIX;
    blocks = newLexer().lex(markdown);
  }
  const stable = hasDefs || !cache ? NOTHING_STABLE : stableBlocks(blocks, markdown.length - base.source.length);
  const ctx: Context = { strong: false, em: false, del: false, dangling: null };
  const head = joinBlocks(base.rendered, renderBlocks(blocks.slice(0, stable.count), ctx));
  if (cache && stable.count > 0) cache.extend(base, { source: markdown.slice(0, base.source.length + stable.length), rendered: head });
  const rest = blocks.slice(stable.count) as TokensList;
  rest.links = blocks.links;
  if (streaming) prepareStreamingTail(rest, ctx);
  return joinBlocks(head, renderBlocks(rest, ctx));
}

// Lexing dominates the cost (about 2.5 ms for 12,000 chars) and a streamed answer is re-rendered on
// every edit, so the rendering of finished top-level blocks is kept and only the rest is lexed again.
interface RenderedPrefix {
  source: string;
  rendered: string;
}

const NO_PREFIX: RenderedPrefix = { source: '', rendered: '' };
const NOTHING_STABLE = { count: 0, length: 0 };

/**
 * Entries one answer keeps. At each edit ReplyMessage renders every message of the answer (CLAUDE_MAX_TOKENS'
 * default of 16,000 tokens is about 64,000 characters: 19 messages of 3,500), the last one's sections again
 * for its blocks, and splitting adds the heads it measures; 32 holds them all, where fewer would evict each
 * message's entry in turn (the LRU's worst case: every render a miss). Longer answers only render slower.
 */
const RENDER_CACHE_SIZE = 32;

/** The rendering of the finished top-level blocks of one answer's texts (least recently used evicted), for toMrkdwn's `cache`. */
export class RenderCache {
  // Least recently used first.
  private readonly entries: RenderedPrefix[] = [];

  /** The longest kept prefix of `markdown`, now the most recently used; NO_PREFIX if none. */
  longestPrefixOf(markdown: string): RenderedPrefix {
    // Longest first, so that usually a single comparison runs the length of the prefix.
    const best = this.entries
      .filter((entry) => entry.source.length <= markdown.length)
      .sort((a, b) => b.source.length - a.source.length)
      // Comparing slices is much faster than startsWith on long strings in V8.
      .find((entry) => markdown.slice(0, entry.source.length) === entry.source);
    if (!best) return NO_PREFIX;
    this.entries.push(...this.entries.splice(this.entries.indexOf(best), 1));
    return best;
  }

  /** Keeps `entry` in place of `replaced`, the prefix it grew from: the answer has moved past that one. */
  extend(replaced: RenderedPrefix, entry: RenderedPrefix): void {
    const at = this.entries.indexOf(replaced);
    if (at >= 0) this.entries.splice(at, 1);
    this.entries.push(entry);
    if (this.entries.length > RENDER_CACHE_SIZE) this.entries.shift();
  }
}

/**
 * Leading blocks that no later text can change: those before a block that follows a blank line,
 * starts at column 0 and has a complete first line (a first line like `2` may still become
 * `2. item` and join a list before it).
 */
function stableBlocks(blocks: Token[], sourceLength: number): { count: number; length: number } {
  let stable = NOTHING_STABLE;
  let offset = 0;
  for (let i = 0; i < blocks.length; i++) {
    const token = blocks[i] as Token;
    const firstLineDone = i < blocks.length - 1 || token.raw.includes('\n');
    const startsFresh = token.type !== 'space' && /^\S/.test(token.raw) && firstLineDone;
    if (i > 0 && blocks[i - 1]?.type === 'space' && startsFresh) {
      stable = { count: i, length: offset };
    }
    offset += token.raw.length;
  }
  // marked normalises line endings; offsets are only trusted when the raws add up to the source.
  return offset === sourceLength ? stable : NOTHING_STABLE;
}

function joinBlocks(first: string, second: string): string {
  return first && second ? `${first}\n\n${second}` : first || second;
}

/** Escapes `&`, `<` and `>`, the only characters Slack reserves (formatting reference, "Escaping text"), so text cannot mention or link. */
export function escapeMrkdwn(text: string): string {
  return /[&<>]/.test(text) ? text.replace(/[&<>]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;')) : text;
}

/**
 * `escapeMrkdwn(text)` when it has at most `maxChars` characters; otherwise the longest escaped start of
 * `text` that fits with a closing `…`, never cut inside an escape or a surrogate pair.
 */
export function escapeMrkdwnWithin(text: string, maxChars: number): string {
  const escaped = escapeMrkdwn(text);
  if (escaped.length <= maxChars) return escaped;
  let kept = '';
  for (const char of text) {
    const next = escapeMrkdwn(char);
    if (kept.length + next.length + 1 > maxChars) break;
    kept += next;
  }
  return `${kept}…`;
}

// Slack opens or closes a code block at any ``` (mid-line, or inside a block); a zero-width space
// between the backticks keeps a run that Claude wrote (e.g. a fence shown inside a ```` block) inert.
function breakFenceRuns(text: string): string {
  return text.includes('```') ? text.replace(/`{3,}/g, (run) => run.split('').join('\u200b')) : text;
}

// Slack takes `*`, `_`, `~` and `` ` `` as formatting only when nothing word-like touches them from outside:
// `這是*粗體*文字` and `word*bold*word` show their asterisks. Each span is emitted with a GUARD on its outer
// sides; once its inline run is complete, a GUARD whose outer neighbour is not whitespace or punctuation
// Slack accepts becomes a zero-width space, and every other GUARD disappears.
const GUARD = '\ue000';
const ZERO_WIDTH_SPACE = '\u200b';
// `;` is left out: it ends our own `&amp;`, `&lt;`, `&gt;`, which Slack reads as the character they stand for.
const SLACK_BOUNDARY = /[\s.,:!?'"()[\]{}*_~`\u200b]/;

function guarded(mark: string, inner: string): string {
  return GUARD + mark + inner + mark + GUARD;
}

function resolveGuards(text: string): string {
  if (!text.includes(GUARD)) return text;
  const touchesWord = (char: string | undefined) => char !== undefined && !SLACK_BOUNDARY.test(char);
  return text.replace(/\ue000+/g, (run: string, at: number) =>
    touchesWord(text[at - 1]) || touchesWord(text[at + run.length]) ? ZERO_WIDTH_SPACE : '',
  );
}

/** An inline run as block content: guards resolved, Claude's ``` runs kept inert. */
function inlineBlock(tokens: Token[], ctx: Context): string {
  return breakFenceRuns(resolveGuards(renderInline(tokens, ctx)));
}

function literal(text: string): string {
  return breakFenceRuns(escapeMrkdwn(text));
}

function prepareStreamingTail(blocks: TokensList, ctx: Context): void {
  const index = lastContentIndex(blocks);
  const last = blocks[index] as MarkedToken | undefined;
  if (!last) return;
  if (last.type === 'code') {
    const code = trimStreamingCode(last);
    if (code) blocks[index] = code;
    else blocks.splice(index, 1);
    return;
  }
  const repaired = dropIncompleteLink(last.raw);
  if (repaired !== last.raw) {
    // Re-lex only the last block; earlier reference definitions still resolve through `links`.
    const lexer = newLexer();
    Object.assign(lexer.tokens.links, blocks.links);
    blocks.splice(index, 1, ...lexer.lex(repaired));
  }
  ctx.dangling = trailingInline(blocks[lastContentIndex(blocks)]);
}

function lastContentIndex(tokens: Token[]): number {
  let i = tokens.length - 1;
  while (i >= 0 && (tokens[i]?.type === 'space' || tokens[i]?.type === 'def')) i--;
  return i;
}

/** Hides a closing fence being typed (a last line of only backticks) and a fence opened with no code yet. */
function trimStreamingCode(code: Tokens.Code): Tokens.Code | null {
  const cut = code.text.lastIndexOf('\n');
  const tail = code.text.slice(cut + 1);
  const text = /^ *(?:`+|~+)$/.test(tail) && code.raw.endsWith(`\n${tail}`) ? code.text.slice(0, Math.max(cut, 0)) : code.text;
  return text.trim() === '' ? null : { ...code, text };
}

/** `[text](http://ex` or `[text` at the very end becomes `text`, unless the `[` is inside inline code. */
function dropIncompleteLink(raw: string): string {
  const lineStart = raw.lastIndexOf('\n') + 1;
  const match = /!?\[([^[\]\n]*)(?:\]\([^()\s]*)?$/.exec(raw.slice(lineStart));
  if (!match) return raw;
  const before = raw.slice(lineStart, lineStart + match.index);
  if ((before.match(/`/g)?.length ?? 0) % 2 === 1) return raw;
  return raw.slice(0, lineStart + match.index) + (match[1] ?? '');
}

function trailingInline(token: Token | undefined): Token[] | null {
  const t = token as MarkedToken | undefined;
  switch (t?.type) {
    case 'paragraph':
    case 'heading':
      return t.tokens;
    case 'text':
      return t.tokens ?? null;
    case 'blockquote':
      return trailingInline(t.tokens[lastContentIndex(t.tokens)]);
    case 'list': {
      const item = t.items[t.items.length - 1];
      return item ? trailingInline(item.tokens[lastContentIndex(item.tokens)]) : null;
    }
    default:
      return null;
  }
}

function renderBlocks(tokens: Token[], ctx: Context, level = 0): string {
  let out = '';
  for (const token of tokens) out = joinBlocks(out, renderBlock(token as MarkedToken, ctx, level).trimEnd());
  return out;
}

function renderBlock(token: MarkedToken, ctx: Context, level: number): string {
  switch (token.type) {
    // Inline runs never hold a fence of ours, so any ``` in them (even across tokens, as in \````) is Claude's.
    case 'paragraph':
      return inlineBlock(token.tokens, ctx);
    case 'text':
      return token.tokens ? inlineBlock(token.tokens, ctx) : literal(token.text);
    case 'heading': {
      // Slack has no headings; a bold line keeps the structure and never starts with `#`.
      const inner = inlineBlock(token.tokens, { ...ctx, strong: true }).trim();
      return inner ? `*${inner}*` : '';
    }
    case 'code':
      return `\`\`\`\n${literal(token.text)}\n\`\`\``;
    case 'blockquote':
      return prefixLines(renderBlocks(token.tokens, ctx, level), '> ', '> ');
    case 'list':
      return renderList(token, ctx, level);
    case 'table':
      return renderTable(token);
    case 'hr':
      return RULE;
    case 'html':
      return literal(token.text.trimEnd());
    case 'space':
    case 'def':
    case 'checkbox':
      return '';
    default:
      return literal(token.raw.trim());
  }
}

function renderList(list: Tokens.List, ctx: Context, level: number): string {
  const indent = LIST_INDENT.repeat(level);
  const first = typeof list.start === 'number' ? list.start : 1;
  const items = list.items.map((item, i) => {
    const marker = list.ordered ? `${first + i}.` : (BULLETS[Math.min(level, BULLETS.length - 1)] ?? '•');
    const box = item.task ? (item.checked ? '☑ ' : '☐ ') : '';
    const lead = `${indent}${marker} ${box}`;
    const hang = indent + ' '.repeat(marker.length + 1);
    const parts: string[] = [];
    for (const child of item.tokens as MarkedToken[]) {
      if (child.type === 'list') {
        parts.push(renderList(child, ctx, level + 1));
        continue;
      }
      const body = renderBlock(child, ctx, level);
      if (!body) continue;
      const prefix = parts.length === 0 ? lead : hang;
      // Code keeps its lines verbatim, so it is not indented.
      parts.push(child.type === 'code' ? (parts.length === 0 ? `${lead.trimEnd()}\n${body}` : body) : prefixLines(body, prefix, hang));
    }
    return parts.length ? parts.join('\n') : lead.trimEnd();
  });
  return items.join('\n');
}

function prefixLines(body: string, first: string, rest: string): string {
  return body
    .split('\n')
    .map((line, i) => {
      const prefix = i === 0 ? first : rest;
      return line ? prefix + line : prefix.trimEnd();
    })
    .join('\n');
}

// Slack cannot lay out tables; a code block with padded columns stays legible in a monospace font.
function renderTable(table: Tokens.Table): string {
  const rows = [table.header, ...table.rows].map((cells) => cells.map((cell) => plainText(cell.tokens).replace(/\s+/g, ' ').trim()));
  const widths = table.header.map((_, col) => Math.max(1, ...rows.map((row) => displayWidth(row[col] ?? ''))));
  const line = (row: string[]): string =>
    widths
      .map((width, col) => pad(row[col] ?? '', width, table.align[col] ?? null))
      .join(' | ')
      .trimEnd();
  const [header = [], ...body] = rows;
  const rule = widths.map((width) => '-'.repeat(width)).join('-+-');
  return `\`\`\`\n${literal([line(header), rule, ...body.map(line)].join('\n'))}\n\`\`\``;
}

function pad(text: string, width: number, align: 'center' | 'left' | 'right' | null): string {
  const gap = width - displayWidth(text);
  if (align === 'right') return ' '.repeat(gap) + text;
  if (align === 'center') return ' '.repeat(Math.floor(gap / 2)) + text + ' '.repeat(Math.ceil(gap / 2));
  return text + ' '.repeat(gap);
}

// East Asian wide characters and emoji take two columns in a monospace font.
const WIDE = /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]|\p{Extended_Pictographic}/u;

function displayWidth(text: string): number {
  let width = 0;
  for (const char of text) width += WIDE.test(char) ? 2 : /\p{M}|\u200d|\ufe0f/u.test(char) ? 0 : 1;
  return width;
}

function renderInline(tokens: Token[], ctx: Context): string {
  const dangling = tokens === ctx.dangling;
  let out = '';
  for (const token of tokens) out += renderSpan(token as MarkedToken, ctx, dangling);
  return out;
}

function renderSpan(token: MarkedToken, ctx: Context, dangling: boolean): string {
  switch (token.type) {
    case 'text': {
      if (token.tokens) return renderInline(token.tokens, ctx);
      const text = decodeEntities(token.text);
      return escapeMrkdwn(dangling ? dropOpeners(text) : text);
    }
    case 'escape':
      return escapeMrkdwn(token.text);
    case 'strong':
      return ctx.strong ? renderInline(token.tokens, ctx) : wrap('*', renderInline(token.tokens, { ...ctx, strong: true }));
    case 'em':
      return ctx.em ? renderInline(token.tokens, ctx) : wrap('_', renderInline(token.tokens, { ...ctx, em: true }));
    case 'del':
      return ctx.del ? renderInline(token.tokens, ctx) : wrap('~', renderInline(token.tokens, { ...ctx, del: true }));
    case 'codespan':
      return token.text ? guarded('`', escapeMrkdwn(token.text)) : '';
    case 'br':
      return '\n';
    case 'checkbox':
      return ''; // the list item shows it as ☐ / ☑
    case 'link':
      return renderLink(token.href, plainText(token.tokens));
    case 'image':
      return renderLink(token.href, token.text);
    case 'html':
      return /^<br\s*\/?>$/i.test(token.text) ? '\n' : escapeMrkdwn(token.text);
    default:
      return escapeMrkdwn(token.raw);
  }
}

function wrap(mark: string, inner: string): string {
  return inner.trim() ? guarded(mark, inner) : inner;
}

/** `<url|label>` with a URL and label that cannot close or split the entity; non-web targets stay text. */
function renderLink(href: string, label: string): string {
  const text = label.replace(/\s+/g, ' ').trim();
  if (!LINKABLE_HREF.test(href)) return escapeMrkdwn(text && text !== href ? `${text} (${href})` : href);
  // Percent-encoding keeps `|`, `>` and backticks in a URL from ending the entity or opening code.
  const url = escapeMrkdwn(href.replace(/[|<>`\s]/g, (c) => encodeURIComponent(c)));
  // Slack ends the URL at the first `|`; a lookalike keeps the label's meaning without that risk.
  return text && text !== href ? `<${url}|${escapeMrkdwn(text.replace(/\|/g, '∣'))}>` : `<${url}>`;
}

function plainText(tokens: Token[]): string {
  let out = '';
  for (const token of tokens as MarkedToken[]) {
    switch (token.type) {
      case 'text':
        out += token.tokens ? plainText(token.tokens) : decodeEntities(token.text);
        break;
      case 'strong':
      case 'em':
      case 'del':
      case 'link':
        out += plainText(token.tokens);
        break;
      case 'codespan':
      case 'escape':
      case 'image':
        out += token.text;
        break;
      case 'br':
        out += ' ';
        break;
      default:
        out += token.raw;
    }
  }
  return out;
}

function decodeEntities(text: string): string {
  return text.includes('&') ? text.replace(/&(amp|lt|gt|quot|apos|#39|nbsp);/g, (entity, name: string) => ENTITIES[name] ?? entity) : text;
}

/**
 * At the cut of a partial answer, a delimiter run that opens something not yet closed would show raw. Inside
 * a word only `**`, `~~` and backticks are dropped (`這是**粗體`, `` 使用`npm ``): a single `*` or `_` there
 * is usually literal (`2*3`, `snake_case`).
 */
function dropOpeners(text: string): string {
  return text.replace(/(?<![\p{L}\p{N}*_~`])[*_~`]+(?!\s)|(?:\*{2,}|~{2,}|`+)(?![\s*~`])/gu, '');
}
