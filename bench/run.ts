// `npm run bench [-- --quick]`: the bot against loopback fakes (in a process of their own) with realistic
// latency. Prints a Markdown table, each figure beside the limit it is measured against, and writes
// bench/results/latest.json. Figures from one run only: these machines are shared and noisy.
import Anthropic from '@anthropic-ai/sdk';
import { WebClient } from '@slack/web-api';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Bot } from '../src/app.js';
import type { StreamScript } from '../test/fakes/fakeAnthropic.js';
import {
  answerScript,
  EDIT_INTERVAL_MS,
  type Fakes,
  percentile,
  questions,
  SLACK_RTT_MS,
  SLACK_TIERS,
  startFakes,
  timed,
  TOKENS_PER_SECOND,
  TTFT_MS,
  UNLIMITED,
} from './common.js';
import type { ClaudeRequestSummary, Delivery, SlackCallSummary } from './fakeServers.js';
import { startBareReceiver } from './bareReceiver.js';
import { naiveAnswer } from './naiveBot.js';
import { benchRender } from './render.js';
import { benchScale, type CostModel } from './scale.js';
import { SIGNING_SECRET, startBenchBot } from './startBot.js';
import { compiledStartupRss } from './startupRss.js';

const quick = process.argv.includes('--quick');
/** `--only=scale,latency` runs some sections (for profiling one of them). */
const only = process.argv.find((arg) => arg.startsWith('--only='))?.slice('--only='.length).split(',');
const runs = (section: string) => !only || only.includes(section);

/** How answers reach Slack (SLACK_STREAMING). */
type Transport = 'edits' | 'native' | 'auto';

const THINKING_MS = 5000;
const THINKING_DELTA_MS = 200;

const sizes = quick
  ? { latencyAnswers: 12, tokens: 20, naiveAnswers: 5, budgetAnswers: 55, budgetPerMinute: 50, thinkingAnswers: 3, warmUpAnswers: 5 }
  : { latencyAnswers: 50, tokens: 100, naiveAnswers: 10, budgetAnswers: 100, budgetPerMinute: 50, thinkingAnswers: 20, warmUpAnswers: 20 };
/** THINKING_DISPLAY modes the thinking section compares; `--quick` (a smoke run under a minute in all) only the default. */
const thinkingDisplays = quick ? (['summary'] as const) : (['summary', 'status', 'off'] as const);
/** The CPU section: answers per batch, their arrival rate, and the two answer lengths (tokens) it compares. */
const cpuSizes = { answers: quick ? 20 : 100, perSecond: quick ? 20 : 10, shortTokens: 20, longTokens: quick ? 100 : 600 };

interface Row {
  section: string;
  metric: string;
  value: number | string;
  target: string;
  met?: boolean;
}
const rows: Row[] = [];
const record = (section: string, metric: string, value: number, target = '', met?: boolean) =>
  rows.push({ section, metric, value: Math.round(value * 100) / 100, target, met });

/** An answer that thinks for THINKING_MS (a summarised sentence every THINKING_DELTA_MS) before writing. */
const thinkingScript = (tokens: number): StreamScript => ({
  ...answerScript(tokens),
  thinking: { chunks: Array.from({ length: THINKING_MS / THINKING_DELTA_MS }, (_, i) => `Step ${i} of my reasoning. `), delayMs: THINKING_DELTA_MS },
});

function startBot(fakes: Fakes, editsPerMinute: number, env: Record<string, string> = {}, transport: Transport = 'edits'): Promise<{ bot: Bot; url: string }> {
  return startBenchBot(
    { slackApiUrl: fakes.slackUrl, claudeBaseUrl: fakes.claudeUrl },
    {
      HISTORY_STORE: 'memory',
      EDIT_INTERVAL_MS: String(EDIT_INTERVAL_MS),
      SLACK_EDITS_PER_MINUTE: String(editsPerMinute),
      SLACK_STREAMING: transport,
      ...env,
    },
  );
}

async function waitIdle(bot: Bot, expectedAnswers: number, fakes: Fakes, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    // Only a count: the whole record would cost this process the CPU the benchmark is measuring.
    const requests = await fakes.call<number>({ cmd: 'count' });
    if (requests >= expectedAnswers && bot.conversation.busyThreads === 0) return;
    if (Date.now() > deadline) throw new Error(`answers still running after ${timeoutMs} ms`);
  }
}

