/** Gives an admitted answer's slots back; safe to call twice. */
export type ReleaseSlot = () => void;

/** A counting semaphore whose waiters are served in arrival order; a waiter can leave by aborting. */
class Semaphore {
  private running = 0;
  private readonly waiters: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  /** True when an acquire now would have to wait. */
  get full(): boolean {
    return this.running >= this.limit;
  }

  /** Acquires waiting for a slot. */
  get waiting(): number {
    return this.waiters.length;
  }

  /** Slots held. */
  get held(): number {
    return this.running;
  }

  /** True when nothing runs or waits (the semaphore can be forgotten). */
  get idle(): boolean {
    return this.running === 0 && this.waiters.length === 0;
  }

  /** Resolves with a release once a slot is free; rejects with `signal.reason` if `signal` aborts first. */
  acquire(signal: AbortSignal): Promise<ReleaseSlot> {
    if (signal.aborted) return Promise.reject(signal.reason);
    if (!this.full) return Promise.resolve(this.take());
    return new Promise((resolve, reject) => {
      const grant = () => {
        signal.removeEventListener('abort', leave);
        resolve(this.take());
      };
      const leave = () => {
        this.waiters.splice(this.waiters.indexOf(grant), 1);
        reject(signal.reason);
      };
      this.waiters.push(grant);
      signal.addEventListener('abort', leave, { once: true });
    });
  }

  private take(): ReleaseSlot {
    this.running += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.running -= 1;
      // A freed slot goes straight to the oldest waiter, so a newcomer cannot overtake it.
      this.waiters.shift()?.();
    };
  }
}

/** What `admit` tells its caller while the question waits. */
export interface AdmitWaits {
  /** The user is at their cap and nothing of theirs waits yet (a burst of questions is told once, not once per question). */
  onUserWait: () => void;
  /** The question has its user's slot and now waits for a process slot (MAX_CONCURRENT_ANSWERS). */
  onProcessWait: () => void;
}

export interface AdmissionOptions {
  /** Answers in flight per user (USER_MAX_CONCURRENT). */
  perUser: number;
  /** Claude streams in flight in this process (MAX_CONCURRENT_ANSWERS). */
  total: number;
}

/**
 * Caps answers in flight: `perUser` per user, then `total` for the process, each cap served in arrival
 * order. A question beyond a cap waits (its placeholder is already posted) rather than being declined: the
 * user asked it once and should not have to ask again, and waiting costs only a promise. The caps are per
 * process: with several instances on Redis a user may have `perUser` answers in flight on each instance.
 * A question first waits for its user's slot, then for a process slot, so one user's backlog never holds
 * process slots that other users could use.
 */
export class Admission {
  private readonly users = new Map<string, Semaphore>();
  private readonly process: Semaphore;

  constructor(private readonly options: AdmissionOptions) {
    for (const [name, value] of Object.entries(options)) {
      if (!(Number.isInteger(value) && value > 0)) throw new TypeError(`${name} must be a positive integer`);
    }
    this.process = new Semaphore(options.total);
  }

  /** Answers admitted and not yet released. */
  get admitted(): number {
    return this.process.held;
  }

  /** Questions waiting for their user's slot or a process slot. */
  get waiting(): number {
    let waiting = this.process.waiting;
    for (const user of this.users.values()) waiting += user.waiting;
    return waiting;
  }

  /**
   * Whether a question `userId` asks now would wait for a process slot at once: its user has a slot free and
   * the process none. (One that first waits for its user's slot may find the process full later: see
   * `onProcessWait`.)
   */
  wouldQueue(userId: string): boolean {
    return !this.users.get(userId)?.full && this.process.full;
  }

  /**
   * Resolves with a release once the answer may run, calling `waits` as the question starts waiting for its
   * user's slot or for a process slot. Rejects with `signal.reason` if `signal` aborts while waiting; nothing
   * is then held.
   */
  async admit(userId: string, signal: AbortSignal, { onUserWait, onProcessWait }: AdmitWaits): Promise<ReleaseSlot> {
    const user = this.users.get(userId) ?? new Semaphore(this.options.perUser);
    this.users.set(userId, user);
    const forgetIfIdle = () => {
      if (user.idle && this.users.get(userId) === user) this.users.delete(userId);
    };
    if (user.full && user.waiting === 0) onUserWait();
    let releaseUser: ReleaseSlot | undefined;
    try {
      releaseUser = await user.acquire(signal);
      if (this.process.full) onProcessWait();
      const releaseProcess = await this.process.acquire(signal);
      return () => {
        releaseProcess();
        releaseUser!();
        forgetIfIdle();
      };
    } catch (error) {
      releaseUser?.();
      forgetIfIdle();
      throw error;
    }
  }
}
