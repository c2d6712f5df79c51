// The benchmark's fake Slack and Anthropic servers, in a process of their own so that their work (and the
// delivery of events) never counts against the bot's CPU, memory or event-loop delay. Driven over IPC.
import { FakeAnthropic, type StreamScript } from '../test/fakes/fakeAnthropic.js';
import { FakeSlack } from '../test/fakes/fakeSlack.js';
import { preciseNow } from '../test/fakes/httpUtil.js';
import { deliverEvent, mentionEvent } from '../test/fakes/slackRequests.js';

/** A command from the benchmark and what the fakes answer. */
export type FakesCommand =
  | { cmd: 'configure'; slackLatencyMs: number; script: StreamScript; rateLimits?: Record<string, { perMinute: number; burst: number }> }
  | { cmd: 'deliver'; botUrl: string; secret: string; questions: { channel: string; text: string }[]; spacingMs?: number }
  | { cmd: 'schedule'; botUrls: string[]; secret: string; questions: ScheduledQuestion[] }
  | { cmd: 'halt' }
  | { cmd: 'count' }
  | { cmd: 'cpu' }
  | { cmd: 'tally' }
  | { cmd: 'collect' };

/** A question delivered `atMs` after its `schedule` command arrived. */
export interface ScheduledQuestion {
  channel: string;
  text: string;
  atMs: number;
}

/**
 * One Slack call as the benchmark needs it: when it arrived, what it did, and a fingerprint of its text (for a
 * stream call, the Markdown it appended).
 */
export interface SlackCallSummary {
  method: string;
  at: number;
  status: number;
  ok: boolean;
  channel: string;
  ts: string;
  threadTs?: string;
  words: number;
  text: string;
}

export interface ClaudeRequestSummary {
  question: string;
  at: number;
  chunkTimes: number[];
  /** When each thinking delta was written (or would have been, with thinking display omitted). */
  thinkingTimes: number[];
}

export interface Delivery {
  channel: string;
  question: string;
  ts: string;
  sentAt: number;
}

/**
 * What became of one delivered question: its Claude requests (`firstRequestAt` undefined without one), when its
 * placeholder was posted, and `replies`, the distinct messages that showed the scripted answer's last word.
 */
export interface QuestionTally {
  question: string;
  sentAt: number;
  claudeRequests: number;
  firstRequestAt?: number;
  placeholderAt?: number;
  replies: number;
}

/** Deliveries in flight at once. */
const MAX_CONNECTIONS = 100;

/** The questions delivered, by channel: what was asked there, the event's ts and when it was sent. */
const asked = new Map<string, { question: string; ts: string; sentAt: number }>();
/** Stops the running `schedule`. */
let halt = new AbortController();

const slack = await FakeSlack.start();
const claude = await FakeAnthropic.start();

async function handle(command: FakesCommand): Promise<unknown> {
  switch (command.cmd) {
    case 'configure':
      slack.latencyMs = command.slackLatencyMs;
      claude.defaultScript = command.script;
      for (const [method, limit] of Object.entries(command.rateLimits ?? {})) slack.rateLimit(method, limit);
      return {};
    case 'deliver': {
      const { questions, spacingMs = 0 } = command;
      return deliver(
        questions.map((question, i) => ({ ...question, atMs: i * spacingMs })),
        [command.botUrl],
        command.secret,
      );
    }
    case 'schedule':
      halt = new AbortController();
      return deliver(command.questions, command.botUrls, command.secret, halt.signal);
    case 'halt':
      halt.abort();
      return {};
    case 'count':
      return claude.requests.length;
    case 'cpu': {
      const { user, system } = process.cpuUsage();
      return (user + system) / 1000;
    }
    case 'tally':
      return tally();
    case 'collect':
      return {
        calls: slack.calls.map((call): SlackCallSummary => {
          const text = call.params.chunks === undefined ? String(call.params.text ?? '') : streamedText(call.params.chunks);
          const opens = call.method === 'chat.postMessage' || call.method === 'chat.startStream';
          const ts = String(opens ? (call.response.ts ?? '') : call.params.ts);
          return {
            method: call.method,
            at: call.at,
            status: call.status,
            ok: call.response.ok === true,
            channel: String(call.params.channel),
            ts,
            threadTs: call.params.thread_ts === undefined ? undefined : String(call.params.thread_ts),
            words: text.split(/\s+/).filter((word) => /^w\d+$/.test(word)).length,
            text,
          };
        }),
        requests: claude.requests.map(
          (request): ClaudeRequestSummary => ({
            question: String(request.body.messages.at(-1).content),
            at: request.at,
            chunkTimes: request.chunkTimes,
            thinkingTimes: request.thinkingTimes,
          }),
        ),
      };
  }
}

