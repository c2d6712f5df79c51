// Cuts a Markdown answer into parts that each fit one Slack message once rendered.
// The cut is made in the Markdown (so every character of the answer lands in exactly one part) and
// measured on the rendered mrkdwn (so escaping and closing fences are counted).
import { RenderCache, toMrkdwn } from './render.js';

/**
 * Rendered characters per Slack message. Slack documents 40,000 characters for `text`
 * (https://api.slack.com/methods/chat.postMessage#truncating) but answers `msg_too_long` from about
 * 4,000 in practice; 3,500 leaves room for the note the caller appends.
 */
export const SLACK_TEXT_LIMIT = 3500;

/** A finished first part of an answer and how to continue after it. */
export interface Split {
  /** Markdown of the finished part, with a code fence open at the cut closed. */
  head: string;
  /** Characters of the input that `head` covers. */
  consumed: number;
  /** Markdown to put before the rest: the fence line (or table header) open at the cut, else "". */
  reopen: string;
}

interface Fence {
  /** Markdown that closes the fence, e.g. "```". */
  close: string;
  /** The opening line, to start the next part with. */
  reopen: string;
}

type LineKind = 'blank' | 'text' | 'heading' | 'opener' | 'closer' | 'code' | 'tableHead' | 'tableRule' | 'tableRow';

interface Line {
  start: number;
  end: number;
  kind: LineKind;
  /** The fence open at the start of this line. */
  fence: Fence | null;
  /** Header and rule of the table this line is a body row of. */
  table: string | null;
}

interface Cut {
  pos: number;
  /** 3 = paragraph or block boundary, 2 = line boundary, 1 = space, 0 = anywhere. */
  rank: number;
  fence: Fence | null;
  reopen: string;
}

// Prefer a cleaner cut while it still fills this share of a message; below it, fill the message.
const MIN_FILL = 0.5;
// Rendering shrinks Markdown by at most about this much (`&nbsp;` is 6 characters for 1), so the search for a
// cut inside a long line stops this many limits past where it starts: a cut further on would not fit.
const MAX_SHRINK = 8;
// Any indent or quote marks before it: fences inside list items and quotes are prefixed.
const FENCE_LINE = /^((?:\s*>)*\s*)(`{3,}|~{3,})([^`]*)$/;
const TABLE_RULE = /^\s*\|?\s*:?-+:?\s*(?:\|\s*:?-+:?\s*)*\|?\s*$/;
const HEADING = /^ {0,3}#{1,6}(?:\s|$)/;
const SETEXT_UNDERLINE = /^ {0,3}(?:=+|-+)\s*$/;
// Links, URLs, inline code and emphasis that a cut would break; a cut inside one is a last resort. A span
// longer than MAX_SPAN is cut like text: unbounded, finding them was quadratic on lines like `[[[[…` or `[a](…`.
const MAX_SPAN = 500;
const PROTECTED_SPANS = new RegExp(
  String.raw`!?\[[^[\]\n]{0,${MAX_SPAN}}\]\([^()\s]{0,${MAX_SPAN}}\)|<[^<>\s]{1,${MAX_SPAN}}>|(?:https?:\/\/|www\.|mailto:)[^\s<]{0,${MAX_SPAN}}|\x60[^\x60\n]{0,${MAX_SPAN}}\x60|` +
    String.raw`(\*\*|__|~~)(?=\S)[^\n]{0,${MAX_SPAN}}?\S\1|(?<![\w*])\*(?=[^\s*])[^*\n]{0,${MAX_SPAN}}?[^\s*]\*(?![\w*])|(?<![\w_])_(?=[^\s_])[^_\n]{0,${MAX_SPAN}}?[^\s_]_(?![\w_])`,
  'g',
);

/**
 * What splitting keeps for one answer between its edits (ReplyMessage holds one per answer; a note needs none):
 * the cuts decided, the parts finished, per limit, and the render cache for the answer's toMrkdwn calls.
 */
export class AnswerLayout {
  /** Pass as toMrkdwn's `cache` when rendering this answer's parts. */
  readonly render = new RenderCache();
  private readonly decisions: Decision[] = [];
  private readonly finished = new Map<number, FinishedPart[]>();

