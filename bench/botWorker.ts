// A bench bot in a process of its own (forked with `--import tsx`), so that one or two instances run the same
// way and the bench's own bookkeeping stays out of the measured process. The parent sends one WorkerStart; the
// worker answers { url } once the bot listens, then reports a BotWindow every WINDOW_MS until it is killed.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { startBenchBot } from './startBot.js';

export interface WorkerStart {
  urls: { slackApiUrl: string; claudeBaseUrl: string };
  env: Record<string, string>;
  /** Namespaces Redis keys (HISTORY_STORE=redis). */
  keyPrefix?: string;
}

/** One window of the bot process: what its event loop, memory and CPU did, and its load at the window's end. */
export interface BotWindow {
  /** How long the window really lasted (ms): a busy loop fires the window's timer late. */
  ms: number;
  /** Event-loop delay p99 within the window (ms), sampled every 10 ms (so never below about 10). */
  loopP99Ms: number;
  /** Resident set size at the window's end (MB). */
  rssMb: number;
  /** CPU time (user + system) spent in the window (ms). */
  cpuMs: number;
  answersInFlight: number;
  questionsWaiting: number;
}

export type WorkerReport = { url: string } | { window: BotWindow } | { error: string };

const WINDOW_MS = 1000;

process.once('message', (start: WorkerStart) => {
  startBenchBot(start.urls, start.env, start.keyPrefix).then(
    ({ bot, url }) => {
      process.send!({ url } satisfies WorkerReport);
      const loopDelay = monitorEventLoopDelay({ resolution: 10 });
      loopDelay.enable();
      let windowStart = performance.now();
      let cpu = process.cpuUsage();
      setInterval(() => {
        const used = process.cpuUsage(cpu);
        cpu = process.cpuUsage();
        const now = performance.now();
        const window: BotWindow = {
          ms: now - windowStart,
          loopP99Ms: loopDelay.percentile(99) / 1e6,
          rssMb: process.memoryUsage.rss() / 2 ** 20,
          cpuMs: (used.user + used.system) / 1000,
          ...bot.conversation.load,
        };
        windowStart = now;
        loopDelay.reset();
        process.send!({ window } satisfies WorkerReport);
      }, WINDOW_MS);
    },
    (error: unknown) => process.send!({ error: String(error) } satisfies WorkerReport),
  );
});
// The bench stops a worker by killing it; should the bench itself die, the worker follows.
process.on('disconnect', () => process.exit(0));
