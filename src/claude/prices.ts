import type { AnswerUsage } from './claudeStream.js';

/** USD per million tokens of one model, as Anthropic's pricing page lists them. */
export interface ModelPrice {
  input: number;
  output: number;
  /** A 5-minute cache write (what automatic caching writes); default 1.25 × `input`. */
  cache_write?: number;
  /** A cache hit; default 0.1 × `input`. */
  cache_read?: number;
}

/** Model id → price; CLAUDE_PRICES has the same shape. */
export type PriceTable = Readonly<Record<string, ModelPrice>>;

/**
 * Built-in list prices (platform.claude.com model overview pages, checked 2026-11-30). Haiku 5.5 is priced in
 * two bands; this is the lower one (prompts up to 100,000 tokens), so a longer prompt is underestimated.
 * Thinking tokens are billed as output, and `output_tokens` already includes them.
 */
export const DEFAULT_PRICES: PriceTable = {
  'claude-opus-5-5': { input: 4, output: 20, cache_write: 5, cache_read: 0.2 },
  'claude-sonnet-5-5': { input: 2, output: 10, cache_write: 2.5, cache_read: 0.1 },
  'claude-haiku-5-5': { input: 0.1, output: 0.5, cache_write: 0.125, cache_read: 0.01 },
  'claude-opus-5': { input: 5, output: 25, cache_write: 6.25, cache_read: 0.5 },
  'claude-sonnet-5': { input: 2, output: 10, cache_write: 2.5, cache_read: 0.2 },
};

/** The built-in table with CLAUDE_PRICES' entries over it (an entry replaces the model's whole price). */
export function priceTable(overrides: PriceTable = {}): PriceTable {
  return { ...DEFAULT_PRICES, ...overrides };
}

/**
 * The price of `model`: its own entry, else that of the longest id it extends with a dated or tagged suffix
 * (`claude-sonnet-5-5-20260615` is priced as `claude-sonnet-5-5`); undefined when the table has neither.
 */
export function priceOf(table: PriceTable, model: string): ModelPrice | undefined {
  if (Object.hasOwn(table, model)) return table[model];
  const base = Object.keys(table)
    .filter((id) => model.startsWith(`${id}-`) || model.startsWith(`${id}@`))
    .sort((a, b) => b.length - a.length)[0];
  return base === undefined ? undefined : table[base];
}

/** Estimated USD cost of `usage` at `price` (list prices; batch and regional multipliers do not apply here). */
export function costUsd(price: ModelPrice, usage: AnswerUsage): number {
  const perToken = 1e-6;
  return (
    perToken *
    (usage.inputTokens * price.input +
      usage.cacheCreationInputTokens * (price.cache_write ?? price.input * 1.25) +
      usage.cacheReadInputTokens * (price.cache_read ?? price.input * 0.1) +
      usage.outputTokens * price.output)
  );
}