/** A running bot is warm: modules loaded, code optimised. Measure it that way, not its first seconds. */
async function warmUp(bot: Bot, url: string, fakes: Fakes, answers = WARM_UP_ANSWERS): Promise<void> {
  const requests = await fakes.call<number>({ cmd: 'count' });
  await fakes.call({ cmd: 'deliver', botUrl: url, secret: SIGNING_SECRET, questions: questions(answers, 'warm') });
  await waitIdle(bot, requests + answers, fakes, 60_000);
}

const WARM_UP_ANSWERS = sizes.warmUpAnswers;
/** Natively, a shorter warm-up: every answer spends one of the workspace's 20 chat.startStream a minute (Tier 2). */
const NATIVE_WARM_UP_ANSWERS = 5;

/**
 * One answer's Slack and Claude timeline, joined by the question it answered. `edits` are the calls that changed
 * the reply after it opened (chat.update, or chat.appendStream and chat.stopStream), with `words` as the answer's
 * words the reply showed after each (a stream's are cumulative).
 */
interface Answer {
  delivery: Delivery;
  native: boolean;
  placeholder: SlackCallSummary;
  edits: SlackCallSummary[];
  chunkTimes: number[];
  thinkingTimes: number[];
}

const STREAM_CALLS = new Set(['chat.appendStream', 'chat.stopStream']);

function joinAnswers(deliveries: Delivery[], calls: SlackCallSummary[], requests: ClaudeRequestSummary[]): Answer[] {
  return deliveries.map((delivery) => {
    const placeholder = calls.find(
      (call) => (call.method === 'chat.postMessage' || call.method === 'chat.startStream') && call.threadTs === delivery.ts && call.ok,
    )!;
    const native = placeholder.method === 'chat.startStream';
    let shown = 0;
    const edits = calls
      .filter((call) => (call.method === 'chat.update' || STREAM_CALLS.has(call.method)) && call.ts === placeholder.ts && call.ok)
      .map((call) => (STREAM_CALLS.has(call.method) ? { ...call, words: (shown += call.words) } : call));
    const request = requests.find((candidate) => candidate.question === delivery.question);
    return { delivery, native, placeholder, edits, chunkTimes: request?.chunkTimes ?? [], thinkingTimes: request?.thinkingTimes ?? [] };
  });
}

/** The first call that showed some of the answer's words. */
const firstTextCall = (answer: Answer) => answer.edits.find((edit) => edit.words > 0);

/** Edits that showed older text than an earlier edit of the same message had already shown. */
function staleEdits(answer: Answer): number {
  return answer.edits.filter((edit, i) => answer.edits.slice(0, i).some((earlier) => earlier.words > edit.words)).length;
}

/** Edits that reached Slack lacking a chunk Claude had sent at least 10 ms earlier: text that was already old when sent. */
function laggingEdits(answer: Answer): number {
  return answer.edits.filter((edit) => edit.words < answer.chunkTimes.filter((time) => time < edit.at - 10).length).length;
}

function unchangedEdits(answer: Answer): number {
  return answer.edits.filter((edit, i) => i > 0 && edit.text === answer.edits[i - 1]!.text).length;
}

const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);

/**
 * The bot's CPU cost model: two paced batches (`cpuSizes.perSecond` arrivals a second, far below capacity) of
 * answers that differ only in length. The extra CPU of the long batch per extra token is the per-token cost;
 * what the short batch spent beyond its tokens is the per-answer cost. process.cpuUsage is this process's: the
 * bot's (the fakes run in their own); the bench's own share is one count over IPC every 200 ms.
 */
