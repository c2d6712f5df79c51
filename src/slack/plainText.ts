// Slack message text → the plain text a person reads in Slack. Slack escapes a user's literal `&`, `<` and `>`
// as `&amp;`, `&lt;`, `&gt;`, so a raw `<` only ever opens markup (`<@U…>`, `<#C…|name>`, `<!here>`,
// `<url|label>`): the tokens are parsed on the raw text first, and the entities are decoded afterwards, once,
// in the plain segments, labels and URLs. https://docs.slack.dev/messaging/formatting-message-text
// Hand-written: the published Slack markup parsers render to HTML or React, not to plain text.

/** The names `toPlainText` shows for ids; an id missing from a map falls back to the label, else to the id. */
export interface PlainTextNames {
  /** The bot's own user id: its mentions are removed wherever they appear. */
  botUserId?: string;
  /** User id → display name (without `@`). */
  users: ReadonlyMap<string, string>;
  /** Channel id → name (without `#`). */
  channels: ReadonlyMap<string, string>;
}

/** What a markup token becomes: text, or nothing (the bot's own mention, which also takes its spacing with it). */
type Piece = string | typeof REMOVED;
const REMOVED = Symbol('removed');

/** A `<…>` token: no `<` or `>` inside, since Slack escapes them in labels and URLs. */
const TOKEN = /<([^<>]+)>/g;

/** Slack mrkdwn text → plain text: entities decoded once, mentions, channels, links and broadcasts as Slack shows them, the bot's own mentions removed; trimmed. */
export function toPlainText(text: string, names: PlainTextNames): string {
  const pieces: Piece[] = [];
  let at = 0;
  for (const match of text.matchAll(TOKEN)) {
    pieces.push(decodeEntities(text.slice(at, match.index)), tokenText(match[1]!, names));
    at = match.index + match[0].length;
  }
  pieces.push(decodeEntities(text.slice(at)));
  return joinPieces(pieces).trim();
}

/** The ids `toPlainText` would show a name for: every mentioned user, and channels linked without a label. */
export function referencedIds(text: string): { users: string[]; channels: string[] } {
  const users = new Set<string>();
  const channels = new Set<string>();
  for (const match of text.matchAll(TOKEN)) {
    const { target, label } = splitToken(match[1]!);
    if (target.startsWith('@') && target.length > 1) users.add(target.slice(1));
    else if (target.startsWith('#') && target.length > 1 && label === undefined) channels.add(target.slice(1));
  }
  return { users: [...users], channels: [...channels] };
}

/** Decodes the three entities Slack escapes, in one pass, so `&amp;lt;` becomes `&lt;` and stays so. */
function decodeEntities(text: string): string {
  return text.includes('&') ? text.replace(/&(amp|lt|gt);/g, (_, name: string) => ENTITIES[name]!) : text;
}

const ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>' };

/** Splits `target|label`; an empty label (Slack sends `<#C123|>`) counts as none. */
function splitToken(inner: string): { target: string; label?: string } {
  const bar = inner.indexOf('|');
  if (bar < 0) return { target: inner };
  const label = inner.slice(bar + 1);
  return label === '' ? { target: inner.slice(0, bar) } : { target: inner.slice(0, bar), label: decodeEntities(label) };
}

function tokenText(inner: string, names: PlainTextNames): Piece {
  const { target, label } = splitToken(inner);
  const sigil = target[0];
  const id = target.slice(1);
  if (sigil === '@' && id) {
    if (id === names.botUserId) return REMOVED;
    return `@${names.users.get(id) ?? label?.replace(/^@/, '') ?? id}`;
  }
  if (sigil === '#' && id) return `#${label ?? names.channels.get(id) ?? id}`;
  if (sigil === '!' && id) return specialText(id, label);
  return linkText(decodeEntities(target), label);
}

/** `<!here>`, `<!channel>`, `<!everyone>` → `@here` …; `<!subteam^S1|@oncall>` and `<!date^…|fallback>` → their label. */
function specialText(command: string, label: string | undefined): string {
  const name = command.split('^')[0]!;
  if (name === 'here' || name === 'channel' || name === 'everyone') return `@${name}`;
  if (label !== undefined) return label;
  return name === 'subteam' ? `@${command.slice('subteam^'.length)}` : `@${decodeEntities(name)}`;
}

/** A link: its label followed by the URL in brackets; the URL alone when there is no label or the label is the URL. */
function linkText(url: string, label: string | undefined): string {
  const mail = /^mailto:/i.test(url) ? url.slice('mailto:'.length) : undefined;
  const shown = mail ?? url;
  const bare = url.replace(/^[a-z][a-z0-9+.-]*:(?:\/\/)?/i, '');
  if (label === undefined || label === url || label === shown || label === bare) return shown;
  return `${label} (${shown})`;
}

/**
 * Joins the pieces; a removed mention takes the whitespace around it along: none at the start or end of the
 * text, the line breaks it stood between (as many as the widest run of them), else one space. Linear in the
 * text: each piece is pushed, trimmed and measured once (a message can hold thousands of the bot's mentions).
 */
function joinPieces(pieces: readonly Piece[]): string {
  const out: string[] = [];
  // The whitespace around consecutive removed mentions, while it waits for the next text.
  let gap: Gap | undefined;
  for (const piece of pieces) {
    if (piece === REMOVED) {
      gap ??= new Gap(takeTrailingWhitespace(out));
      gap.nextRun();
      continue;
    }
    if (gap === undefined) {
      if (piece) out.push(piece);
      continue;
    }
    const rest = piece.trimStart();
    gap.add(piece.slice(0, piece.length - rest.length));
    if (rest === '') continue;
    if (out.length > 0) out.push(gap.separator());
    out.push(rest);
    gap = undefined;
  }
  return out.join('');
}

/** Removes and returns the whitespace that ends `parts` (which hold no empty strings), leaving none empty. */
function takeTrailingWhitespace(parts: string[]): string {
  let run = '';
  while (parts.length > 0) {
    const last = parts.pop()!;
    const kept = last.trimEnd();
    run = last.slice(kept.length) + run;
    if (kept) {
      parts.push(kept);
      break;
    }
  }
  return run;
}

/** The whitespace runs around a row of removed mentions, folded as they close: the most line breaks in one run, and whether any run had whitespace. */
class Gap {
  private lineBreaks = 0;
  private whitespace = false;

  /** `run`: the whitespace before the first removed mention. */
  constructor(private run: string) {}

  add(whitespace: string): void {
    this.run += whitespace;
  }

  /** A removed mention: the current run ends and the one after it starts. */
  nextRun(): void {
    this.fold();
    this.run = '';
  }

  separator(): string {
    this.fold();
    return this.lineBreaks > 0 ? '\n'.repeat(this.lineBreaks) : this.whitespace ? ' ' : '';
  }

  private fold(): void {
    this.lineBreaks = Math.max(this.lineBreaks, this.run.split('\n').length - 1);
    this.whitespace ||= this.run !== '';
  }
}
