import { jest } from '@jest/globals';
import { RedisEditBudget } from '../../src/slack/redisEditBudget.js';
import { describeRedis, useRedisPair } from './helpers.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Sends `count` takes at once (one pipelined burst, so refill during the burst is negligible); returns how many got through. */
async function burst(budget: RedisEditBudget, count: number, reserve = 0): Promise<number> {
  const results = await Promise.all(Array.from({ length: count }, () => budget.tryTake('T1', reserve)));
  return results.filter((result) => result.waitMs === 0).length;
}

describeRedis('RedisEditBudget', () => {
  const { a, b, prefix } = useRedisPair({ cleanUp: () => jest.restoreAllMocks() });

  // 6 a minute, not Slack's 50: the safety margin (a tenth of an edit) is then a whole second of refill, so a burst
  // slowed down by a loaded machine still cannot refill the edit it leaves unspent.
  test('a full bucket allows a burst of perMinute less the safety margin, then one edit per 60 s / 6 = 10 s', async () => {
    const budget = new RedisEditBudget(a(), 6, prefix());
    expect(await budget.tryTake('T1', 0)).toEqual({ waitMs: 0, remaining: 5 });
    // As MemoryEditBudget, a tenth of an edit stays unspent: 5 of the 6 go through at once.
    expect(1 + (await burst(budget, 6))).toBe(5);

    const margin = await budget.tryTake('T1', 0);
    expect(margin.waitMs).toBeGreaterThan(0);
    expect(margin.waitMs).toBeLessThanOrEqual(1_000);
    await sleep(margin.waitMs);
    expect((await budget.tryTake('T1', 0)).waitMs).toBe(0);

    const refused = await budget.tryTake('T1', 0);
    expect(refused.waitMs).toBeGreaterThan(9_000);
    expect(refused.waitMs).toBeLessThanOrEqual(10_000);
    expect(refused.remaining).toBeLessThan(1);
    // Other workspaces have their own bucket.
    expect((await budget.tryTake('T2', 0)).waitMs).toBe(0);
  });

  test('an edit is refused when fewer than `reserve` tokens would remain', async () => {
    const budget = new RedisEditBudget(a(), 50, prefix());
    expect(await burst(budget, 45, 10)).toBe(39);
    const refused = await budget.tryTake('T1', 10);
    expect(refused.waitMs).toBeGreaterThan(0);
    expect(refused.remaining).toBeCloseTo(11, 1);
    // The reserve is still there for edits that may use it.
    expect((await budget.tryTake('T1', 0)).waitMs).toBe(0);
  });

  test('pause holds every edit until it ends, then edits resume at once from half the bucket', async () => {
    const budget = new RedisEditBudget(a(), 50, prefix());
    await budget.pause('T1', 300);
    const held = await budget.tryTake('T1', 0);
    expect(held.waitMs).toBeGreaterThan(200);
    expect(held.waitMs).toBeLessThanOrEqual(300);
    expect(held.remaining).toBe(0);
    expect((await budget.tryTake('T2', 0)).waitMs).toBe(0);

    await sleep(350);
    // 25 of the 50 kept, plus a third of an edit refilled during the pause, less this take.
    const after = await budget.tryTake('T1', 0);
    expect(after.waitMs).toBe(0);
    expect(after.remaining).toBeGreaterThan(24);
    expect(after.remaining).toBeLessThan(25);
    // A refresh that must leave the reserves (11 at 50 a minute with one message) still goes: the burst is not gone.
    expect((await budget.tryTake('T1', 11)).waitMs).toBe(0);
  });

  test('peek reads the shared bucket without spending from it, and 0 while it is paused', async () => {
    const one = new RedisEditBudget(a(), 50, prefix());
    const two = new RedisEditBudget(b(), 50, prefix());
    expect(await burst(one, 20)).toBe(20);
    // Refill since the burst adds a little, never a whole edit in this time.
    const first = await two.peek('T1');
    expect(first).toBeGreaterThanOrEqual(30);
    expect(first).toBeLessThan(31);
    const second = await two.peek('T1');
    expect(second).toBeGreaterThanOrEqual(first);
    expect(second).toBeLessThan(31);
    expect(await two.peek('T2')).toBe(50);
    await one.pause('T1', 60_000);
    expect(await two.peek('T1')).toBe(0);
  });

  test('instances on two connections share one bucket, whatever their local clocks say', async () => {
    const one = new RedisEditBudget(a(), 50, prefix());
    const two = new RedisEditBudget(b(), 50, prefix());
    expect(await burst(one, 30)).toBe(30);
    expect(await burst(two, 30)).toBe(19);
    expect((await one.tryTake('T1', 0)).waitMs).toBeGreaterThan(0);

    // An instance whose clock runs an hour ahead would see a full bucket if it used its own clock.
    jest.spyOn(Date, 'now').mockReturnValue(Date.now() + 3_600_000);
    expect((await two.tryTake('T1', 0)).waitMs).toBeGreaterThan(0);
    expect((await one.tryTake('T1', 0)).waitMs).toBeGreaterThan(0);
  });

  test('a bucket left alone expires once it would be full again', async () => {
    const budget = new RedisEditBudget(a(), 50, prefix());
    await budget.tryTake('T1', 0);
    const ttl = await a().pttl(`${prefix()}edit-budget:T1`);
    expect(ttl).toBeGreaterThan(55_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });
});
