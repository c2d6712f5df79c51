import { jest } from '@jest/globals';
import { MemoryEditBudget } from '../../src/slack/editBudget.js';
import { EditScheduler } from '../../src/slack/editScheduler.js';
import { GatedBudget, logger, tick } from './schedulerHelpers.js';
import { withUpdateBudget } from './budgets.js';

describe('EditScheduler', () => {
  test('coalesces: while an edit is in flight, only the newest content is sent next, never an unchanged one', async () => {
    const sent: string[] = [];
    let release!: () => void;
    const scheduler = new EditScheduler({ intervalMs: 10, budgets: withUpdateBudget(new MemoryEditBudget(1000)), logger });
    const live = scheduler.track('T', async (content) => {
      sent.push(content);
      if (sent.length === 1) await new Promise<void>((resolve) => (release = resolve));
    });
    live.show('a');
    await tick(5);
    for (const text of ['ab', 'abc', 'abcd']) live.show(text);
    release();
    await tick();
    live.show('abcd');
    await live.finish('abcd!');
    expect(sent).toEqual(['a', 'abcd', 'abcd!']);
  });

  test('when budget is short: finals first, then first texts, then the refresh that waited longest', async () => {
    const budget = new GatedBudget();
    const scheduler = new EditScheduler({ intervalMs: 1, budgets: withUpdateBudget(budget), logger });
    const order: string[] = [];
    const track = (name: string) => scheduler.track('T', async (content) => void order.push(`${name}:${content}`));

    const older = track('older');
    const newer = track('newer');
    const fresh = track('fresh');
    const ending = track('ending');
    // Make `older` and `newer` visible (in that order) so they are refreshes from now on.
    older.show('1');
    budget.grant();
    await tick();
    newer.show('1');
    budget.grant();
    await tick();
    order.length = 0;

    newer.show('2');
    older.show('2');
    fresh.show('1');
    const finished = ending.finish('done');
    for (let i = 0; i < 4; i++) {
      budget.grant();
      await tick();
    }
    await finished;
    expect(order).toEqual(['ending:done', 'fresh:1', 'older:2', 'newer:2']);
  });

  test('once half the burst is spent, intervals stretch with the number of messages and shrink back as they finish', async () => {
    // On a fake clock: the gaps are the scheduler's own arithmetic, not the machine's timer latency.
    jest.useFakeTimers({ now: 0 });
    try {
      const budget = new MemoryEditBudget(600);
      for (let i = 0; i < 400; i++) await budget.tryTake('T', 0);
      const scheduler = new EditScheduler({ intervalMs: 10, budgets: withUpdateBudget(budget), logger });
      const sentAt = { a: [] as number[], b: [] as number[] };
      const a = scheduler.track('T', async () => void sentAt.a.push(Date.now()));
      const b = scheduler.track('T', async () => void sentAt.b.push(Date.now()));
      const stream = async (message: typeof a, ms: number) => {
        for (let i = 0; i < ms / 5; i++) {
          message.show(`text ${i}`);
          await jest.advanceTimersByTimeAsync(5);
        }
      };
      // Two messages: 2 × 60 s ÷ (600 − 20 % reserve) = 250 ms apart, not the 10 ms base interval.
      await Promise.all([stream(a, 900), stream(b, 900)]);
      const together = sentAt.a.slice();
      const finished = b.finish('b done');
      await jest.advanceTimersByTimeAsync(1_000);
      await finished;
      const gaps = (times: number[]) => times.slice(1).map((time, i) => time - times[i]!);
      expect(together.length).toBeGreaterThanOrEqual(3);
      expect(Math.min(...gaps(together))).toBeGreaterThanOrEqual(245);
      // One message left: 125 ms apart.
      const before = sentAt.a.length;
      await stream(a, 700);
      const alone = gaps(sentAt.a.slice(before));
      expect(alone.length).toBeGreaterThanOrEqual(3);
      expect(Math.min(...alone)).toBeGreaterThanOrEqual(120);
      expect(Math.max(...alone)).toBeLessThan(245);
      const done = a.finish('a done');
      await jest.advanceTimersByTimeAsync(1_000);
      await done;
    } finally {
      jest.useRealTimers();
    }
  });

  test('content equal to an earlier version is sent again once a different edit in flight lands, and a final always is', async () => {
    const sent: string[] = [];
    let release!: () => void;
    const scheduler = new EditScheduler({ intervalMs: 1, budgets: withUpdateBudget(new MemoryEditBudget(1000)), logger });
    const live = scheduler.track('T', async (content, final) => {
      sent.push(final ? `final:${content}` : content);
      if (content === 'notice') await new Promise<void>((resolve) => (release = resolve));
    });
    live.show('Hello');
    await tick();
    live.showNow('notice');
    await tick();
    // While "notice" is in flight, the text Slack showed before it comes back: it must replace the notice.
    live.show('Hello');
    release();
    await tick();
    // A final with the text of the last intermediate edit still goes out: it renders without "still writing".
    await live.finish('Hello');
    expect(sent).toEqual(['Hello', 'notice', 'Hello', 'final:Hello']);
  });

  test('within a priority the budget goes round-robin between users, whoever has more messages waiting', async () => {
    const budget = new GatedBudget();
    const scheduler = new EditScheduler({ intervalMs: 1, budgets: withUpdateBudget(budget), logger });
    const order: string[] = [];
    const track = (user: string, name: string) => scheduler.track('T', async () => void order.push(name), user);
    const flood = Array.from({ length: 4 }, (_, i) => track('UA', `a${i}`));
    const other = track('UB', 'b0');
    const finished = [...flood, other].map((message) => message.finish('done'));
    for (let i = 0; i < 5; i++) {
      budget.grant();
      await tick();
    }
    await Promise.all(finished);
    expect(order.indexOf('b0')).toBeLessThanOrEqual(1);
    expect(order).toHaveLength(5);
  });

  test('every Slack call of an edit takes its own edit from the budget', async () => {
    const now = () => 0;
    const budget = new MemoryEditBudget(60, now);
    const scheduler = new EditScheduler({ intervalMs: 1, budgets: withUpdateBudget(budget), logger, now });
    const live = scheduler.track('T', async (_content, _final, pay) => {
      for (let call = 0; call < 3; call++) await pay('chat.update');
    });
    await live.finish('three messages');
    // 60 in the bucket, 3 taken: 56 more fit before the safety margin.
    let taken = 0;
    while ((await budget.tryTake('T', 0)).waitMs === 0) taken++;
    expect(taken).toBe(56);
  });

  test('rejects a non-positive interval at once', () => {
    expect(() => new EditScheduler({ intervalMs: 0, budgets: withUpdateBudget(new MemoryEditBudget(50)), logger })).toThrow(/intervalMs/);
  });
});

