// The bench's scale section: how many answers one bot process holds (a paced capacity search), whether two
// processes on Redis hold about twice as many, and how one process at the default MAX_CONCURRENT_ANSWERS
// behaves when offered three times that (overload) or a 2-s burst. Each bot runs in a process of its own
// (bench/botWorker.ts) and reports 1-s windows; the fakes deliver the questions from theirs.
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { BotWindow, WorkerReport, WorkerStart } from './botWorker.js';
import {
  answerScript,
  EDIT_INTERVAL_MS,
  Fakes,
  percentile,
  questions,
  SLACK_RTT_MS,
  startFakes,
  timed,
  TOKENS_PER_SECOND,
  TTFT_MS,
  UNLIMITED,
} from './common.js';
import type { Delivery, QuestionTally, ScheduledQuestion } from './fakeServers.js';
import { benchConfig, SIGNING_SECRET } from './startBot.js';

export type RecordRow = (section: string, metric: string, value: number, target?: string, met?: boolean) => void;

/** What the CPU section measured (benchCpu in run.ts): the bot's CPU per answer beyond its tokens, and per token. */
export interface CostModel {
  perAnswerMs: number;
  perTokenUs: number;
}

/** A process fails when either limit is reached in FAILING_WINDOWS consecutive windows (one GC pause does not decide). */
const LOOP_P99_LIMIT_MS = 50;
const RSS_LIMIT_MB = 300;
const FAILING_WINDOWS = 2;
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const MACHINE = '2 cores';

/**
 * Answer length, and the ramp: in flight climbs by `slope` answers a second per instance up to `top` per
 * instance. Quick: 2-s answers and a steep, coarse ramp (capacity then weighs the per-answer cost more).
 */
interface ScaleSizes {
  tokens: number;
  slope: number;
  top: number;
  warmUp: number;
}
const FULL: ScaleSizes = { tokens: 1000, slope: 5, top: 320, warmUp: 20 };
const QUICK: ScaleSizes = { tokens: 100, slope: 40, top: 300, warmUp: 10 };
const WARM_UP_TOKENS = 20;
const BURST_MS = 2000;

/** A bot in a process of its own (bench/botWorker.ts); its windows arrive as `onWindow` calls. */
class BotWorker {
  onWindow: (window: BotWindow) => void = () => {};
  /** CPU the bot has spent (ms), summed over its windows so far. */
  cpuMs = 0;

  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
  ) {
    child.on('message', (report: WorkerReport) => {
      if (!('window' in report)) return;
      this.cpuMs += report.window.cpuMs;
      this.onWindow(report.window);
    });
  }

  /**
   * Starts the bot with `env` against the fakes; rejects with the worker's error if it cannot start. The process
   * loads its modules while the fakes are still starting.
   */
  static async start(starting: Promise<Fakes>, env: Record<string, string>, keyPrefix?: string): Promise<BotWorker> {
    const child = fork(join(import.meta.dirname, 'botWorker.ts'), { execArgv: ['--import', 'tsx'] });
    const fakes = await starting;
    const start: WorkerStart = { urls: { slackApiUrl: fakes.slackUrl, claudeBaseUrl: fakes.claudeUrl }, env: botEnv(env), keyPrefix };
    child.send(start);
    return new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`bot worker exited (${code}) before it started`)));
      child.once('message', (report: WorkerReport) => {
        if ('url' in report) resolve(new BotWorker(child, report.url));
        else {
          child.kill('SIGKILL');
          reject(new Error(`bot worker did not start: ${'error' in report ? report.error : 'no URL'}`));
        }
      });
    });
  }

  /** Stops the bot at once: no drain (the measurement is over). */
  kill(): void {
    this.child.kill('SIGKILL');
  }
}

