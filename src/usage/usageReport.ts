import { costUsd, priceOf, type PriceTable } from '../claude/prices.js';
import { addUsage, NO_USAGE, type UsageRow } from './usageLedger.js';

const HEADERS = ['day', 'team', 'user', 'model', 'answers', 'input', 'output (thinking)', 'cache write', 'cache read', 'cost USD'];
/** The text columns (left-aligned); the rest are numbers (right-aligned). */
const TEXT_COLUMNS = 4;

const count = (n: number) => n.toLocaleString('en-US');
const usd = (n: number) => `$${n.toFixed(4)}`;

/**
 * The `npm run usage` table: one line per UTC day, team, user and model (as `rows` come from the ledger), then
 * the totals. Cost is estimated at `prices` (list prices, see prices.ts); a model without a price shows "n/a",
 * is named in a footnote, and is left out of the total cost. Ids and counts only: the ledger holds no user text.
 */
export function usageReport(rows: readonly UsageRow[], prices: PriceTable, sinceDay: string): string {
  if (rows.length === 0) return `No token usage recorded since ${sinceDay} (UTC).\n`;
  const unpriced = new Set<string>();
  let totalCost = 0;
  let total = NO_USAGE;
  let answers = 0;
  const lines = rows.map((row) => {
    const price = priceOf(prices, row.model);
    const cost = price && costUsd(price, row.usage);
    if (cost === undefined) unpriced.add(row.model);
    totalCost += cost ?? 0;
    total = addUsage(total, row.usage);
    answers += row.answers;
    return [row.day, row.teamId, row.userId, row.model, ...counters(row.answers, row.usage), cost === undefined ? 'n/a' : usd(cost)];
  });
  const totals = ['total', '', '', '', ...counters(answers, total), usd(totalCost) + (unpriced.size ? ' *' : '')];
  const table = [HEADERS, ...lines, totals];
  const widths = HEADERS.map((_, column) => Math.max(...table.map((line) => line[column]!.length)));
  const render = (line: string[]) =>
    line
      .map((cell, column) => (column < TEXT_COLUMNS ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!)))
      .join('  ')
      .trimEnd();
  const rule = widths.map((width) => '-'.repeat(width)).join('  ');
  const footnotes = [...unpriced].map((model) => `n/a: no price for ${model} (add it to CLAUDE_PRICES); * the total cost leaves it out.`);
  return [`Token usage since ${sinceDay} (UTC days); cost estimated at list prices.`, '', render(HEADERS), rule, ...lines.map(render), rule, render(totals), ...(footnotes.length ? ['', ...footnotes] : [])]
    .join('\n')
    .concat('\n');
}

/** A row's number cells: answers, input, output with its thinking share, cache writes, cache reads. */
function counters(answers: number, usage: UsageRow['usage']): string[] {
  return [
    count(answers),
    count(usage.inputTokens),
    `${count(usage.outputTokens)} (${count(usage.thinkingTokens)})`,
    count(usage.cacheCreationInputTokens),
    count(usage.cacheReadInputTokens),
  ];
}
