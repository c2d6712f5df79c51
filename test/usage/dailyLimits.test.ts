import type { AnswerUsage } from '../../src/claude/claudeStream.js';
import { copy } from '../../src/copy.js';
import { DailyLimits, type DailyLimitsOptions } from '../../src/usage/dailyLimits.js';
import { MemoryUsageLedger } from '../../src/usage/memoryUsageLedger.js';
import { DAY_MS, type UsageLedger } from '../../src/usage/usageLedger.js';
import { memoryLogger } from '../redis/helpers.js';

const MIDNIGHT = Date.UTC(2026, 11, 1);
const MINUTE = 60_000;
const tokens = (inputTokens: number): AnswerUsage => ({ inputTokens, cacheCreationInputTokens: 0, cacheReadInputTokens: 0, outputTokens: 0, thinkingTokens: 0 });

/** DailyLimits over a memory ledger, both on a clock the test sets (`clock.ms`). */
function limits(options: Partial<DailyLimitsOptions> = {}) {
  const clock = { ms: MIDNIGHT - (5 * 60 + 12) * MINUTE };
  const now = () => clock.ms;
  const log = memoryLogger();
  const ledger = new MemoryUsageLedger(90 * DAY_MS, now);
  return { clock, log, ledger, limits: new DailyLimits({ ledger, model: 'claude-sonnet-5-5', logger: log.logger, now, ...options }) };
}

/** A ledger whose every call fails until `works` is set, as a store that is down. */
class FlakyLedger implements UsageLedger {
  works = false;
  calls = 0;
  private readonly inner = new MemoryUsageLedger(DAY_MS);
  private check(): void {
    this.calls += 1;
    if (!this.works) throw Object.assign(new Error('Redis is unreachable'), { name: 'StoreUnavailableError' });
  }
  async record(...args: Parameters<UsageLedger['record']>) {
    this.check();
    return this.inner.record(...args);
  }
  async usedToday(teamId: string, userId: string) {
    this.check();
    return this.inner.usedToday(teamId, userId);
  }
  rowsSince = (day: string) => this.inner.rowsSince(day);
  close = () => this.inner.close();
}

describe('DailyLimits', () => {
  test('refuses at the limit, not below it, naming whose limit and when it resets; the user limit is named first', async () => {
    const { limits: daily } = limits({ userLimit: 1000, workspaceLimit: 1500 });
    await daily.record('T1', 'U1', tokens(999));
    expect(await daily.reached('T1', 'U1')).toBeUndefined();
    await daily.record('T1', 'U1', tokens(1));
    expect(await daily.reached('T1', 'U1')).toEqual({ whose: 'user', resetsInMs: (5 * 60 + 12) * MINUTE });
    expect(await daily.reached('T1', 'U2')).toBeUndefined();
    await daily.record('T1', 'U2', tokens(500));
    expect(await daily.reached('T1', 'U2')).toEqual({ whose: 'workspace', resetsInMs: (5 * 60 + 12) * MINUTE });
    expect(await daily.reached('T1', 'U1')).toMatchObject({ whose: 'user' });
    expect(await daily.reached('T2', 'U1')).toBeUndefined();
  });

  test('at 00:00 UTC the limits reset', async () => {
    const { limits: daily, clock } = limits({ userLimit: 1000 });
    await daily.record('T1', 'U1', tokens(5000));
    clock.ms = MIDNIGHT - 1;
    expect(await daily.reached('T1', 'U1')).toEqual({ whose: 'user', resetsInMs: 1 });
    clock.ms = MIDNIGHT;
    expect(await daily.reached('T1', 'U1')).toBeUndefined();
  });

  test('a ledger that fails never blocks answers: one warning per outage, one line when it works again', async () => {
    const ledger = new FlakyLedger();
    const { limits: daily, log } = limits({ ledger, userLimit: 1 });
    expect(await daily.reached('T1', 'U1')).toBeUndefined();
    await daily.record('T1', 'U1', tokens(10));
    expect(await daily.reached('T1', 'U1')).toBeUndefined();
    expect(log.lines.filter((line) => line.level === 40)).toHaveLength(1);

    ledger.works = true;
    await daily.record('T1', 'U1', tokens(10));
    expect(await daily.reached('T1', 'U1')).toMatchObject({ whose: 'user' });
    expect(log.lines.filter((line) => line.level === 30).map((line) => line.msg)).toEqual(['usage ledger works again: daily token limits enforced']);
  });

  test('with no limit set, the ledger is not read before answers (only written)', async () => {
    const ledger = new FlakyLedger();
    ledger.works = true;
    const { limits: daily } = limits({ ledger });
    expect(await daily.reached('T1', 'U1')).toBeUndefined();
    expect(ledger.calls).toBe(0);
  });
});

describe('the limit reply', () => {
  test.each([
    [(5 * 60 + 12) * MINUTE, 'in 5 h 12 min.'],
    [3 * 60 * MINUTE, 'in 3 h.'],
    [59 * MINUTE + 1, 'in 1 h.'],
    [12 * MINUTE, 'in 12 min.'],
    [1_000, 'in 1 min.'],
  ])('%d ms before midnight says "%s"', (ms, when) => {
    expect(copy.dailyLimit.user(ms)).toMatch(new RegExp(`^:hourglass: You've reached your daily limit.* It resets at 00:00 UTC, ${when.replace('.', '\\.')}$`));
    expect(copy.dailyLimit.workspace(ms)).toMatch(/^:hourglass: This workspace has reached its daily limit/);
  });
});
