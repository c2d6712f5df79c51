import { Writable } from 'node:stream';
import { createBot, type Bot } from '../src/app.js';
import { loadConfig, secretsOf } from '../src/config.js';
import type { HistoryStore } from '../src/history/historyStore.js';
import { openStores } from '../src/stores.js';
import { createLogger } from '../src/logger.js';
import { FakeAnthropic } from './fakes/fakeAnthropic.js';
import { FakeSlack, type RecordedCall } from './fakes/fakeSlack.js';
import {
  deliverCommand,
  deliverEvent,
  dmEvent,
  mentionEvent,
  type CommandFields,
  type DeliverEventOptions,
  type DmEvent,
  type MentionEvent,
} from './fakes/slackRequests.js';

export const SIGNING_SECRET = 'test-signing-secret';
export const BOT_TOKEN = 'xoxb-test-bot-token-SECRET';
export const API_KEY = 'sk-ant-test-key-SECRET';

export interface TestBot {
  slack: FakeSlack;
  claude: FakeAnthropic;
  bot: Bot;
  history: HistoryStore;
  /** http://127.0.0.1:<port> of the bot's HTTP receiver. */
  url: string;
  /** http://127.0.0.1:<port> of the METRICS_PORT server, when METRICS_PORT is set. */
  metricsUrl: string | undefined;
  /** Every log line the bot wrote, as JSON text. */
  logs: string[];
  mention(overrides?: Partial<MentionEvent>, opts?: DeliverEventOptions): Promise<MentionEvent>;
  dm(overrides?: Partial<DmEvent>, opts?: DeliverEventOptions): Promise<DmEvent>;
  command(fields: CommandFields): Promise<Response>;
  /** Waits until the bot has no answer running or waiting. */
  idle(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The transport the suites run on: TEST_SLACK_STREAMING, else `edits` (progressive chat.update edits). The
 * `native` Jest project (jest.config.js) runs the transport-agnostic suites again with `native`.
 */
export const SUITE_STREAMING = process.env.TEST_SLACK_STREAMING ?? 'edits';
/** Whether the suites run on Slack's native streams (chat.startStream → appendStream → stopStream). */
export const onNativeStreams = SUITE_STREAMING === 'native';
/**
 * `test`, left out when the suites run on native streams: for a test about the edits transport itself
 * (chat.update edits, the placeholder's mrkdwn, the edit budget), which a native stream does not use.
 */
// Not registered at all under native (rather than skipped), so the run's count holds only tests that ran.
export const editsOnly = (onNativeStreams ? () => undefined : test) as typeof test;

/** The environment that points a bot at the fakes in HTTP mode on a free port. */
export function fakeWiring(slack: FakeSlack, claude: FakeAnthropic): Record<string, string> {
  return {
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    ANTHROPIC_API_KEY: API_KEY,
    SLACK_API_URL: slack.apiUrl,
    ANTHROPIC_BASE_URL: claude.baseUrl,
    PORT: '0',
    SLACK_STREAMING: SUITE_STREAMING,
  };
}

/** Starts fakes and the real bot in HTTP mode, wired to the fakes through the environment variables. */
export async function startTestBot(
  env: Record<string, string> = {},
  deps: { slack?: FakeSlack; claude?: FakeAnthropic; history?: HistoryStore; keyPrefix?: string; instanceId?: string } = {},
): Promise<TestBot> {
  const slack = deps.slack ?? (await FakeSlack.start());
  const claude = deps.claude ?? (await FakeAnthropic.start());
  const config = loadConfig({
    ...fakeWiring(slack, claude),
    HISTORY_STORE: 'memory',
    EDIT_INTERVAL_MS: '200',
    LOG_LEVEL: 'debug',
    ...env,
  });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(chunk.toString());
      done();
    },
  });
  const logger = createLogger(config.LOG_LEVEL, sink, secretsOf(config));
  const stores = await openStores(config, logger, deps.keyPrefix);
  if (deps.history) stores.history = deps.history;
  const history = stores.history;
  const bot = createBot(config, { logger, stores, instanceId: deps.instanceId });
  const port = await bot.start();
  const url = `http://127.0.0.1:${port}`;
  const metricsPort = bot.metricsPort();

  const expectAccepted = (response: Response) => {
    if (response.status !== 200) throw new Error(`bot answered HTTP ${response.status}`);
  };
  return {
    slack,
    claude,
    bot,
    history,
    url,
    metricsUrl: metricsPort === undefined ? undefined : `http://127.0.0.1:${metricsPort}`,
    logs,
    async mention(overrides = {}, opts = {}) {
      const event = mentionEvent(overrides);
      expectAccepted(await deliverEvent(url, SIGNING_SECRET, event, opts));
      return event;
    },
    async dm(overrides = {}, opts = {}) {
      const event = dmEvent(overrides);
      expectAccepted(await deliverEvent(url, SIGNING_SECRET, event, opts));
      return event;
    },
    command: (fields) => deliverCommand(url, SIGNING_SECRET, { response_url: slack.responseUrl, ...fields }),
    async idle(timeoutMs = 10_000) {
      // An answer starts a moment after its event is acknowledged: wait for it to register first.
      await new Promise((resolve) => setTimeout(resolve, 50));
      await slack.waitFor(() => bot.conversation.busyThreads === 0, timeoutMs);
    },
    async stop() {
      await bot.stop(0);
      await Promise.all([deps.slack ? undefined : slack.close(), deps.claude ? undefined : claude.close()]);
    },
  };
}