describe('MemoryEditBudget', () => {
  test('a full bucket allows a burst, then refills at the per-minute rate', async () => {
    let now = 0;
    const budget = new MemoryEditBudget(60, () => now);
    let taken = 0;
    while ((await budget.tryTake('T', 0)).waitMs === 0) taken++;
    expect(taken).toBe(59); // a tenth of an edit is kept as a safety margin
    const { waitMs } = await budget.tryTake('T', 0);
    expect(waitMs).toBeGreaterThan(0);
    expect(waitMs).toBeLessThanOrEqual(1000);
    now += waitMs;
    expect((await budget.tryTake('T', 0)).waitMs).toBe(0);
    expect((await budget.tryTake('other', 0)).waitMs).toBe(0);
  });

  test('a pause holds every take until it ends, halves the bucket, and the bucket refills meanwhile', async () => {
    let now = 0;
    const budget = new MemoryEditBudget(60, () => now);
    for (let i = 0; i < 20; i++) await budget.tryTake('T', 0);
    await budget.pause('T', 5000);
    now += 4000;
    expect(await budget.tryTake('T', 0)).toEqual({ waitMs: 1000, remaining: 0 });
    expect((await budget.tryTake('other', 0)).waitMs).toBe(0);
    // 40 left at the 429, halved to 20, plus 5 s of refill at one a second: 25, of which 24 can be spent at once.
    now += 1000;
    let taken = 0;
    while ((await budget.tryTake('T', 0)).waitMs === 0) taken++;
    expect(taken).toBe(24);
  });

  test('peek reads the edits left, refill included, without spending one, and 0 while paused', async () => {
    let now = 0;
    const budget = new MemoryEditBudget(60, () => now);
    for (let i = 0; i < 10; i++) await budget.tryTake('T', 0);
    expect(await budget.peek('T')).toBe(50);
    expect(await budget.peek('T')).toBe(50);
    now += 2000;
    expect(await budget.peek('T')).toBe(52);
    await budget.pause('T', 1000);
    expect(await budget.peek('T')).toBe(0);
    now += 1000;
    expect(await budget.peek('T')).toBe(27);
  });

  test('a take that would dig into the reserve waits instead', async () => {
    const budget = new MemoryEditBudget(10, () => 0);
    expect((await budget.tryTake('T', 8)).waitMs).toBe(0);
    expect((await budget.tryTake('T', 8)).waitMs).toBeGreaterThan(0);
    expect((await budget.tryTake('T', 0)).waitMs).toBe(0);
  });
});