  /** A cut decided at `limit` for a text that `markdown` starts with, else undefined. */
  knownCut(markdown: string, limit: number): Split | undefined {
    const known = this.decisions.find((decision) => decision.limit === limit && startsWith(markdown, decision.basis));
    return known && { ...known.split };
  }

  /** Keeps `decision` for knownCut, the oldest dropped past DECISIONS_KEPT. */
  rememberCut(decision: Decision): void {
    this.decisions.push(decision);
    if (this.decisions.length > DECISIONS_KEPT) this.decisions.shift();
  }

  /** The parts finished at `limit` that `markdown` still starts with, first to last; the others are dropped (a retry from scratch). */
  finishedParts(markdown: string, limit: number): readonly FinishedPart[] {
    const parts = this.finished.get(limit) ?? [];
    // Each part's basis extends the one before: usually the last one still holds and is the only comparison.
    let kept = parts.length;
    while (kept > 0 && !startsWith(markdown, (parts[kept - 1] as FinishedPart).basis)) kept--;
    parts.length = kept;
    return parts;
  }

  /** Freezes `part`, the next part at `limit` after finishedParts(…, limit). */
  finish(limit: number, part: FinishedPart): void {
    this.finished.set(limit, [...(this.finished.get(limit) ?? []), part]);
  }
}

/** A finished part of an answer, frozen: the same head as long as the answer starts with `basis`. */
interface FinishedPart {
  head: string;
  /** The answer's Markdown this part and those before it depend on. */
  basis: string;
  /** Markdown the text after them starts with (a fence or table header reopened) before `answer.slice(basis.length)`. */
  carry: string;
}

// Comparing slices is much faster than String.prototype.startsWith on long strings in V8.
function startsWith(markdown: string, prefix: string): boolean {
  return markdown.slice(0, prefix.length) === prefix;
}

/**
 * Returns null when toMrkdwn(markdown) fits in `limit`; else the longest head that fits, cut at a paragraph, line or
 * space boundary outside links and code spans (a hard cut only for a line with no such place), fences closed in
 * `head` and reopened through `reopen`. A `layout` reuses the cuts and renders of the answer's earlier calls.
 */
export function splitForSlack(markdown: string, limit: number = SLACK_TEXT_LIMIT, layout?: AnswerLayout): Split | null {
  return cutFor(markdown, limit, true, layout);
}

/** splitForSlack; `checkWhole` false skips rendering the whole text, for a text too long to fit (see MAX_SHRINK). */
function cutFor(markdown: string, limit: number, checkWhole: boolean, layout: AnswerLayout | undefined): Split | null {
  // A known cut is looked up first: a head within its basis did not fit, and rendering the whole rest of a long
  // answer at every edit, once per part, made splitting quadratic in the answer.
  const known = layout?.knownCut(markdown, limit);
  if (known) return known;
  const cache = layout?.render;
  if (checkWhole && toMrkdwn(markdown, { cache }).length <= limit) return null;
  const { split, basis } = decide(markdown, limit, cache);
  if (basis) layout?.rememberCut({ limit, basis, split });
  return split;
}

// A cut depends only on the text up to a little past it (the "basis"), so a later, longer text with the same
// basis gets the same cut at no cost.
interface Decision {
  limit: number;
  basis: string;
  split: Split;
}

// splitAll's cuts are frozen as finished parts; kept decisions serve splitForSlack's one cut per limit while
// the answer streams, and a retry from scratch that repeats the answer's start.
const DECISIONS_KEPT = 8;