/** Text of every version a message showed, oldest first. */
export function versionsOf(slack: FakeSlack, ts: string): string[] {
  return slack.messages.get(ts)?.versions.map((version) => version.text) ?? [];
}

/**
 * The messages the bot posted (chat.postMessage) or started streaming (chat.startStream), whatever the
 * transport, in `threadTs` when given, oldest first; calls Slack refused are left out.
 */
export function replyCalls(slack: FakeSlack, threadTs?: string): RecordedCall[] {
  return slack.calls.filter(
    (call) =>
      (call.method === 'chat.postMessage' || call.method === 'chat.startStream') &&
      call.response.ok &&
      (threadTs === undefined || call.params.thread_ts === threadTs),
  );
}

/** The ts of the bot's first message (in `threadTs` when given), posted or streamed; throws when there is none yet. */
export function replyTs(slack: FakeSlack, threadTs?: string): string {
  const reply = replyCalls(slack, threadTs)[0];
  if (!reply) throw new Error(`no message from the bot${threadTs ? ` in thread ${threadTs}` : ''} yet`);
  return reply.response.ts as string;
}

/** Text of every version of the bot's first message (in `threadTs` when given), posted or streamed, oldest first ([] until there is one). */
export function firstReplyVersions(slack: FakeSlack, threadTs?: string): string[] {
  const reply = replyCalls(slack, threadTs)[0];
  return reply === undefined ? [] : versionsOf(slack, reply.response.ts as string);
}

/**
 * A reply's text as its reader sees it, for comparing on either transport: a native stream keeps the trailing
 * whitespace of Claude's text (appended before the end was known, invisible in Markdown); edits show mrkdwn
 * without it, and are compared as they are.
 */
export function visibleText(text: string | undefined): string | undefined {
  return onNativeStreams ? text?.trimEnd() : text;
}

/** A chunk of chat.startStream/appendStream/stopStream as the fake records it (@slack/types `AnyChunk`: markdown_text, task_update…). */
export interface StreamChunk {
  type: string;
  text?: string;
  id?: string;
  title?: string;
  status?: string;
  details?: string;
}

const STREAM_METHODS = new Set(['chat.startStream', 'chat.appendStream', 'chat.stopStream']);

/** Every chunk the message at `ts` was streamed, in call order, with when its call reached Slack ([] for a posted message). */
function streamChunks(slack: FakeSlack, ts: string): { chunk: StreamChunk; at: number }[] {
  return slack.calls
    .filter((call) => STREAM_METHODS.has(call.method) && call.response.ok && (call.params.ts ?? call.response.ts) === ts)
    .flatMap((call) => ((call.params.chunks as StreamChunk[] | undefined) ?? []).map((chunk) => ({ chunk, at: call.at })));
}

/** The updates of a natively streamed reply's thinking task (id `thinking`), with when each reached Slack ([] for a posted reply). */
export function thinkingTasks(slack: FakeSlack, ts: string): { status?: string; details?: string; at: number }[] {
  return streamChunks(slack, ts)
    .filter(({ chunk }) => chunk.type === 'task_update' && chunk.id === 'thinking')
    .map(({ chunk, at }) => ({ status: chunk.status, details: chunk.details, at }));
}

/** Whether the message at `ts` still shows Claude thinking: "Thinking" in its text (edits), or its thinking task left in progress (native stream). */
export function stillThinking(slack: FakeSlack, ts: string): boolean {
  const text = slack.messages.get(ts)?.versions.at(-1)?.text ?? '';
  return text.includes('Thinking') || thinkingTasks(slack, ts).at(-1)?.status === 'in_progress';
}
