import { MemoryEditBudget } from '../../src/slack/editBudget.js';
import { EditScheduler, type LiveMessage } from '../../src/slack/editScheduler.js';
import { GatedBudget, logger, tick } from './schedulerHelpers.js';
import { withUpdateBudget } from './budgets.js';

/** A budget whose clock never moves, with `leave` edits left: what is spent never comes back during the test. */
async function frozenBudget(perMinute: number, leave: number): Promise<MemoryEditBudget> {
  const budget = new MemoryEditBudget(perMinute, () => 0);
  while ((await budget.tryTake('T', 0)).remaining > leave);
  return budget;
}

/** Ten messages of ten users; each edit is recorded as `index:final|thinking|text:content`. */
function tenMessages(scheduler: EditScheduler, sent: string[]): LiveMessage[] {
  return Array.from({ length: 10 }, (_, i) =>
    scheduler.track('T', async (content, final, _pay, thinking) => void sent.push(`${i}:${final ? 'final' : thinking ? 'thinking' : 'text'}:${content}`), `U${i}`),
  );
}

describe('EditScheduler: thinking progress', () => {
  test('thinking lines come last when budget is short: after finals, first texts and refreshes', async () => {
    const budget = new GatedBudget();
    const scheduler = new EditScheduler({ intervalMs: 1, budgets: withUpdateBudget(budget), logger });
    const order: string[] = [];
    const track = (name: string) =>
      scheduler.track('T', async (content, _final, _pay, thinking) => void order.push(`${name}:${thinking ? 'thinking ' : ''}${content}`), name);
    const thinker = track('thinker');
    const refresher = track('refresher');
    const fresh = track('fresh');
    const ending = track('ending');
    refresher.show('1');
    budget.grant();
    // An empty gated bucket stretches the interval to 4 × 60 s ÷ 800 = 300 ms: let the refresh become due.
    await tick(400);
    order.length = 0;

    thinker.showThinking('hmm');
    refresher.show('2');
    fresh.show('1');
    const finished = ending.finish('done');
    for (let i = 0; i < 4; i++) {
      budget.grant();
      await tick();
    }
    await finished;
    expect(order).toEqual(['ending:done', 'fresh:1', 'refresher:2', 'thinker:thinking hmm']);
  });

  test('under a starved budget thinking lines never spend what the finals need: every final lands', async () => {
    // 11 edits left, never refilled: exactly what 10 finals need (each take keeps a tenth as margin).
    const budget = await frozenBudget(50, 11);
    const scheduler = new EditScheduler({ intervalMs: 1, budgets: withUpdateBudget(budget), logger });
    const sent: string[] = [];
    const messages = tenMessages(scheduler, sent);
    for (let round = 0; round < 5; round++) {
      for (const message of messages) message.showThinking(`Thinking… ${round} s`);
      await tick(10);
    }
    await Promise.all(messages.map((message, i) => message.finish(`answer ${i}`)));
    expect(sent.filter((entry) => entry.includes(':thinking:'))).toEqual([]);
    expect(sent.filter((entry) => entry.includes(':final:'))).toHaveLength(10);
  });

  test('under a short budget thinking lines leave a share for refreshes: the refresh goes, the thinking lines wait', async () => {
    // 300 of 1,000 left, never refilled; 10 messages. A refresh leaves 10 (finals) + 200 (first texts) and may
    // go; a thinking line leaves 200 more for refreshes and must not.
    const budget = await frozenBudget(1000, 300);
    const scheduler = new EditScheduler({ intervalMs: 1, budgets: withUpdateBudget(budget), logger });
    const sent: string[] = [];
    const messages = tenMessages(scheduler, sent);
    messages[0]!.show('first words');
    await tick();
    // Below half the bucket the refresh interval stretches to 10 × 60 s ÷ 800 = 750 ms.
    for (let round = 0; round < 8; round++) {
      for (const message of messages.slice(1)) message.showThinking(`Thinking… ${round} s`);
      messages[0]!.show(`first words, then ${round}`);
      await tick(125);
    }
    expect(sent.filter((entry) => entry.includes(':thinking:'))).toEqual([]);
    expect(sent.filter((entry) => entry.startsWith('0:text:first words, then')).length).toBeGreaterThan(0);
    for (const message of messages) message.close();
  });

  test('a thinking line shown first leaves the answer a first text, with first-text priority', async () => {
    const budget = new MemoryEditBudget(50, () => 0);
    const scheduler = new EditScheduler({ intervalMs: 1, budgets: withUpdateBudget(budget), logger });
    const sent: string[] = [];
    const thinker = scheduler.track('T', async (content) => void sent.push(content), 'U0');
    thinker.showThinking('Thinking: about it');
    await tick();
    expect(sent).toEqual(['Thinking: about it']);
    // Now 15 edits are left and 10 messages stream: a refresh (10 + 10 reserved) could not go, a first text (10) can.
    while ((await budget.tryTake('T', 0)).remaining > 15);
    const others = Array.from({ length: 9 }, (_, i) => scheduler.track('T', async () => {}, `U${i + 1}`));
    thinker.show('The answer');
    await tick();
    expect(sent).toEqual(['Thinking: about it', 'The answer']);
    for (const message of [thinker, ...others]) message.close();
  });

  test('a thinking line never replaces text or a notice not yet sent, and text replaces a pending thinking line', async () => {
    const budget = new GatedBudget();
    const scheduler = new EditScheduler({ intervalMs: 1, budgets: withUpdateBudget(budget), logger });
    const sent: string[] = [];
    const live = scheduler.track('T', async (content, _final, _pay, thinking) => void sent.push(`${thinking ? 'thinking:' : ''}${content}`));
    live.showNow('(Trying again…)');
    live.showThinking('hmm');
    budget.grant();
    await tick();
    live.showThinking('hmm, again');
    live.show('Answer');
    budget.grant();
    await tick();
    budget.grant();
    await live.finish('Answer.');
    expect(sent).toEqual(['(Trying again…)', 'Answer', 'Answer.']);
  });
});

describe('EditScheduler: content that becomes more urgent goes at once', () => {
  // The scheduler's clock stands still, so an edit that waits for its interval waits a whole minute.
  const slowScheduler = () => new EditScheduler({ intervalMs: 60_000, budgets: withUpdateBudget(new MemoryEditBudget(50)), logger, now: () => 0 });

  test('text replacing a thinking line that waits for its interval is sent without waiting for it', async () => {
    const sent: string[] = [];
    const live = slowScheduler().track('T', async (content) => void sent.push(content));
    live.showThinking('Thinking… 0 s');
    await tick(20);
    live.showThinking('Thinking… 1 s');
    await tick(20);
    live.show('The answer');
    await tick(50);
    expect(sent).toEqual(['Thinking… 0 s', 'The answer']);
    live.close();
  });

  test('a notice replacing a refresh that waits for its interval is sent without waiting for it', async () => {
    const sent: string[] = [];
    const live = slowScheduler().track('T', async (content) => void sent.push(content));
    live.show('Some text');
    await tick(20);
    live.show('Some text and more');
    await tick(20);
    live.showNow('(Trying again…)');
    await tick(50);
    expect(sent).toEqual(['Some text', '(Trying again…)']);
    live.close();
  });
});
