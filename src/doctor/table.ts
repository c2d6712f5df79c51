import type { CheckRow, CheckStatus } from './checkRow.js';

/** Each status's mark; all render two columns wide in common terminals (⚠️ with its emoji selector). */
const MARKS: Record<CheckStatus, string> = { pass: '✅', fail: '❌', warn: '⚠️', skip: '➖' };

/**
 * The report as plain text: one line per check (mark, name, detail), a `fix:` line under each ❌, then a
 * summary line. Names are padded to one column, so details line up in a terminal and in a CI log alike.
 */
export function renderReport(rows: readonly CheckRow[]): string {
  const width = Math.max(...rows.map((row) => row.name.length));
  const lines = rows.flatMap((row) => {
    const line = `${MARKS[row.status]} ${row.name.padEnd(width)}  ${printable(row.detail)}`;
    return row.fix ? [line, `   ${' '.repeat(width)}  fix: ${printable(row.fix)}`] : [line];
  });
  return [...lines, '', summary(rows)].join('\n');
}

/** "All checks passed.", or how many failed, warned and were skipped. */
function summary(rows: readonly CheckRow[]): string {
  const count = (status: CheckStatus) => rows.filter((row) => row.status === status).length;
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const failed = count('fail');
  const parts = [failed ? `${plural(failed, 'check')} failed` : 'All checks passed', count('warn') ? plural(count('warn'), 'warning') : '', count('skip') ? `${count('skip')} skipped` : ''];
  return `${parts.filter(Boolean).join(', ')}.`;
}

/** Longer runs of token characters than any id, name or path segment a detail legitimately shows. */
const OPAQUE = /[A-Za-z0-9+=_-]{32,}/g;

/**
 * A detail as the terminal may show it: upstream servers echo what they like into error messages, so control
 * characters (escape sequences) are dropped and long opaque runs, such as an echoed header in base64 that the
 * secret scrubber cannot recognise, are elided.
 */
function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ').replace(OPAQUE, '[…]');
}