/** The bench bot's settings here: edits unlimited, so the process (not Slack's budget) is what is measured. */
const botEnv = (env: Record<string, string>) => ({
  HISTORY_STORE: 'memory',
  EDIT_INTERVAL_MS: String(EDIT_INTERVAL_MS),
  SLACK_EDITS_PER_MINUTE: String(UNLIMITED),
  SLACK_STREAMING: 'edits',
  ...env,
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const failing = (window: BotWindow) => window.loopP99Ms >= LOOP_P99_LIMIT_MS || window.rssMb >= RSS_LIMIT_MB;

/**
 * Tags each window with the total in flight over all workers (each worker's latest count) and finds the first
 * FAILING_WINDOWS consecutive failing windows of any one worker. `capacity` is the highest total reached before
 * the first of those; `failedAt` the total at it (undefined while none has failed).
 */
class CapacitySearch {
  capacity = 0;
  /** The window in which `capacity` was reached (its worker's). */
  atCapacity?: BotWindow;
  failedAt?: number;
  readonly failed: Promise<void>;
  private readonly inFlight: number[];
  private readonly streaks: { total: number; capacity: number; atCapacity?: BotWindow }[][];
  private resolveFailed!: () => void;

  constructor(private readonly workers: BotWorker[]) {
    this.failed = new Promise((resolve) => (this.resolveFailed = resolve));
    this.inFlight = workers.map(() => 0);
    this.streaks = workers.map(() => []);
    workers.forEach((worker, i) => (worker.onWindow = (window) => this.add(i, window)));
  }

  /** Ends the search: later windows (answers draining) are not looked at. */
  stop(): void {
    for (const worker of this.workers) worker.onWindow = () => {};
  }

  private add(worker: number, window: BotWindow): void {
    if (this.failedAt !== undefined) return;
    this.inFlight[worker] = window.answersInFlight;
    const total = this.inFlight.reduce((sum, count) => sum + count, 0);
    const streak = this.streaks[worker]!;
    if (failing(window)) streak.push({ total, capacity: this.capacity, atCapacity: this.atCapacity });
    else streak.length = 0;
    if (total > this.capacity) {
      this.capacity = total;
      this.atCapacity = window;
    }
    if (streak.length < FAILING_WINDOWS) return;
    ({ total: this.failedAt, capacity: this.capacity, atCapacity: this.atCapacity } = streak[0]!);
    this.resolveFailed();
  }
}

/** The worst of every window of some workers (loop p99 and RSS maxima, peak questions waiting), as they come. */
class Watch {
  loopP99Ms = 0;
  rssMb = 0;
  questionsWaiting = 0;

  constructor(workers: BotWorker[]) {
    for (const worker of workers)
      worker.onWindow = (window) => {
        this.loopP99Ms = Math.max(this.loopP99Ms, window.loopP99Ms);
        this.rssMb = Math.max(this.rssMb, window.rssMb);
        this.questionsWaiting = Math.max(this.questionsWaiting, window.questionsWaiting);
      };
  }
}

/**
 * CPU over a stretch of the run, in % of one core: the fakes', and the other processes' on this machine (neither
 * the bench, nor its fakes, nor its bots: e.g. other work sharing the cores, which makes the figures noisy).
 */
class CpuMeter {
  private constructor(
    private readonly fakes: Fakes,
    private readonly workers: BotWorker[],
    private readonly fakesMs: number,
    private readonly workersMs: number,
    private readonly benchMs: number,
    private readonly machineMs: number,
    private readonly startedAt: number,
  ) {}

  static async start(fakes: Fakes, workers: BotWorker[]): Promise<CpuMeter> {
    return new CpuMeter(fakes, workers, await fakes.call<number>({ cmd: 'cpu' }), workersCpuMs(workers), benchCpuMs(), machineBusyMs(), performance.now());
  }

  async stop(): Promise<{ fakesPercent: number; othersPercent: number }> {
    const fakesMs = (await this.fakes.call<number>({ cmd: 'cpu' })) - this.fakesMs;
    const ours = fakesMs + workersCpuMs(this.workers) - this.workersMs + benchCpuMs() - this.benchMs;
    const percent = (ms: number) => (ms / (performance.now() - this.startedAt)) * 100;
    return { fakesPercent: percent(fakesMs), othersPercent: percent(Math.max(0, machineBusyMs() - this.machineMs - ours)) };
  }
}

const workersCpuMs = (workers: BotWorker[]) => workers.reduce((sum, worker) => sum + worker.cpuMs, 0);
const benchCpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};
/** CPU time (ms) all cores have spent busy since boot. */
const machineBusyMs = () => cpus().reduce((sum, { times }) => sum + times.user + times.nice + times.sys + times.irq, 0);

/** Seconds an answer streams: Claude's first token, then `tokens` at TOKENS_PER_SECOND. */
const answerSeconds = (tokens: number) => (TTFT_MS + (tokens * 1000) / TOKENS_PER_SECOND) / 1000;

/**
 * Arrivals whose rate climbs linearly from 0 so that, after the first answer's length D, the answers in flight
 * (the arrivals of the last D seconds) climb by `slope` a second, to `top`: rate(t) = k·t with k = slope / D, the
 * i-th arrival at √(2i/k). Answer ages stay spread, as in a workspace getting busier.
 */
function rampQuestions(prefix: string, tokens: number, slope: number, top: number): ScheduledQuestion[] {
  const d = answerSeconds(tokens);
  const k = slope / d;
  const endSeconds = top / slope + d / 2;
  const count = Math.floor((k * endSeconds ** 2) / 2);
  return questions(count, prefix).map((question, i) => ({ ...question, atMs: Math.sqrt((2 * i) / k) * 1000 }));
}

/** `n` arrivals evenly spread over `ms`. */
const evenQuestions = (prefix: string, n: number, ms: number): ScheduledQuestion[] =>
  questions(n, prefix).map((question, i) => ({ ...question, atMs: (i * ms) / n }));

function schedule(fakes: Fakes, workers: BotWorker[], scheduled: ScheduledQuestion[]): Promise<Delivery[]> {
  return fakes.call<Delivery[]>({ cmd: 'schedule', botUrls: workers.map((worker) => worker.url), secret: SIGNING_SECRET, questions: scheduled });
}

/** Every question whose text starts with `prefix`, as the fakes saw it answered. */
async function tallyOf(fakes: Fakes, prefix: string): Promise<QuestionTally[]> {
  return (await fakes.call<QuestionTally[]>({ cmd: 'tally' })).filter((entry) => entry.question.startsWith(`${prefix}-`));
}

/** Polls until all `n` questions of `prefix` have a whole reply; returns the tally (complete or at the deadline). */
async function awaitReplies(fakes: Fakes, prefix: string, n: number, timeoutMs: number): Promise<QuestionTally[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await sleep(250);
    const tally = await tallyOf(fakes, prefix);
    if ((tally.length >= n && tally.every((entry) => entry.replies > 0)) || Date.now() > deadline) return tally;
  }
}

