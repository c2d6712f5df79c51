// `npm run soak [-- --minutes N]`: two bot instances sharing Redis answer about 5 questions a second over
// 50 threads for N minutes (default 2) while faults are injected at random on both sides, then it counts
// what users would see. Loopback only; bounded in time. Needs Redis on 127.0.0.1:6379 (or REDIS_URL).
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Bot } from '../src/app.js';
import { RedisHistoryStore } from '../src/history/redisHistoryStore.js';
import { FakeAnthropic, type Script } from '../test/fakes/fakeAnthropic.js';
import { FakeSlack } from '../test/fakes/fakeSlack.js';
import { deliverEvent, freshTs, mentionEvent } from '../test/fakes/slackRequests.js';
import { SIGNING_SECRET, startBenchBot } from './startBot.js';

const argument = (name: string, fallback: number) => {
  const index = process.argv.indexOf(`--${name}`);
  return index > 0 ? Number(process.argv[index + 1]) : fallback;
};
const minutes = argument('minutes', 2);
const questionsPerSecond = argument('rate', 5);
const threadCount = argument('threads', 50);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const keyPrefix = `soak:${randomUUID()}:`;

const random = () => Math.random();
const pick = <T>(items: T[]) => items[Math.floor(random() * items.length)]!;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Claude's side: each answer starts with its question's id; about one request in seven meets a fault. */
function claudeScript(body: { messages: { content: string }[] }): Script {
  const question = body.messages.at(-1)!.content;
  const chunks = [`[${question}] `, ...Array.from({ length: 10 + Math.floor(random() * 30) }, (_, i) => `word${i} `)];
  const afterChunks = 1 + Math.floor(random() * (chunks.length - 1));
  const roll = random();
  if (roll < 0.03) return { httpError: { status: 429, type: 'rate_limit_error', message: 'Rate limited', retryAfter: 0 } };
  if (roll < 0.06) return { httpError: { status: 529, type: 'overloaded_error', message: 'Overloaded', retryAfter: 0 } };
  if (roll < 0.09) return { chunks, delayMs: 30, fail: { afterChunks, how: 'error_event' } };
  if (roll < 0.12) return { chunks, delayMs: 30, fail: { afterChunks, how: 'drop' } };
  if (roll < 0.14) return { chunks, delayMs: 30, fail: { afterChunks, how: 'hang' } };
  return { chunks, delayMs: 30, firstTokenDelayMs: 100 };
}

function startInstance(slack: FakeSlack, claude: FakeAnthropic): Promise<{ bot: Bot; url: string }> {
  return startBenchBot(
    { slackApiUrl: slack.apiUrl, claudeBaseUrl: claude.baseUrl },
    {
      HISTORY_STORE: 'redis',
      REDIS_URL,
      EDIT_INTERVAL_MS: '500',
      // The soak is about faults, not the budget: room for every answer's edits at 5 questions a second.
      SLACK_EDITS_PER_MINUTE: '6000',
      STREAM_IDLE_TIMEOUT_MS: '1500',
    },
    keyPrefix,
  );
}

