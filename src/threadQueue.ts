/** Thrown when a thread already has its full share of questions waiting. */
export class ThreadBusyError extends Error {
  override readonly name = 'ThreadBusyError';
}

/**
 * Runs the tasks of one thread one after another, in arrival order, while different threads run
 * concurrently; at most `maxWaiting` tasks wait behind the running one.
 */
export class ThreadQueue {
  private readonly tails = new Map<string, { tail: Promise<void>; queued: number }>();

  constructor(private readonly maxWaiting: number) {}

  /** Runs `task` once every earlier task of `threadId` has settled; rejects with ThreadBusyError when full. */
  run<T>(threadId: string, task: () => Promise<T>): Promise<T> {
    const entry = this.tails.get(threadId) ?? { tail: Promise.resolve(), queued: 0 };
    if (entry.queued > this.maxWaiting) return Promise.reject(new ThreadBusyError(`thread ${threadId} is busy`));
    entry.queued += 1;
    const result = entry.tail.then(task);
    entry.tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(threadId, entry);
    void entry.tail.then(() => {
      entry.queued -= 1;
      if (entry.queued === 0 && this.tails.get(threadId) === entry) this.tails.delete(threadId);
    });
    return result;
  }

  /** Threads with an answer running or waiting. */
  get size(): number {
    return this.tails.size;
  }

  /** Tasks waiting behind their thread's running one. */
  get waiting(): number {
    let waiting = 0;
    for (const { queued } of this.tails.values()) waiting += queued - 1;
    return waiting;
  }
}
