import Anthropic from '@anthropic-ai/sdk';
import { App, HTTPReceiver, type Middleware, type AnyMiddlewareArgs } from '@slack/bolt';
import { WebClient } from '@slack/web-api';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { ClaudeStream } from './claude/claudeStream.js';
import type { Config } from './config.js';
import { Conversation } from './conversation.js';
import type { HistoryStore } from './history/historyStore.js';
import { toBoltLogger, type Logger } from './logger.js';
import { MemoryEditBudget, type EditBudget } from './slack/editBudget.js';
import { EditScheduler } from './slack/editScheduler.js';
import { MemoryEventDedupe, type EventDedupe } from './slack/eventDedupe.js';
import { createHttpServer } from './slack/httpServer.js';
import { askCommandListener } from './slack/listeners/askCommand.js';
import { directMessageListener } from './slack/listeners/directMessage.js';
import type { ListenerDeps } from './slack/listeners/handlePrompt.js';
import { mentionListener } from './slack/listeners/mention.js';

export interface BotDeps {
  logger: Logger;
  history: HistoryStore;
  budget?: EditBudget;
  dedupe?: EventDedupe;
}

export interface Bot {
  app: App;
  conversation: Conversation;
  scheduler: EditScheduler;
  /** Starts listening; resolves with the HTTP port in HTTP mode (useful with PORT=0). */
  start(): Promise<number | undefined>;
  /** Stops taking events, lets answers finish for `graceMs`, cuts the rest short, closes the stores. */
  stop(graceMs: number): Promise<void>;
}

/** Questions that may wait behind a thread's running answer before the user is asked to wait. */
const MAX_WAITING_PER_THREAD = 5;

/** Builds the Bolt app and the answer pipeline from the configuration; nothing listens until `start()`. */
export function createBot(config: Config, deps: BotDeps): Bot {
  const { logger, history } = deps;
  const slackApiUrl = config.SLACK_API_URL;
  const web = new WebClient(config.SLACK_BOT_TOKEN, {
    slackApiUrl,
    logger: toBoltLogger(logger),
    // Posts retry for about a minute, not the WebClient's default half hour: a late answer helps no one.
    retryConfig: { retries: 5, factor: 2, minTimeout: 1000, maxTimeout: 30_000, randomize: true },
  });
  const edits = new WebClient(config.SLACK_BOT_TOKEN, {
    slackApiUrl,
    logger: toBoltLogger(logger),
    rejectRateLimitedCalls: true,
    retryConfig: { retries: 0 },
    timeout: 10_000,
  });
  const scheduler = new EditScheduler({
    intervalMs: config.EDIT_INTERVAL_MS,
    budget: deps.budget ?? new MemoryEditBudget(config.SLACK_EDITS_PER_MINUTE),
    logger,
  });
  const anthropic = new Anthropic({ apiKey: config.ANTHROPIC_API_KEY, baseURL: config.ANTHROPIC_BASE_URL ?? null });
  const conversation = new Conversation({
    claude: new ClaudeStream(anthropic, {
      model: config.CLAUDE_MODEL,
      maxTokens: config.CLAUDE_MAX_TOKENS,
      idleTimeoutMs: config.STREAM_IDLE_TIMEOUT_MS,
    }),
    history,
    slack: { web, edits },
    scheduler,
    logger,
    options: {
      systemPrompt: config.SYSTEM_PROMPT,
      maxTokens: config.CLAUDE_MAX_TOKENS,
      retries: config.STREAM_RETRIES,
      maxWaitingPerThread: MAX_WAITING_PER_THREAD,
    },
  });

  const boltLogger = toBoltLogger(logger);
  const receiver = config.SLACK_APP_TOKEN
    ? undefined
    : new HTTPReceiver({ signingSecret: config.SLACK_SIGNING_SECRET!, logger: boltLogger });
  const app = new App({
    token: config.SLACK_BOT_TOKEN,
    logger: boltLogger,
    clientOptions: { slackApiUrl },
    ...(receiver ? { receiver } : { socketMode: true, appToken: config.SLACK_APP_TOKEN }),
  });
  let draining = false;
  const server = receiver && createHttpServer(receiver, () => draining);

  const dedupe = deps.dedupe ?? new MemoryEventDedupe();
  app.use(ignoreRedeliveries(dedupe, logger));
  const listenerDeps: ListenerDeps = { conversation, web, logger, slashCommand: config.SLASH_COMMAND };
  app.event('app_mention', mentionListener(listenerDeps));
  app.message(directMessageListener(listenerDeps));
  app.command(config.SLASH_COMMAND, askCommandListener(listenerDeps));
  app.error(async (error) => {
    logger.error({ err: error }, 'unhandled error in a Slack listener');
  });

  return {
    app,
    conversation,
    scheduler,
    async start() {
      if (!server) {
        await app.start();
        return undefined;
      }
      server.listen(config.PORT);
      await once(server, 'listening');
      return (server.address() as AddressInfo).port;
    },
    async stop(graceMs) {
      draining = true;
      if (!server) await app.stop();
      await conversation.drain(graceMs);
      if (server) {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
      await history.close();
      await dedupe.close();
    },
  };
}

/** Drops a delivery of an event already being handled (Slack retries after 3 s, or another instance got it). */
function ignoreRedeliveries(dedupe: EventDedupe, logger: Logger): Middleware<AnyMiddlewareArgs> {
  return async ({ body, next }) => {
    const eventId = 'event_id' in body && typeof body.event_id === 'string' ? body.event_id : undefined;
    if (eventId && !(await dedupe.claim(eventId))) {
      logger.info({ eventId }, 'ignoring a redelivered event');
      return;
    }
    await next();
  };
}