async function benchCpu(): Promise<CostModel> {
  const { answers: n, perSecond, shortTokens, longTokens } = cpuSizes;
  const section = `CPU cost (${n} answers of ${shortTokens} and of ${longTokens} tokens, ${perSecond} a second, ${TOKENS_PER_SECOND} tokens/s)`;
  const cpuMsOf = async (tokens: number): Promise<number> => {
    const fakes = await startFakes({ tokens });
    const { bot, url } = await startBot(fakes, UNLIMITED);
    await warmUp(bot, url, fakes);
    const before = process.cpuUsage();
    await fakes.call({ cmd: 'deliver', botUrl: url, secret: SIGNING_SECRET, questions: questions(n, `cpu${tokens}`), spacingMs: 1000 / perSecond });
    await waitIdle(bot, WARM_UP_ANSWERS + n, fakes, 120_000);
    const cpu = process.cpuUsage(before);
    await bot.stop(0);
    fakes.stop();
    return (cpu.user + cpu.system) / 1000;
  };
  const shortMs = await cpuMsOf(shortTokens);
  const longMs = await cpuMsOf(longTokens);
  const perTokenMs = (longMs - shortMs) / (n * (longTokens - shortTokens));
  const perAnswerMs = shortMs / n - shortTokens * perTokenMs;
  record(section, 'CPU per answer, beyond its tokens (ms)', perAnswerMs);
  record(section, 'CPU per streamed token (µs)', perTokenMs * 1000);
  record(section, `CPU per ${longTokens}-token answer, all in (ms)`, longMs / n);
  return { perAnswerMs, perTokenUs: perTokenMs * 1000 };
}

/**
 * event → placeholder p50 (ms) of a receiver that only posts (bareReceiver.ts), delivered as benchLatency delivers:
 * the transport's share of the bot's figure, on this machine at this hour.
 */
async function placeholderFloor(): Promise<number> {
  const fakes = await startFakes({ tokens: sizes.tokens });
  const bare = await startBareReceiver(fakes.slackUrl);
  await fakes.call({ cmd: 'deliver', botUrl: bare.url, secret: SIGNING_SECRET, questions: questions(WARM_UP_ANSWERS, 'warm') });
  // 100 ms apart is room enough for a receiver that only posts (about 4 ms each), and keeps --quick under a minute.
  const deliveries = await fakes.call<Delivery[]>({ cmd: 'deliver', botUrl: bare.url, secret: SIGNING_SECRET, questions: questions(sizes.latencyAnswers, 'lat'), spacingMs: 100 });
  let calls: SlackCallSummary[] = [];
  while (calls.length < WARM_UP_ANSWERS + deliveries.length) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    ({ calls } = await fakes.collect());
  }
  bare.close();
  fakes.stop();
  const postedAt = new Map(calls.filter((call) => call.method === 'chat.postMessage').map((call) => [call.channel, call.at]));
  return percentile(deliveries.map((delivery) => postedAt.get(delivery.channel)! - delivery.sentAt), 0.5);
}

