// What the benchmark's sections share: the fakes' process, the answer script, the questions, the timing constants.
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { StreamScript } from '../test/fakes/fakeAnthropic.js';
import type { ClaudeRequestSummary, FakesCommand, SlackCallSummary } from './fakeServers.js';

export const SLACK_RTT_MS = 50;
export const TTFT_MS = 300;
export const TOKENS_PER_SECOND = 50;
export const EDIT_INTERVAL_MS = 1000;
// The largest SLACK_EDITS_PER_MINUTE the configuration accepts: far more than any section spends.
export const UNLIMITED = 10_000;

/** Slack's per-workspace rate tiers of the methods a reply uses (DESIGN.md §5–§6), enforced by the fake in the budget section. */
export const SLACK_TIERS = { 'chat.startStream': 20, 'chat.stopStream': 20, 'chat.appendStream': 100 } as const;

/** The fake servers' process and a promise-per-command IPC channel to it. */
export class Fakes {
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();

  private constructor(
    private readonly child: ChildProcess,
    readonly slackUrl: string,
    readonly claudeUrl: string,
  ) {
    child.on('message', (message: { id: number; result?: unknown; error?: string }) => {
      const waiter = this.waiting.get(message.id);
      this.waiting.delete(message.id);
      if (message.error) waiter?.reject(new Error(message.error));
      else waiter?.resolve(message.result);
    });
  }

  static start(): Promise<Fakes> {
    const child = fork(join(import.meta.dirname, 'fakeServers.ts'), { execArgv: ['--import', 'tsx'] });
    return new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('message', (ready: { slackUrl: string; claudeUrl: string }) => resolve(new Fakes(child, ready.slackUrl, ready.claudeUrl)));
    });
  }

  call<T>(command: FakesCommand): Promise<T> {
    const id = ++this.nextId;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.child.send({ id, ...command });
    });
  }

  collect(): Promise<{ calls: SlackCallSummary[]; requests: ClaudeRequestSummary[] }> {
    return this.call({ cmd: 'collect' });
  }

  stop(): void {
    this.child.disconnect();
  }
}

export const answerScript = (tokens: number) => ({
  chunks: Array.from({ length: tokens }, (_, i) => `w${i} `),
  firstTokenDelayMs: TTFT_MS,
  delayMs: 1000 / TOKENS_PER_SECOND,
});

export async function startFakes(opts: { tokens: number; updatesPerMinute?: number; script?: StreamScript }): Promise<Fakes> {
  const fakes = await Fakes.start();
  // With a chat.update limit the fake enforces every tier a reply uses, each with a full minute as its burst.
  const rateLimits = opts.updatesPerMinute
    ? Object.fromEntries(
        Object.entries({ 'chat.update': opts.updatesPerMinute, ...SLACK_TIERS }).map(([method, perMinute]) => [method, { perMinute, burst: perMinute }]),
      )
    : undefined;
  await fakes.call({ cmd: 'configure', slackLatencyMs: SLACK_RTT_MS, script: opts.script ?? answerScript(opts.tokens), ...(rateLimits ? { rateLimits } : {}) });
  return fakes;
}

export const questions = (n: number, prefix: string) =>
  Array.from({ length: n }, (_, i) => ({ channel: `C${prefix.toUpperCase()}${i}`, text: `${prefix}-${i}` }));

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? NaN;
}

/** Runs one section (or part of one) and prints its seconds to stderr (the table goes to stdout). */
export async function timed<T>(name: string, section: () => Promise<T>): Promise<T> {
  const started = Date.now();
  const result = await section();
  process.stderr.write(`${name}: ${Math.round((Date.now() - started) / 1000)} s\n`);
  return result;
}