/**
 * Delivers each question at its `atMs` (from now), question i to `botUrls[i % n]`, over at most MAX_CONNECTIONS
 * connections; after `halt` aborts, the questions not yet sent are dropped. Rejects when a bot answers other than 200.
 */
async function deliver(questions: ScheduledQuestion[], botUrls: string[], secret: string, halt?: AbortSignal): Promise<Delivery[]> {
  // Slack keeps a bounded number of connections open to an app; 1,000 at once would overflow the
  // listen backlog and measure the kernel, not the bot.
  const pending = questions.map((question, i) => ({ ...question, i }));
  const deliveries: Delivery[] = [];
  const started = preciseNow();
  const worker = async () => {
    for (let next = pending.shift(); next && !halt?.aborted; next = pending.shift()) {
      const { channel, text, atMs, i } = next;
      const wait = atMs - (preciseNow() - started);
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      if (halt?.aborted) return;
      const event = mentionEvent({ channel, user: `U${channel}`, text: `<@UBOT> ${text}` });
      const sentAt = preciseNow();
      asked.set(channel, { question: text, ts: event.ts, sentAt });
      const response = await deliverEvent(botUrls[i % botUrls.length]!, secret, event);
      if (response.status !== 200) throw new Error(`bot answered ${response.status}`);
      deliveries[i] = { channel, question: text, ts: event.ts, sentAt };
    }
  };
  await Promise.all(Array.from({ length: MAX_CONNECTIONS }, worker));
  return deliveries.filter(Boolean);
}

/** Every question delivered so far (each has a channel of its own, its question's key in the Slack calls). */
function tally(): QuestionTally[] {
  // A long answer continues in more messages: the one showing its last word is the reply's final.
  const lastWord = 'chunks' in claude.defaultScript ? claude.defaultScript.chunks.at(-1)?.trim() : undefined;
  const requests = new Map<string, { count: number; firstAt: number }>();
  for (const request of claude.requests) {
    const question = String(request.body.messages.at(-1).content);
    const seen = requests.get(question);
    if (seen) seen.count++;
    else requests.set(question, { count: 1, firstAt: request.at });
  }
  const placeholders = new Map<string, number>();
  // The distinct messages per channel that showed the answer's end: a final edit sent twice is still one reply.
  const replies = new Map<string, Set<string>>();
  for (const call of slack.calls) {
    const channel = String(call.params.channel);
    const question = asked.get(channel);
    if (!question || call.response.ok !== true || (call.method !== 'chat.postMessage' && call.method !== 'chat.update')) continue;
    const posted = call.method === 'chat.postMessage';
    if (posted && String(call.params.thread_ts) === question.ts && !placeholders.has(channel)) placeholders.set(channel, call.at);
    if (!lastWord || !String(call.params.text ?? '').split(/\s+/).includes(lastWord)) continue;
    const ts = String(posted ? call.response.ts : call.params.ts);
    replies.set(channel, (replies.get(channel) ?? new Set()).add(ts));
  }
  return [...asked].map(([channel, { question, sentAt }]) => ({
    question,
    sentAt,
    claudeRequests: requests.get(question)?.count ?? 0,
    firstRequestAt: requests.get(question)?.firstAt,
    placeholderAt: placeholders.get(channel),
    replies: replies.get(channel)?.size ?? 0,
  }));
}

/** The Markdown of a stream call's `markdown_text` chunks. */
function streamedText(chunks: unknown): string {
  if (!Array.isArray(chunks)) return '';
  return chunks.map((chunk: { type?: unknown; text?: unknown }) => (chunk.type === 'markdown_text' ? String(chunk.text) : '')).join('');
}

process.on('message', (message: { id: number } & FakesCommand) => {
  handle(message).then(
    (result) => process.send!({ id: message.id, result }),
    (error: unknown) => process.send!({ id: message.id, error: String(error) }),
  );
});
process.on('disconnect', () => {
  void Promise.all([slack.close(), claude.close()]).then(() => process.exit(0));
});
process.send!({ ready: true, slackUrl: slack.apiUrl, claudeUrl: claude.baseUrl });
