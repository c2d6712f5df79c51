import { Writable } from 'node:stream';
import { createBot, type Bot } from '../src/app.js';
import { loadConfig, secretsOf } from '../src/config.js';
import type { HistoryStore } from '../src/history/historyStore.js';
import { openStores } from '../src/stores.js';
import { createLogger } from '../src/logger.js';
import { FakeAnthropic } from './fakes/fakeAnthropic.js';
import { FakeSlack } from './fakes/fakeSlack.js';
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
  /** Every log line the bot wrote, as JSON text. */
  logs: string[];
  mention(overrides?: Partial<MentionEvent>, opts?: DeliverEventOptions): Promise<MentionEvent>;
  dm(overrides?: Partial<DmEvent>, opts?: DeliverEventOptions): Promise<DmEvent>;
  command(fields: CommandFields): Promise<Response>;
  /** Waits until the bot has no answer running or waiting. */
  idle(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** The environment that points a bot at the fakes in HTTP mode on a free port. */
export function fakeWiring(slack: FakeSlack, claude: FakeAnthropic): Record<string, string> {
  return {
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    ANTHROPIC_API_KEY: API_KEY,
    SLACK_API_URL: slack.apiUrl,
    ANTHROPIC_BASE_URL: claude.baseUrl,
    PORT: '0',
    // The suites written for the edits transport run on it unless TEST_SLACK_STREAMING says otherwise.
    SLACK_STREAMING: process.env.TEST_SLACK_STREAMING ?? 'edits',
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
  const stores = openStores(config, logger, deps.keyPrefix);
  if (deps.history) stores.history = deps.history;
  const history = stores.history;
  const bot = createBot(config, { logger, stores, instanceId: deps.instanceId });
  const port = await bot.start();
  const url = `http://127.0.0.1:${port}`;

  const expectAccepted = (response: Response) => {
    if (response.status !== 200) throw new Error(`bot answered HTTP ${response.status}`);
  };
  return {
    slack,
    claude,
    bot,
    history,
    url,
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

/** Text of every version of the first message the bot posted or started streaming, oldest first ([] until there is one). */
export function firstReplyVersions(slack: FakeSlack): string[] {
  const reply = slack.calls.find((call) => (call.method === 'chat.postMessage' || call.method === 'chat.startStream') && call.response.ok);
  return reply === undefined ? [] : versionsOf(slack, reply.response.ts as string);
}