async function benchLatency(transport: 'edits' | 'native', floorMs: number): Promise<Answer[]> {
  const section = `Latency added by the bot, SLACK_STREAMING=${transport} (${sizes.latencyAnswers} answers, one every 250 ms; Slack RTT ${SLACK_RTT_MS} ms, TTFT ${TTFT_MS} ms, ${TOKENS_PER_SECOND} tokens/s)`;
  const fakes = await startFakes({ tokens: sizes.tokens });
  const { bot, url } = await startBot(fakes, UNLIMITED, {}, transport);
  const warmUpAnswers = transport === 'native' ? NATIVE_WARM_UP_ANSWERS : WARM_UP_ANSWERS;
  await warmUp(bot, url, fakes, warmUpAnswers);
  // Answers overlap, as in a busy workspace, but events arrive 250 ms apart so none queues behind another.
  const deliveries = await fakes.call<Delivery[]>({
    cmd: 'deliver',
    botUrl: url,
    secret: SIGNING_SECRET,
    questions: questions(sizes.latencyAnswers, 'lat'),
    spacingMs: 250,
  });
  await waitIdle(bot, warmUpAnswers + sizes.latencyAnswers, fakes, 120_000);
  const { calls, requests } = await fakes.collect();
  // The warm-up's answers are not measured; with `native`, neither are those the start budget (Tier 2) sent to edits.
  const answers = joinAnswers(deliveries, calls, requests).filter((answer) => answer.native === (transport === 'native'));
  record(section, 'answers measured', answers.length, transport === 'native' ? `those within the ${SLACK_TIERS['chat.startStream']} chat.startStream a minute (Tier 2)` : '');
  // The fake applies a call after its latency: visible = arrival + RTT; the figures subtract that one RTT.
  const placeholder = answers.map((a) => a.placeholder.at - a.delivery.sentAt);
  const firstText = answers.map((a) => firstTextCall(a)!.at - a.chunkTimes[0]!);
  const final = answers.map((a) => a.edits.at(-1)!.at - a.chunkTimes.at(-1)!);
  for (const [name, values] of [
    ['event → placeholder visible', placeholder],
    ['first token → first visible text', firstText],
    ['last token → final visible', final],
  ] as const) {
    const p50 = percentile(values, 0.5);
    // The placeholder's target is on what the bot adds, below.
    if (name === 'event → placeholder visible') record(section, `${name}, p50 (ms)`, p50);
    else record(section, `${name}, p50 (ms)`, p50, '≤ 5', p50 <= 5);
    record(section, `${name}, p95 (ms)`, percentile(values, 0.95));
  }
  // The fakes' own delivery and the loopback hops are in the figure above; a receiver that only posts shows their share.
  record(section, 'event → placeholder visible, p50 of a receiver that only posts (ms)', floorMs);
  const added = percentile(placeholder, 0.5) - floorMs;
  record(section, 'event → placeholder, p50 added by the bot beyond that receiver (ms)', added, '≤ 5', added <= 5);
  const firstFromQuestion = answers.map((a) => firstTextCall(a)!.at + SLACK_RTT_MS - a.delivery.sentAt);
  record(section, 'time to first visible text, p50 (ms)', percentile(firstFromQuestion, 0.5));
  record(section, 'Slack calls per answer (reply only)', sum(answers.map((a) => 1 + a.edits.length)) / answers.length);
  await bot.stop(0);
  fakes.stop();
  if (transport === 'native') return answers;
  const edits = sum(answers.map((a) => a.edits.length)) / answers.length;
  const ideal =
    sum(answers.map((a) => Math.ceil((a.chunkTimes.at(-1)! - a.chunkTimes[0]!) / EDIT_INTERVAL_MS) + 1)) / answers.length;
  const efficiency = 'Edit efficiency';
  record(efficiency, 'edits per answer (bot)', edits, `ideal ${Math.round(ideal * 100) / 100}`, edits <= ideal);
  const stale = sum(answers.map(staleEdits));
  record(efficiency, 'stale edits: older text after newer (bot)', stale, '0', stale === 0);
  record(efficiency, `edits lagging Claude by a chunk sent ≥ 10 ms earlier (bot, of ${sum(answers.map((a) => a.edits.length))})`, sum(answers.map(laggingEdits)));
  const unchanged = sum(answers.map(unchangedEdits));
  record(efficiency, 'unchanged-text edits (bot)', unchanged, '0', unchanged === 0);
  return answers;
}

/** The two transports side by side: the native stream must show the first words no later than edits do. */
function compareTransports(edits: Answer[], native: Answer[]): void {
  const section = 'Transports side by side (latency section)';
  const firstText = (answers: Answer[]) => percentile(answers.map((a) => firstTextCall(a)!.at - a.delivery.sentAt), 0.5);
  const difference = firstText(native) - firstText(edits);
  record(section, 'first visible text p50, native − edits (ms)', difference, '≤ 0 (native no later)', difference <= 0);
  const calls = (answers: Answer[]) => sum(answers.map((a) => 1 + a.edits.length)) / answers.length;
  record(section, 'Slack calls per answer, native ÷ edits', calls(native) / calls(edits));
}

async function benchNaive(botAnswers: Answer[]): Promise<void> {
  const section = 'Naive baseline (one p-throttled chat.update per chunk)';
  const fakes = await startFakes({ tokens: sizes.tokens });
  const web = new WebClient('xoxb-bench', { slackApiUrl: fakes.slackUrl });
  const anthropic = new Anthropic({ apiKey: 'sk-ant-bench', baseURL: fakes.claudeUrl });
  const targets = questions(sizes.naiveAnswers, 'naive').map((q, i) => ({ channel: q.channel, threadTs: `1.${i}`, question: q.text }));
  const started = performanceNow();
  await Promise.all(targets.map((target) => naiveAnswer(web, anthropic, target, EDIT_INTERVAL_MS)));
  const { calls, requests } = await fakes.collect();
  const answers = joinAnswers(
    targets.map((target) => ({ channel: target.channel, question: target.question, ts: target.threadTs, sentAt: started })),
    calls,
    requests,
  );
  const edits = sum(answers.map((a) => a.edits.length)) / answers.length;
  const stale = sum(answers.map(laggingEdits)) / answers.length;
  const lagMs = percentile(
    answers.map((a) => a.edits.at(-1)!.at - a.chunkTimes.at(-1)!),
    0.5,
  );
  record(section, 'edits per answer (naive)', edits);
  record(section, 'edits per answer lagging Claude by a chunk sent ≥ 10 ms earlier (naive)', stale);
  record(section, 'final edit after last token, p50 (ms) (naive)', lagMs);
  const botEdits = sum(botAnswers.map((a) => a.edits.length)) / botAnswers.length;
  const botLag = percentile(
    botAnswers.map((a) => a.edits.at(-1)!.at - a.chunkTimes.at(-1)!),
    0.5,
  );
  record(section, 'edits per answer, bot ÷ naive', botEdits / edits, '< 1', botEdits < edits);
  record(section, 'final lag after last token, bot ÷ naive', botLag / lagMs, '< 1', botLag < lagMs);
  fakes.stop();
}

