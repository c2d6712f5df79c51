import { pino } from 'pino';
import type { EditBudget, TakeResult } from '../../src/slack/editBudget.js';

/** A budget that grants edits only when the test says so. */
export class GatedBudget implements EditBudget {
  readonly perMinute = 1000;
  private grants = 0;
  async tryTake(): Promise<TakeResult> {
    if (this.grants === 0) return { waitMs: 20, remaining: 0 };
    this.grants -= 1;
    return { waitMs: 0, remaining: 0 };
  }
  async peek(): Promise<number> {
    return this.grants;
  }
  async pause(): Promise<void> {}
  grant(): void {
    this.grants += 1;
  }
}

export const logger = pino({ level: 'silent' });

/** Lets timers and promises run for `ms`. */
export const tick = (ms = 60) => new Promise((resolve) => setTimeout(resolve, ms));
