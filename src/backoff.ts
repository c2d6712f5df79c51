/** Exponential backoff with jitter, shared by every retry loop that waits between attempts. */
export interface BackoffOptions {
  /** The first wait is a random time in [baseMs, 2 × baseMs). */
  baseMs: number;
  /** No wait is longer than this. */
  maxMs: number;
}

/**
 * The wait before retry `attempt` (0 for the first retry): a random time in [base·2ⁿ, 2·base·2ⁿ), capped at
 * `maxMs`. The random half spreads retries of many callers that failed together ("equal jitter").
 */
export function backoffDelay(attempt: number, { baseMs, maxMs }: BackoffOptions): number {
  const floor = baseMs * 2 ** attempt;
  return Math.min(maxMs, floor + Math.random() * floor);
}

/** Waits `ms`; resolves true after the wait, or false as soon as `signal` aborts (at once if it already has). */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Calls `task` up to `attempts` times, waiting `backoffDelay` between tries; `onFailure` hears every failure
 * (with the attempt number from 0 and whether another try follows). Rejects with the last error.
 */
export async function retry<T>(
  task: () => Promise<T>,
  options: BackoffOptions & { attempts: number; onFailure: (error: unknown, attempt: number, willRetry: boolean) => void },
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await task();
    } catch (error) {
      const willRetry = attempt + 1 < options.attempts;
      options.onFailure(error, attempt, willRetry);
      if (!willRetry) throw error;
      await sleep(backoffDelay(attempt, options));
    }
  }
}