async function main(): Promise<void> {
  const slack = await FakeSlack.start({ latencyMs: 20 });
  const claude = await FakeAnthropic.start();
  claude.scriptFor = (body) => claudeScript(body as { messages: { content: string }[] });
  const instances = [await startInstance(slack, claude), await startInstance(slack, claude)];
  // One asker per thread: USER_MAX_CONCURRENT caps answers per user, and the soak is about many people at once.
  const threads = Array.from({ length: threadCount }, (_, i) => ({ channel: `CSOAK${i % 5}`, ts: freshTs(), user: `USOAK${i}` }));
  const asked = new Map<string, { channel: string; threadTs: string }>();
  let redeliveries = 0;
  let injectedSlackFaults = 0;

  const slackFaults = setInterval(() => {
    const roll = random();
    if (roll < 0.1) slack.failNext('chat.update', { status: 429, retryAfter: 1 });
    else if (roll < 0.2) slack.failNext('chat.update', { status: 503 });
    else return;
    injectedSlackFaults++;
  }, 200);

  const endAt = Date.now() + minutes * 60_000;
  const deliveries: Promise<unknown>[] = [];
  for (let n = 0; Date.now() < endAt; n++) {
    const thread = pick(threads);
    const id = `q${n}`;
    asked.set(id, { channel: thread.channel, threadTs: thread.ts });
    const event = mentionEvent({ channel: thread.channel, thread_ts: thread.ts, user: thread.user, text: `<@UBOT> ${id}` });
    const eventId = `EvSOAK${n}`;
    const [first, second] = random() < 0.5 ? instances : [...instances].reverse();
    deliveries.push(deliverEvent(first!.url, SIGNING_SECRET, event, { eventId }).catch(() => undefined));
    if (random() < 0.1) {
      redeliveries++;
      deliveries.push(
        sleep(random() * 1000).then(() => deliverEvent(second!.url, SIGNING_SECRET, event, { eventId, retryNum: 1 }).catch(() => undefined)),
      );
    }
    await sleep(1000 / questionsPerSecond);
  }
  clearInterval(slackFaults);
  await Promise.all(deliveries);
  const drainDeadline = Date.now() + 120_000;
  while (instances.some(({ bot }) => bot.conversation.busyThreads > 0) && Date.now() < drainDeadline) await sleep(200);

  // What users see: every message the bot posted in a thread, by its last version.
  const replies = [...slack.messages.values()].filter((message) => message.thread_ts && !message.deleted);
  const markerCount = new Map<string, number>();
  const notesByThread = new Map<string, number>();
  let placeholdersLeft = 0;
  for (const reply of replies) {
    const text = reply.versions.at(-1)!.text;
    if (text === '_Thinking…_' || text.includes('still writing') || text.includes('Trying again')) placeholdersLeft++;
    const marker = /\[(q\d+)\]/.exec(text)?.[1];
    if (marker) markerCount.set(marker, (markerCount.get(marker) ?? 0) + 1);
    else notesByThread.set(reply.thread_ts!, (notesByThread.get(reply.thread_ts!) ?? 0) + 1);
  }
  for (const call of slack.callsOf('chat.postEphemeral')) {
    const threadTs = String(call.params.thread_ts);
    notesByThread.set(threadTs, (notesByThread.get(threadTs) ?? 0) + 1);
  }
  let answeredOnce = 0;
  let answeredTwice = 0;
  const unansweredByThread = new Map<string, number>();
  for (const [id, { threadTs }] of asked) {
    const count = markerCount.get(id) ?? 0;
    if (count === 1) answeredOnce++;
    if (count > 1) answeredTwice++;
    if (count === 0) unansweredByThread.set(threadTs, (unansweredByThread.get(threadTs) ?? 0) + 1);
  }
  // A question without an answer of its own may have been answered by a note (Claude failed, thread busy).
  let answeredByNote = 0;
  let neverAnswered = 0;
  for (const [threadTs, unanswered] of unansweredByThread) {
    const notes = notesByThread.get(threadTs) ?? 0;
    answeredByNote += Math.min(unanswered, notes);
    neverAnswered += Math.max(0, unanswered - notes);
  }

  const redis = new Redis(REDIS_URL);
  const history = new RedisHistoryStore(redis, 40, 24 * 60 * 60 * 1000, keyPrefix);
  let brokenThreads = 0;
  for (const thread of threads) {
    const exchanges = await history.load({ teamId: 'T0001', channel: thread.channel, threadTs: thread.ts });
    // An exchange stored without its answer (or question) would be a half-written pair.
    if (exchanges.some((exchange) => !exchange.question || !exchange.answer)) brokenThreads++;
  }
  const badRequests = claude.requests.filter((request) =>
    (request.body.messages as { role: string }[]).some((turn, i) => turn.role !== (i % 2 === 0 ? 'user' : 'assistant')),
  ).length;
  const keys = await redis.keys(`${keyPrefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();

  await Promise.all(instances.map(({ bot }) => bot.stop(0)));
  await Promise.all([slack.close(), claude.close()]);

  const rows: [string, number, string][] = [
    ['questions asked', asked.size, ''],
    ['event redeliveries injected', redeliveries, ''],
    ['Slack edit faults injected (429/5xx)', injectedSlackFaults, ''],
    ['Claude requests (retries included)', claude.requests.length, ''],
    ['answered once', answeredOnce, ''],
    ['answered by a clear note instead (Claude failed, thread busy)', answeredByNote, ''],
    ['answered twice', answeredTwice, '0'],
    ['never answered', neverAnswered, '0'],
    ['placeholders left unfinished', placeholdersLeft, '0'],
    ['threads with a half-stored exchange', brokenThreads, '0'],
    ['Claude requests whose messages break alternation', badRequests, '0'],
    ['peak RSS (MB)', Math.round(process.resourceUsage().maxRSS / 1024), ''],
  ];
  console.log(`Soak: ${minutes} min, 2 instances on Redis, ~${questionsPerSecond} questions/s over ${threadCount} threads\n`);
  console.log('| figure | value | target |\n|---|---|---|');
  for (const [name, value, target] of rows) console.log(`| ${name} | ${value} | ${target} |`);
  const failed = answeredTwice + neverAnswered + placeholdersLeft + brokenThreads + badRequests;
  process.exit(failed === 0 ? 0 : 1);
}

await main();