/** The cut for `markdown`, and the text it depends on ("" when that is the whole, still-growing input). */
function decide(markdown: string, limit: number, cache: RenderCache | undefined): { split: Split; basis: string } {
  const lines = scanLines(markdown);
  let read = 0;
  const measured = new Map<number, number>();
  const size = (cut: Cut): number => {
    let length = measured.get(cut.pos);
    if (length === undefined) measured.set(cut.pos, (length = toMrkdwn(headAt(markdown, cut), { cache }).length));
    read = Math.max(read, cut.pos);
    return length;
  };
  const fits = (cut: Cut): boolean => size(cut) <= limit;
  // A search that never met a cut too long depends on everything after it as well. (Reusing a cut is
  // always safe, as its head is the same text; the basis makes it the cut a fresh search would pick.)
  const best = (cuts: Cut[]): Cut | null => {
    const found = lastFitting(cuts, fits);
    if (found && found === cuts[cuts.length - 1]) read = Infinity;
    return found;
  };
  const settle = (cut: Cut): { split: Split; basis: string } => ({ split: toSplit(markdown, cut), basis: basisUpTo(markdown, lines, read) });

  const lineCuts = lineBoundaries(markdown, lines);
  const bestBlock = best(lineCuts.filter((cut) => cut.rank === 3));
  if (bestBlock && size(bestBlock) >= limit * MIN_FILL) return settle(bestBlock);
  const bestLine = best(lineCuts);
  if (bestLine && size(bestLine) >= limit * MIN_FILL) return settle(bestLine);

  // The text from the best line cut to the next possible one is too long: cut inside it.
  const from = bestLine?.pos ?? 0;
  const to = lineCuts.find((cut) => cut.pos > from)?.pos ?? Infinity;
  read = Math.max(read, to);
  const region = lines.filter((line) => line.start >= from && line.start < to);
  const scanEnd = from + MAX_SHRINK * limit;
  const chosen =
    best(inLineCuts(markdown, region, 'space', true, scanEnd)) ??
    bestLine ??
    best(inLineCuts(markdown, region, 'character', true, scanEnd)) ??
    best(inLineCuts(markdown, region, 'character', false, scanEnd));
  if (chosen) return settle(chosen);
  // Nothing in the region fits, e.g. a table header or row wider than a message (every cut there keeps the
  // whole table head): cut anywhere, taking the part of the table before the cut as text.
  read = Infinity;
  const anywhere = hardCuts(markdown, lines, characterBoundaries, MAX_SHRINK * limit);
  const codePoints = hardCuts(markdown, lines, codePointBoundaries, MAX_SHRINK * limit);
  // Not even one character (or code point, in a run of combining marks) fits: still make progress.
  return settle(best(anywhere) ?? best(codePoints) ?? codePoints[0] ?? { pos: markdown.length, rank: 0, fence: null, reopen: '' });
}

/** The input up to the end of the line after the one holding `read` (line kinds look one line ahead), or "" if that line may still grow. */
function basisUpTo(markdown: string, lines: Line[], read: number): string {
  const at = lines.findIndex((line) => line.end >= read);
  const next = at < 0 ? undefined : lines[at + 1];
  return next && next.end < markdown.length ? markdown.slice(0, next.end + 1) : '';
}

/**
 * Splits a whole answer into parts (each the Markdown of one message, fences closed and reopened) whose mrkdwn
 * each fits `limit`. With a `layout`, a part once finished (a cut made after it) is frozen: while the answer
 * still starts with the text it was cut from, later calls return the same head without cutting again, even
 * where the text after it would now be cut elsewhere (it is already a message in Slack).
 */
export function splitAll(markdown: string, limit: number = SLACK_TEXT_LIMIT, layout?: AnswerLayout): string[] {
  const finished = layout?.finishedParts(markdown, limit) ?? [];
  const parts = finished.map((part) => part.head);
  // The rest is always `carry + markdown.slice(offset)`.
  let carry = finished.at(-1)?.carry ?? '';
  let offset = finished.at(-1)?.basis.length ?? 0;
  let rest = carry + markdown.slice(offset);
  const next = (): Split | null => cutFor(rest, limit, rest.length <= MAX_SHRINK * limit, layout);
  for (let split = next(); split; split = next()) {
    parts.push(split.head);
    // A hard cut may end inside a repeated table head (see decide): the carry keeps the rest of it.
    const within = Math.min(split.consumed, carry.length);
    offset += split.consumed - within;
    carry = split.reopen + carry.slice(within);
    rest = carry + markdown.slice(offset);
    layout?.finish(limit, { head: split.head, basis: markdown.slice(0, offset), carry });
  }
  if (parts.length === 0 || rest.trim()) parts.push(rest);
  return parts;
}

function toSplit(markdown: string, cut: Cut): Split {
  return { head: headAt(markdown, cut), consumed: cut.pos, reopen: cut.reopen };
}

function headAt(markdown: string, cut: Cut): string {
  const text = markdown.slice(0, cut.pos);
  if (!cut.fence) return text;
  return `${text}${text.endsWith('\n') ? '' : '\n'}${cut.fence.close}`;
}

