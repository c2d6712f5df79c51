/** How long a readiness answer is reused: a flood of probes costs one check a second, never a check each. */
const READY_CACHE_MS = 1_000;

/**
 * `check` (a readiness check) run at most once at a time, callers meanwhile sharing its answer, which is then
 * reused for READY_CACHE_MS after it settles; a rejection counts as false.
 */
export function reusedCheck(check: () => Promise<boolean>): () => Promise<boolean> {
  let running: Promise<boolean> | undefined;
  let settled: { at: number; ready: boolean } | undefined;
  return () => {
    if (settled && Date.now() - settled.at < READY_CACHE_MS) return Promise.resolve(settled.ready);
    running ??= check()
      .catch(() => false)
      .then((ready) => {
        settled = { at: Date.now(), ready };
        running = undefined;
        return ready;
      });
    return running;
  };
}
