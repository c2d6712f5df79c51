import { backoffDelay, type BackoffOptions } from '../backoff.js';
import type { RetryHint } from './claudeStream.js';

/**
 * How long to wait before a retry from scratch after a mid-stream failure: exponential backoff with jitter
 * (0.5–1 s, then 1–2 s, 2–4 s, … up to `maxMs`), one step further when Claude said it is overloaded or rate
 * limited, and at least what a `retry-after` header asked for, never more than `maxMs`. STREAM_RETRIES (≤ 5)
 * bounds the number of waits.
 */
export class RetryBackoff {
  constructor(private readonly options: BackoffOptions = { baseMs: 500, maxMs: 15_000 }) {
    if (!(options.baseMs > 0 && options.maxMs >= options.baseMs)) throw new TypeError('baseMs must be > 0 and maxMs ≥ baseMs');
  }

  /** Milliseconds to wait before retry `attempt` (0 for the first retry), given Claude's hint. */
  delayMs(attempt: number, hint: RetryHint): number {
    const computed = backoffDelay(attempt + (hint.busy ? 1 : 0), this.options);
    return Math.min(this.options.maxMs, Math.max(computed, hint.afterMs ?? 0));
  }
}