/**
 * A running bot is warm (modules loaded, code optimised): short answers (the fakes start with them) through
 * each worker first, then the fakes switch to the measured answers.
 */
async function warmUp(fakes: Fakes, workers: BotWorker[], sizes: ScaleSizes): Promise<void> {
  const n = sizes.warmUp * workers.length;
  await schedule(fakes, workers, evenQuestions('warm', n, 500));
  await awaitReplies(fakes, 'warm', n, 30_000);
  await fakes.call({ cmd: 'configure', slackLatencyMs: SLACK_RTT_MS, script: answerScript(sizes.tokens) });
}

/** One run's fakes and warm bot workers, and how to stop them. */
interface Rig {
  fakes: Fakes;
  workers: BotWorker[];
  tearDown: () => Promise<void>;
}

/** Starts fakes and `instances` workers with `env` and warms them up; `tearDown` also deletes the Redis keys under `keyPrefix`. */
async function setUp(sizes: ScaleSizes, instances: number, env: Record<string, string> = {}, keyPrefix?: string): Promise<Rig> {
  const starting = startFakes({ tokens: WARM_UP_TOKENS });
  const workers = await Promise.all(Array.from({ length: instances }, () => BotWorker.start(starting, env, keyPrefix)));
  const fakes = await starting;
  await warmUp(fakes, workers, sizes);
  const tearDown = async () => {
    for (const worker of workers) worker.kill();
    fakes.stop();
    if (keyPrefix) await deleteKeys(keyPrefix);
  };
  return { fakes, workers, tearDown };
}

