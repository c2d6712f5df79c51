import { EVENT_RETENTION_MS, RedisEventDedupe } from '../../src/slack/eventDedupe.js';
import { describeRedis, memoryLogger, useRedisPair } from './helpers.js';

describeRedis('RedisEventDedupe', () => {
  const { a, b, prefix } = useRedisPair();
  const { logger, lines } = memoryLogger();

  test('the first claim of an event id wins, later ones lose, other ids are independent', async () => {
    const dedupe = new RedisEventDedupe(a(), logger, prefix());
    expect(await dedupe.claim('Ev1')).toBe(true);
    expect(await dedupe.claim('Ev1')).toBe(false);
    expect(await dedupe.claim('Ev2')).toBe(true);
    expect(lines.filter((line) => line.level === 40)).toEqual([]);
  });

  test('ids are kept for the retention time', async () => {
    await new RedisEventDedupe(a(), logger, prefix()).claim('Ev1');
    const ttl = await a().pttl(`${prefix()}event:Ev1`);
    expect(ttl).toBeGreaterThan(EVENT_RETENTION_MS - 60_000);
    expect(ttl).toBeLessThanOrEqual(EVENT_RETENTION_MS);
  });

  test('exactly one of many concurrent claims on two connections wins', async () => {
    const dedupes = [new RedisEventDedupe(a(), logger, prefix()), new RedisEventDedupe(b(), logger, prefix())];
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => dedupes[i % 2]!.claim('EvRace')));
    expect(results.filter(Boolean)).toHaveLength(1);
  });
});
