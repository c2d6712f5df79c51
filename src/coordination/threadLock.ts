/** Gives the lock back; safe to call twice, never rejects. */
export type ReleaseLock = () => Promise<void>;

/** Serialises answers of one thread across instances. */
export interface ThreadLock {
  /** Resolves once this caller holds the thread's lock; rejects with `signal.reason` if `signal` aborts first. */
  acquire(threadId: string, signal?: AbortSignal): Promise<ReleaseLock>;
  close(): Promise<void>;
}

/** For a single process, which already serialises each thread in memory (ThreadQueue): acquire resolves at once. */
export class LocalThreadLock implements ThreadLock {
  async acquire(_threadId: string, signal?: AbortSignal): Promise<ReleaseLock> {
    signal?.throwIfAborted();
    return async () => {};
  }

  async close(): Promise<void> {}
}