/** Deletes the run's Redis keys (under its own prefix; its history would otherwise stay for HISTORY_TTL_DAYS). */
async function deleteKeys(keyPrefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
  const keys = await redis.keys(`${keyPrefix}*`);
  for (let i = 0; i < keys.length; i += 1000) await redis.del(...keys.slice(i, i + 1000));
  redis.disconnect();
}

interface SearchResult {
  capacity: number;
  failedAt?: number;
  atCapacity?: BotWindow;
  /** CPU over the ramp, in % of one core: the fakes', and other processes' (see CpuMeter). */
  cpu: { fakesPercent: number; othersPercent: number };
  /** Questions with a whole reply, and those among them with more than one Claude request or reply. */
  completed: number;
  answeredTwice: number;
}

/**
 * Ramps arrivals round-robin over the rig's workers until one fails (then stops the arrivals at once) or the
 * ramp ends, then tears the rig down. With `drain`, the answers in flight first get their time to finish (the
 * workers' windows no longer count), so that the answered-twice count covers every question delivered.
 */
async function searchCapacity({ fakes, workers, tearDown }: Rig, sizes: ScaleSizes, drain = false): Promise<SearchResult> {
  const instances = workers.length;
  const search = new CapacitySearch(workers);
  const meter = await CpuMeter.start(fakes, workers);
  const prefix = `ramp${instances}`;
  const ramp = schedule(fakes, workers, rampQuestions(prefix, sizes.tokens, sizes.slope * instances, sizes.top * instances));
  // The top of the ramp is its last arrival: a failure shows within the next FAILING_WINDOWS windows.
  await Promise.race([search.failed, ramp.then(() => sleep((FAILING_WINDOWS + 1) * 1000))]);
  search.stop();
  await fakes.call({ cmd: 'halt' });
  const cpu = await meter.stop();
  const delivered = await ramp;
  const tally = drain
    ? await awaitReplies(fakes, prefix, delivered.length, 2 * answerSeconds(sizes.tokens) * 1000 + 30_000)
    : await tallyOf(fakes, prefix);
  const completed = tally.filter((entry) => entry.replies > 0);
  await tearDown();
  return {
    capacity: search.capacity,
    failedAt: search.failedAt,
    atCapacity: search.atCapacity,
    cpu,
    completed: completed.length,
    answeredTwice: completed.filter((entry) => entry.claudeRequests > 1 || entry.replies > 1).length,
  };
}

/** Questions whose Claude request started after that of a question which arrived (by `arrivedAt`) later. */
function outOfOrderStarts(tally: QuestionTally[], arrivedAt: (entry: QuestionTally) => number): number {
  const arrival = new Map([...tally].sort((a, b) => arrivedAt(a) - arrivedAt(b)).map((entry, rank) => [entry, rank]));
  const started = tally.filter((entry) => entry.firstRequestAt !== undefined).sort((a, b) => a.firstRequestAt! - b.firstRequestAt!);
  let latestArrival = -1;
  let late = 0;
  for (const entry of started) {
    const rank = arrival.get(entry)!;
    if (rank < latestArrival) late++;
    latestArrival = Math.max(latestArrival, rank);
  }
  return late;
}

/** The default MAX_CONCURRENT_ANSWERS (src/config.ts). */
const defaultCap = () => benchConfig({ slackApiUrl: 'http://127.0.0.1:1/api/', claudeBaseUrl: 'http://127.0.0.1:1' }, {}).MAX_CONCURRENT_ANSWERS;

/** `n` questions evenly over `ms` to one worker; waits for every reply (or a generous deadline). */
async function offer(fakes: Fakes, worker: BotWorker, tokens: number, prefix: string, n: number, ms: number) {
  const watch = new Watch([worker]);
  const meter = await CpuMeter.start(fakes, [worker]);
  await schedule(fakes, [worker], evenQuestions(prefix, n, ms));
  const tally = await awaitReplies(fakes, prefix, n, ms + 10 * answerSeconds(tokens) * 1000 + 60_000);
  return { watch, tally, completed: tally.filter((entry) => entry.replies > 0).length, cpu: await meter.stop() };
}