/** The largest fitting cut, galloping from the start so the answer depends only on text up to the first cut that does not fit. */
function lastFitting(cuts: Cut[], fits: (cut: Cut) => boolean): Cut | null {
  let fit = -1;
  let fail = cuts.length;
  for (let step = 1, i = 0; i < cuts.length; i = fit + step, step *= 2) {
    if (!fits(cuts[i] as Cut)) {
      fail = i;
      break;
    }
    fit = i;
  }
  while (fail - fit > 1) {
    const mid = (fit + fail) >> 1;
    if (fits(cuts[mid] as Cut)) fit = mid;
    else fail = mid;
  }
  return cuts[fit] ?? null;
}

/**
 * The code fence still open at the end of `markdown` (its closing marker and the opening line that reopens it,
 * newline included), or null: for a message ended at an arbitrary point rather than at a cut of splitForSlack.
 */
export function fenceOpenAtEnd(markdown: string): { close: string; reopen: string } | null {
  // The state at the start of a line after the text is the state at its end.
  const fence = scanLines(`${markdown}\n`).at(-1)?.fence;
  return fence ? { close: fence.close, reopen: fence.reopen } : null;
}

function scanLines(markdown: string): Line[] {
  const lines: Line[] = [];
  let fence: (Fence & { char: string; length: number }) | null = null;
  let table: string | null = null;
  for (let start = 0; start <= markdown.length; ) {
    const newline = markdown.indexOf('\n', start);
    const end = newline < 0 ? markdown.length : newline;
    const text = markdown.slice(start, end);
    const previous = lines[lines.length - 1];
    const open = fence;
    let kind: LineKind;
    let rowOf: string | null = null;
    const fenceLine = FENCE_LINE.exec(text.trimEnd());
    if (open) {
      const closes = fenceLine && fenceLine[2]?.[0] === open.char && (fenceLine[2]?.length ?? 0) >= open.length && !fenceLine[3]?.trim();
      kind = closes ? 'closer' : 'code';
      if (closes) fence = null;
    } else if (fenceLine) {
      kind = 'opener';
      const marker = fenceLine[2] ?? '```';
      fence = { char: marker[0] ?? '`', length: marker.length, close: `${fenceLine[1] ?? ''}${marker}`, reopen: `${text.trim()}\n` };
    } else if (!text.trim()) {
      kind = 'blank';
    } else if (previous && (previous.kind === 'text' || previous.kind === 'heading') && text.includes('|') && TABLE_RULE.test(text) && lineText(markdown, previous).includes('|')) {
      previous.kind = 'tableHead';
      kind = 'tableRule';
      table = `${lineText(markdown, previous)}\n${text}\n`;
    } else if (table && (previous?.kind === 'tableRule' || previous?.kind === 'tableRow')) {
      kind = 'tableRow';
      rowOf = table;
    } else {
      kind = HEADING.test(text) ? 'heading' : 'text';
    }
    if (kind !== 'tableRule' && kind !== 'tableRow') table = null;
    lines.push({ start, end, kind, fence: open, table: rowOf });
    if (newline < 0) break;
    start = newline + 1;
  }
  return lines;
}

function lineText(markdown: string, line: Line): string {
  return markdown.slice(line.start, line.end);
}

/** Cuts at the start of a line, except where the next part would lose its meaning. */
function lineBoundaries(markdown: string, lines: Line[]): Cut[] {
  const cuts: Cut[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] as Line;
    const previous = lines[i - 1] as Line;
    if (line.start >= markdown.length || line.kind === 'blank' || line.kind === 'closer') continue;
    // An empty code block, or a table without its first row.
    if (previous.kind === 'opener' || previous.kind === 'tableHead' || previous.kind === 'tableRule') continue;
    const fence = line.fence;
    const text = lineText(markdown, line);
    // The rest would start with a setext underline, or with an indent that makes it an indented code block.
    if (!fence && ((previous.kind === 'text' && SETEXT_UNDERLINE.test(text)) || /^(?: {4}|\t)/.test(text))) continue;
    cuts.push({
      pos: line.start,
      rank: !fence && (previous.kind === 'blank' || previous.kind === 'closer' || line.kind === 'heading' || line.kind === 'opener') ? 3 : 2,
      fence,
      reopen: fence?.reopen ?? (line.kind === 'tableRow' && line.table ? line.table : ''),
    });
  }
  return cuts;
}