/**
 * `n` answers at once in one workspace under Slack's tiers. The physical minimum: no final before Claude's
 * stream has ended; then every answer needs one final call. A native answer also needs a chat.startStream, made
 * when the question arrives (the reply has to appear at once), so at most a Tier 2 burst of them; the rest
 * finish with chat.update, the bucket's burst at once, then `perMinute` a minute.
 */
async function benchBudget(transport: 'edits' | 'auto'): Promise<void> {
  const { budgetAnswers: n, budgetPerMinute: perMinute } = sizes;
  const section = `Budget, SLACK_STREAMING=${transport} (${n} concurrent answers, one workspace, fake enforcing ${perMinute} chat.update/min and the stream tiers, each with a minute's burst)`;
  // Warm code, as after the sections before it in a full run: a warm-up here would spend the budget measured.
  const spare = await startFakes({ tokens: sizes.tokens });
  const warm = await startBot(spare, UNLIMITED, {}, transport);
  await warmUp(warm.bot, warm.url, spare);
  await warm.bot.stop(0);
  spare.stop();
  const fakes = await startFakes({ tokens: sizes.tokens, updatesPerMinute: perMinute });
  const { bot, url } = await startBot(fakes, perMinute, {}, transport);
  const deliveries = await fakes.call<Delivery[]>({ cmd: 'deliver', botUrl: url, secret: SIGNING_SECRET, questions: questions(n, 'budget') });
  const started = Math.min(...deliveries.map((d) => d.sentAt));
  await waitIdle(bot, n, fakes, 10 * 60_000);
  const { calls, requests } = await fakes.collect();
  const answers = joinAnswers(deliveries, calls, requests);
  // A post held for Claude's first words carries them (a short answer, its final): it counts as an edit does.
  const shown = (a: Answer) => [a.placeholder, ...a.edits];
  const lastFinal = Math.max(...answers.map((a) => shown(a).at(-1)!.at)) - started;
  const streamMs = TTFT_MS + (sizes.tokens * 1000) / TOKENS_PER_SECOND;
  const natively = transport === 'edits' ? 0 : Math.min(n, SLACK_TIERS['chat.startStream']);
  const physicalMin = streamMs + Math.max(0, ((n - natively - perMinute) / perMinute) * 60_000);
  record(section, 'answers streamed natively', answers.filter((a) => a.native).length, transport === 'edits' ? '0' : `≤ ${natively}`);
  record(section, 'time to last final ÷ physical minimum', lastFinal / physicalMin, '≤ 1.2', lastFinal / physicalMin <= 1.2);
  record(section, 'time to last final (s)', lastFinal / 1000, `minimum ${Math.round(physicalMin / 100) / 10}`);
  const limited = calls.filter((call) => call.status === 429).length;
  record(section, 'HTTP 429 answers (any method)', limited, '≤ 1', limited <= 1);
  const firstVisible = answers.map((a) => (shown(a).find((call) => call.words > 0)?.at ?? NaN) + SLACK_RTT_MS - a.delivery.sentAt);
  record(section, 'time to first visible text, p50 (s)', percentile(firstVisible, 0.5) / 1000);
  const firstP95 = percentile(firstVisible, 0.95) / 1000;
  record(section, 'time to first visible text, p95 (s)', firstP95, '≤ 3', firstP95 <= 3);
  const progress = answers.filter((a) => shown(a).filter((call) => call.words > 0).length > 1).length;
  record(section, 'answers that showed text before their final', progress, `≥ ${n / 2}`, progress >= n / 2);
  // A held post carries words only if Claude's first ones exist within the hold (about 1.5 s from the question).
  const firstWords = answers.map((a) => (a.chunkTimes[0] ?? NaN) - a.delivery.sentAt);
  record(section, 'question → Claude’s first text chunk, p50 (s)', percentile(firstWords, 0.5) / 1000, `TTFT ${TTFT_MS / 1000}`);
  const held = answers.filter((a) => !a.native && a.placeholder.words > 0).length;
  record(section, 'posts held for the first words, carrying them', held);
  await bot.stop(0);
  fakes.stop();
}

