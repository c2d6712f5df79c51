import { Admission, type AdmitWaits, type ReleaseSlot } from '../src/admission.js';

/** Waits, as told to `admit`, recorded by kind. */
function recorder(): AdmitWaits & { told: string[] } {
  const told: string[] = [];
  return { told, onUserWait: () => told.push('user'), onProcessWait: () => told.push('process') };
}

/** Lets every pending promise callback run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('Admission', () => {
  const signal = new AbortController().signal;

  test('wouldQueue: true only when the user has a slot free and the process none', async () => {
    const admission = new Admission({ perUser: 1, total: 2 });
    expect(admission.wouldQueue('A')).toBe(false);
    await admission.admit('A', signal, recorder());
    // A is at their own cap: their next question waits for their slot first, not (yet) for the process.
    expect(admission.wouldQueue('A')).toBe(false);
    expect(admission.wouldQueue('B')).toBe(false);
    await admission.admit('B', signal, recorder());
    expect(admission.wouldQueue('C')).toBe(true);
    expect(admission.wouldQueue('A')).toBe(false);
  });

  test('onProcessWait: told when a question must wait for a process slot, at once or after its user slot', async () => {
    const admission = new Admission({ perUser: 1, total: 1 });
    const first = recorder();
    const releaseFirst = await admission.admit('A', signal, first);
    expect(first.told).toEqual([]);

    // B's user has room, the process none: B waits for a process slot at once.
    const b = recorder();
    const admittedB = admission.admit('B', signal, b);
    // A's second question waits for A's slot first, then finds the process still full (B waits ahead of it).
    const a2 = recorder();
    const admittedA2 = admission.admit('A', signal, a2);
    await settle();
    expect(b.told).toEqual(['process']);
    expect(a2.told).toEqual(['user']);

    releaseFirst();
    const releaseB = await admittedB;
    await settle();
    expect(a2.told).toEqual(['user', 'process']);
    releaseB();
    (await admittedA2)();
    expect(admission.admitted).toBe(0);
  });

  test('a freed process slot goes to the oldest waiter, and one that leaves by aborting is skipped', async () => {
    const admission = new Admission({ perUser: 5, total: 1 });
    const release = await admission.admit('A', signal, recorder());
    const order: string[] = [];
    const leaving = new AbortController();
    const waiters = ['B', 'C', 'D'].map((user) =>
      admission.admit(user, user === 'C' ? leaving.signal : signal, recorder()).then(
        (slot): ReleaseSlot => (order.push(user), slot),
        () => (order.push(`${user} left`), () => undefined),
      ),
    );
    await settle();
    expect(admission.waiting).toBe(3);
    leaving.abort('stop');
    release();
    for (const waiter of waiters) (await waiter)();
    expect(order).toEqual(['C left', 'B', 'D']);
    expect(admission.admitted).toBe(0);
  });
});