/** Cuts inside the lines of `region`: after a run of spaces, or between any two characters. */
function inLineCuts(markdown: string, region: Line[], at: 'space' | 'character', avoidSpans: boolean, scanEnd: number): Cut[] {
  const cuts: Cut[] = [];
  for (const line of region) {
    if (line.start >= scanEnd) break;
    if (line.kind === 'opener' || line.kind === 'closer' || line.kind === 'tableHead' || line.kind === 'tableRule') continue;
    const length = line.end - line.start;
    const text = markdown.slice(line.start, Math.min(line.end, scanEnd));
    const spans = avoidSpans && line.kind !== 'code' ? protectedSpans(text) : [];
    const indent = text.length - text.trimStart().length;
    const positions = at === 'space' ? spaceEnds(text) : characterBoundaries(text);
    // Positions and spans both ascend: one pass over each keeps a long line linear.
    let span = 0;
    for (const offset of positions) {
      while ((spans[span]?.[1] ?? Infinity) <= offset) span++;
      const [from, to] = spans[span] ?? [Infinity, Infinity];
      if (offset <= indent || offset >= length || (offset > from && offset < to)) continue;
      cuts.push({ pos: line.start + offset, rank: at === 'space' ? 1 : 0, fence: line.fence, reopen: line.fence?.reopen ?? '' });
    }
  }
  return cuts;
}

/**
 * Every `boundaries` offset before `scanEnd` in every line but a fence's own (a fence line cut would turn the
 * code after it into text; its rendering is short anyway); only a fence open at the cut is reopened.
 */
function hardCuts(markdown: string, lines: Line[], boundaries: (text: string) => number[], scanEnd: number): Cut[] {
  const cuts: Cut[] = [];
  for (const line of lines) {
    if (line.start >= scanEnd) break;
    if (line.kind === 'opener' || line.kind === 'closer') continue;
    for (const offset of boundaries(markdown.slice(line.start, Math.min(line.end, scanEnd)))) {
      const pos = line.start + offset;
      if (pos < markdown.length) cuts.push({ pos, rank: 0, fence: line.fence, reopen: line.fence?.reopen ?? '' });
    }
  }
  return cuts;
}

function protectedSpans(text: string): Array<[number, number]> {
  return Array.from(text.matchAll(PROTECTED_SPANS), (match) => [match.index, match.index + match[0].length]);
}

function spaceEnds(text: string): number[] {
  return Array.from(text.matchAll(/[ \t]+/g), (match) => match.index + match[0].length);
}

/** Offsets between user-perceived characters (Intl.Segmenter is far too slow on long runs). */
function characterBoundaries(text: string): number[] {
  const offsets: number[] = [];
  let previous = 0;
  for (let i = 0; i < text.length; ) {
    const codePoint = text.codePointAt(i) ?? 0;
    const joined = continuesCharacter(codePoint) || previous === ZERO_WIDTH_JOINER || (isRegionalIndicator(codePoint) && isRegionalIndicator(previous));
    if (i > 0 && !joined) offsets.push(i);
    previous = codePoint;
    i += codePoint > 0xffff ? 2 : 1;
  }
  offsets.push(text.length);
  return offsets;
}

/** Offsets between code points: the last resort inside a character made of many. */
function codePointBoundaries(text: string): number[] {
  const offsets: number[] = [];
  for (let i = 0; i < text.length; ) {
    i += (text.codePointAt(i) ?? 0) > 0xffff ? 2 : 1;
    offsets.push(i);
  }
  return offsets;
}

const ZERO_WIDTH_JOINER = 0x200d;

/** Combining marks, joiners, variation selectors, skin tones and tag characters belong to the character before them. */
function continuesCharacter(codePoint: number): boolean {
  return (
    codePoint === ZERO_WIDTH_JOINER ||
    codePoint === 0xfe0e ||
    codePoint === 0xfe0f ||
    (codePoint >= 0x1f3fb && codePoint <= 0x1f3ff) ||
    (codePoint >= 0xe0020 && codePoint <= 0xe007f) ||
    /\p{M}/u.test(String.fromCodePoint(codePoint))
  );
}

// Pairs of regional indicators are flags; a cut between two of them could split one.
function isRegionalIndicator(codePoint: number): boolean {
  return codePoint >= 0x1f1e6 && codePoint <= 0x1f1ff;
}
