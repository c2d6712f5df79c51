/** Characters that make inline Markdown (emphasis, code, links, escapes): none may survive from text we only quote. */
const MARKUP = /[*_~`\\[\]|]/g;

/**
 * `text` as one line of plain words for the renderer to escape: Markdown markup removed (so it can neither
 * format, nor link, nor close the italics we wrap it in), whitespace collapsed, and cut at a word boundary
 * with a closing `…` past `maxChars` characters (code points). '' when nothing readable is left.
 */
export function inertInline(text: string, maxChars: number): string {
  const line = text.replace(MARKUP, '').replace(/\s+/g, ' ').trim();
  const chars = Array.from(line);
  if (chars.length <= maxChars) return line;
  const cut = chars.slice(0, maxChars - 1).join('');
  const atWord = cut.replace(/\s+\S*$/, '');
  return `${(atWord.length >= cut.length / 2 ? atWord : cut).trimEnd()}…`;
}