/**
 * Runs the scale section and records its rows; `costModel` (from the CPU section, when it ran) adds the one-core
 * capacity it predicts.
 */
export async function benchScale(record: RecordRow, quick: boolean, costModel?: CostModel): Promise<void> {
  const sizes = quick ? QUICK : FULL;
  const seconds = answerSeconds(sizes.tokens);
  const answers = `${sizes.tokens}-token answers at ${TOKENS_PER_SECOND} tokens/s (${seconds} s), TTFT ${TTFT_MS} ms, Slack RTT 50 ms`;
  const note = quick ? '; quick: short answers, coarse ramp, one process only' : '';
  const limits = `loop p99 < ${LOOP_P99_LIMIT_MS} ms and RSS < ${RSS_LIMIT_MB} MB, failing after ${FAILING_WINDOWS} windows of 1 s`;

  // Every process starts and warms up before anything is measured; the runs then follow one another. The
  // searches measure the process, not admission: MAX_CONCURRENT_ANSWERS out of the way.
  const search = { MAX_CONCURRENT_ANSWERS: '10000' };
  const keyPrefix = `bench-scale:${randomUUID()}:`;
  // --quick (a smoke run of the whole bench under a minute) searches one process only.
  const [oneRig, twoRig, atCap] = await timed('  scale: start-up', () =>
    Promise.all([
      setUp(sizes, 1, search),
      quick ? undefined : setUp(sizes, 2, { ...search, HISTORY_STORE: 'redis', REDIS_URL }, keyPrefix),
      quick ? undefined : setUp(sizes, 1),
    ]),
  );

  const one = await timed('  scale: one process', () => searchCapacity(oneRig, sizes));
  const section = `Scale: capacity of one process (${MACHINE}; arrivals ramping so in flight climbs ${sizes.slope}/s to ${sizes.top}; ${answers}${note})`;
  const reached = one.failedAt === undefined ? ' (never failed: the ramp’s top)' : '';
  record(section, `capacity: most answers in flight with ${limits}${reached}`, one.capacity);
  record(section, 'answers in flight where it failed', one.failedAt ?? NaN);
  record(section, 'RSS at capacity (MB)', one.atCapacity?.rssMb ?? NaN, `< ${RSS_LIMIT_MB}`, (one.atCapacity?.rssMb ?? Infinity) < RSS_LIMIT_MB);
  record(section, 'loop p99 at capacity (ms)', one.atCapacity?.loopP99Ms ?? NaN, `< ${LOOP_P99_LIMIT_MS}`, (one.atCapacity?.loopP99Ms ?? Infinity) < LOOP_P99_LIMIT_MS);
  const botCpu = one.atCapacity ? (one.atCapacity.cpuMs / one.atCapacity.ms) * 100 : NaN;
  record(section, 'bot CPU at capacity (% of one core)', botCpu);
  record(section, 'fakes’ CPU over the ramp (% of one core; they share the 2 cores)', one.cpu.fakesPercent);
  record(section, 'other processes’ CPU over the ramp (% of one core; noise)', one.cpu.othersPercent);
  if (costModel) {
    // One core's worth of answers in flight: each costs perAnswerMs over its length plus its tokens' CPU per second.
    const predicted = 1000 / (costModel.perAnswerMs / seconds + (TOKENS_PER_SECOND * costModel.perTokenUs) / 1000);
    record(section, `one-core capacity the CPU section’s cost model predicts for ${seconds}-s answers`, predicted);
  }
  const cap = defaultCap();
  record(section, `default MAX_CONCURRENT_ANSWERS (${cap}) ≤ capacity`, cap, `≤ ${one.capacity}`, cap <= one.capacity);
  if (!twoRig || !atCap) return;

  const two = await timed('  scale: two processes', () => searchCapacity(twoRig, sizes, true));
  const twoSection = `Scale: two processes on Redis, deliveries round-robin (${MACHINE}, shared with the fakes; in flight climbs ${2 * sizes.slope}/s to ${2 * sizes.top}; ${answers}${note})`;
  const twoReached = two.failedAt === undefined ? ' (never failed: the ramp’s top)' : '';
  record(twoSection, `capacity: most answers in flight over both when either fails${twoReached}`, two.capacity);
  record(twoSection, 'answers in flight where it failed', two.failedAt ?? NaN);
  const ratio = two.capacity / one.capacity;
  record(twoSection, 'capacity ÷ one process’s', ratio, '≥ 1.8', ratio >= 1.8);
  record(twoSection, `answered twice: more than one Claude request or complete reply (of the ${two.completed} questions delivered and completed)`, two.answeredTwice, '0', two.answeredTwice === 0);
  record(twoSection, 'fakes’ CPU over the ramp (% of one core)', two.cpu.fakesPercent);
  record(twoSection, 'other processes’ CPU over the ramp, Redis’s included (% of one core; noise)', two.cpu.othersPercent);

  // One process at the default cap takes the burst, then (once idle) the overload.
  const n = Math.min(one.capacity, cap);
  const burst = await timed('  scale: burst', () => offer(atCap.fakes, atCap.workers[0]!, sizes.tokens, 'burst', n, BURST_MS));
  const burstSection = `Scale: burst, ${n} questions (capacity or the default MAX_CONCURRENT_ANSWERS, the lower) evenly within ${BURST_MS / 1000} s to one process (${answers}${note})`;
  record(burstSection, 'loop p99, worst window (ms)', burst.watch.loopP99Ms, `< ${LOOP_P99_LIMIT_MS}`, burst.watch.loopP99Ms < LOOP_P99_LIMIT_MS);
  record(burstSection, 'answers completed', burst.completed, `${n}`, burst.completed === n);
  const placeholder = burst.tally.flatMap((entry) => (entry.placeholderAt === undefined ? [] : [entry.placeholderAt - entry.sentAt]));
  record(burstSection, 'event → placeholder, p95 (ms)', percentile(placeholder, 0.95));
  record(burstSection, 'other processes’ CPU meanwhile (% of one core; noise)', burst.cpu.othersPercent);
  const offered = 3 * cap;
  // Three answers' worth of arrivals per slot over one answer's streaming time.
  const streamMs = (sizes.tokens / TOKENS_PER_SECOND) * 1000;
  const overload = await timed('  scale: overload', () => offer(atCap.fakes, atCap.workers[0]!, sizes.tokens, 'over', offered, streamMs));
  const overSection = `Scale: overload, one process at the default MAX_CONCURRENT_ANSWERS (${cap}): ${offered} questions evenly over ${streamMs / 1000} s (3 × ${cap} answers’ worth; ${answers}${note})`;
  record(overSection, 'loop p99, worst window (ms)', overload.watch.loopP99Ms, `< ${LOOP_P99_LIMIT_MS}`, overload.watch.loopP99Ms < LOOP_P99_LIMIT_MS);
  record(overSection, 'answers completed', overload.completed, `${offered}`, overload.completed === offered);
  // The bot hears a question when it posts its placeholder; deliveries in flight at once may reach it in any order.
  const late = outOfOrderStarts(overload.tally, (entry) => entry.placeholderAt ?? Infinity);
  record(overSection, 'Claude requests started out of the order the bot heard the questions (placeholder posts)', late, '0', late === 0);
  const lateSent = outOfOrderStarts(overload.tally, (entry) => entry.sentAt);
  record(overSection, 'Claude requests started out of the order Slack sent the events (those sent within a loop delay may swap)', lateSent);
  record(overSection, 'peak questions waiting', overload.watch.questionsWaiting, `${offered - cap} at most`);
  // Not a target here (the capacity rows hold RSS to it): in a forced-GC run of this load the live heap stayed near
  // 55 MB while RSS climbed, V8 leaving short-lived per-token garbage in the old generation until a full collection.
  record(overSection, 'peak RSS (MB; V8 collects lazily: mostly garbage, see the comment in bench/scale.ts)', overload.watch.rssMb);
  record(overSection, 'other processes’ CPU meanwhile (% of one core; noise)', overload.cpu.othersPercent);

  await atCap.tearDown();
}