async function benchThinking(): Promise<void> {
  const n = sizes.thinkingAnswers;
  for (const display of thinkingDisplays) {
    const section = `Thinking (${n} answers that think ${THINKING_MS / 1000} s before writing, one every 250 ms; THINKING_DISPLAY=${display}, EDIT_INTERVAL_MS ${EDIT_INTERVAL_MS}, Slack RTT ${SLACK_RTT_MS} ms)`;
    const fakes = await startFakes({ tokens: sizes.tokens, script: thinkingScript(sizes.tokens) });
    const { bot, url } = await startBot(fakes, UNLIMITED, { THINKING_DISPLAY: display });
    const deliveries = await fakes.call<Delivery[]>({
      cmd: 'deliver',
      botUrl: url,
      secret: SIGNING_SECRET,
      questions: questions(n, `think${display}`),
      spacingMs: 250,
    });
    await waitIdle(bot, n, fakes, 120_000);
    const { calls, requests } = await fakes.collect();
    const answers = joinAnswers(deliveries, calls, requests);
    // Visible once Slack has applied the edit: its arrival plus the round trip's return.
    const visible = (edit: SlackCallSummary | undefined) => (edit ? edit.at + SLACK_RTT_MS : NaN);
    const progress = answers.map((a) => visible(a.edits[0]) - a.thinkingTimes[0]!);
    const sentence = answers.map((a) => visible(a.edits.find((edit) => edit.text.startsWith('_Thinking: '))) - a.thinkingTimes[0]!);
    const textLag = answers.map((a) => visible(a.edits.find((edit) => edit.words > 0)) - a.chunkTimes[0]!);
    const progressFromQuestion = answers.map((a) => visible(a.edits[0]) - a.delivery.sentAt);
    const firstText = answers.map((a) => visible(a.edits.find((edit) => edit.words > 0)) - a.delivery.sentAt);
    const target = EDIT_INTERVAL_MS + SLACK_RTT_MS;
    const p50 = percentile(progress, 0.5);
    const p95 = percentile(progress, 0.95);
    const off = display === 'off';
    // Negative: the progress (the clock) was shown when the thinking block started, before its first delta.
    record(section, 'first thinking delta → first visible progress, p50 (ms)', p50, off ? 'the first text' : `≤ ${target}`, off ? undefined : p50 <= target);
    record(section, 'first thinking delta → first visible progress, p95 (ms)', p95, off ? '' : `≤ ${target}`, off ? undefined : p95 <= target);
    if (display === 'summary') {
      const sentenceP95 = percentile(sentence, 0.95);
      record(section, 'first thinking delta → first thinking sentence visible, p95 (ms)', sentenceP95, `≤ ${target}`, sentenceP95 <= target);
    }
    record(section, 'time to first visible progress, p50 (s)', percentile(progressFromQuestion, 0.5) / 1000);
    record(section, 'time to first visible text, p50 (s)', percentile(firstText, 0.5) / 1000);
    record(section, 'first text token → first visible text, p50 (ms)', percentile(textLag, 0.5));
    const thinkingEdits = sum(answers.map((a) => a.edits.filter((edit) => edit.words === 0).length)) / n;
    record(section, 'thinking edits per answer', thinkingEdits, off ? '0' : `≤ ${Math.ceil(THINKING_MS / EDIT_INTERVAL_MS) + 1}`);
    await bot.stop(0);
    fakes.stop();
  }
}

function performanceNow(): number {
  return performance.timeOrigin + performance.now();
}

