import { memoryBudgets, type EditBudget, type SlackBudgets } from '../../src/slack/editBudget.js';

/** Budgets where chat.update uses `budget` (the one under test) and the streaming methods their tiers. */
export function withUpdateBudget(budget: EditBudget): SlackBudgets {
  return { ...memoryBudgets(1), 'chat.update': budget };
}