async function main(): Promise<void> {
  const started = Date.now();
  // CPU before scale: the scale section sets the capacity the CPU cost model predicts beside its own.
  const costModel = runs('cpu') ? await timed('cpu', benchCpu) : undefined;
  if (runs('scale')) await timed('scale', () => benchScale(record, quick, costModel));
  // The naive baseline is 100 s of waiting (one edit a second per chunk) and almost no CPU: it runs beside the
  // thinking section, whose figures are edit-interval scale, so the full run stays under 10 minutes.
  let naive: Promise<void> = Promise.resolve();
  if (runs('latency')) {
    const botAnswers = await timed('latency', async () => {
      const floorMs = await placeholderFloor();
      const answers = await benchLatency('edits', floorMs);
      compareTransports(answers, await benchLatency('native', floorMs));
      return answers;
    });
    if (runs('naive') && !quick) naive = timed('naive', () => benchNaive(botAnswers));
  }
  if (runs('thinking')) await timed('thinking', benchThinking);
  await naive;
  if (runs('budget')) {
    await timed('budget', async () => {
      await benchBudget('edits');
      if (!quick) await benchBudget('auto');
    });
  }
  // The production build's memory (dist/, no TypeScript loader), before it answers anything. Building takes a while: not in --quick.
  if (runs('startup') && !quick) {
    const { rssMb } = await timed('startup', compiledStartupRss);
    record('Start-up (node dist/index.js, sqlite, HTTP mode)', 'RSS before the first answer (MB)', rssMb, '≤ 135', rssMb <= 135);
  }
  if (runs('render')) {
    const render = await benchRender();
    const section = 'Rendering (src/slack/render.ts)';
    record(section, 'per intermediate edit of a 12,000-char answer, median (µs)', render.perEditMedianUs);
    record(section, 'per intermediate edit, p99 (µs)', render.perEditP99Us, '< 2000', render.perEditP99Us < 2000);
    record(section, 'CPU for a 40,000-char answer in 4,000 chunks (ms)', render.total40kCpuMs);
  }

  const dir = join(import.meta.dirname, 'results');
  const previous = previousRun(join(dir, 'latest.json'));
  console.log(table(rows, previous));
  console.log(`\n${quick ? 'quick' : 'full'} run, ${Math.round((Date.now() - started) / 1000)} s${previous ? `; "before": the ${previous.quick ? 'quick' : 'full'} run of ${previous.at}` : ''}`);
  mkdirSync(dir, { recursive: true });
  // The run before is kept inside the new file, so the next table can still show what changed.
  const run: Run = { quick, at: new Date().toISOString(), rows };
  writeFileSync(join(dir, 'latest.json'), JSON.stringify({ ...run, previous: previous && { quick: previous.quick, at: previous.at, rows: previous.rows } }, null, 2));
}

interface Run {
  quick: boolean;
  at: string;
  rows: Row[];
}

/** The last run of the same kind (full or `--quick`) from `file`: the last one itself, or the one it kept. */
function previousRun(file: string): Run | undefined {
  let last: Run & { previous?: Run };
  try {
    last = JSON.parse(readFileSync(file, 'utf8')) as Run & { previous?: Run };
  } catch {
    return undefined;
  }
  return [last, last.previous].find((candidate) => candidate?.quick === quick && Array.isArray(candidate.rows));
}

/** The Markdown table: each row beside its target and, where the run before measured it, that value and the change. */
function table(current: Row[], previous: Run | undefined): string {
  const before = new Map(previous?.rows.map((row) => [`${row.section}\u0000${row.metric}`, row.value]));
  const lines = ['| section | metric | value | target | met | before | change |', '|---|---|---|---|---|---|---|'];
  for (const row of current) {
    const old = before.get(`${row.section}\u0000${row.metric}`);
    const change = typeof old === 'number' && typeof row.value === 'number' ? signed(Math.round((row.value - old) * 100) / 100) : '';
    lines.push(`| ${row.section} | ${row.metric} | ${row.value} | ${row.target} | ${row.met === undefined ? '' : row.met ? 'yes' : 'NO'} | ${old ?? ''} | ${change} |`);
  }
  return lines.join('\n');
}

const signed = (value: number) => (value > 0 ? `+${value}` : String(value));

await main();
