import Anthropic from '@anthropic-ai/sdk';
import { App, HTTPReceiver, type Middleware, type AnyMiddlewareArgs } from '@slack/bolt';
import { WebClient } from '@slack/web-api';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { ClaudeStream } from './claude/claudeStream.js';
import type { Config } from './config.js';
import { Conversation } from './conversation.js';
import { toBoltLogger, type Logger } from './logger.js';
import { EditScheduler } from './slack/editScheduler.js';
import type { EventDedupe } from './slack/eventDedupe.js';
import { createHttpServer } from './slack/httpServer.js';
import { askCommandListener } from './slack/listeners/askCommand.js';
import { directMessageListener } from './slack/listeners/directMessage.js';
import type { ListenerDeps } from './slack/listeners/handlePrompt.js';
import { mentionListener } from './slack/listeners/mention.js';
import type { Stores } from './stores.js';

export interface BotDeps {
  logger: Logger;
  stores: Stores;
  /** This process's id among instances sharing the stores. */
  instanceId?: string;
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
/** How often this instance says it is alive and looks for answers orphaned by a crashed one. */
const HEARTBEAT_MS = 5_000;

/** Builds the Bolt app and the answer pipeline from the configuration; nothing listens until `start()`. */
export function createBot(config: Config, deps: BotDeps): Bot {
  const { logger, stores } = deps;
  const instanceId = deps.instanceId ?? randomUUID();
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
    budget: stores.budget,
    logger,
  });
  const anthropic = new Anthropic({ apiKey: config.ANTHROPIC_API_KEY, baseURL: config.ANTHROPIC_BASE_URL ?? null });
  const conversation = new Conversation({
    claude: new ClaudeStream(anthropic, {
      model: config.CLAUDE_MODEL,
      maxTokens: config.CLAUDE_MAX_TOKENS,
      idleTimeoutMs: config.STREAM_IDLE_TIMEOUT_MS,
    }),
    history: stores.history,
    lock: stores.lock,
    inflight: stores.inflight,
    instanceId,
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

  app.use(ignoreRedeliveries(stores.dedupe, logger));
  const listenerDeps: ListenerDeps = { conversation, web, logger, slashCommand: config.SLASH_COMMAND };
  app.event('app_mention', mentionListener(listenerDeps));
  app.message(directMessageListener(listenerDeps));
  app.command(config.SLASH_COMMAND, askCommandListener(listenerDeps));
  app.error(async (error) => {
    logger.error({ err: error }, 'unhandled error in a Slack listener');
  });

  /** Keeps this instance alive in the registry and finishes answers that a crashed instance left behind. */
  const recoverOrphans = async () => {
    try {
      await stores.inflight.heartbeat(instanceId);
      for (const orphan of await stores.inflight.claimOrphans(instanceId)) {
        logger.warn({ channel: orphan.channel, replyTs: orphan.replyTs }, 'answering again a question left unfinished by a crash');
        void conversation.resume(orphan).catch((error: unknown) => logger.error({ err: error }, 'could not resume an answer'));
      }
    } catch (error) {
      logger.warn({ err: error }, 'could not check for unfinished answers');
    }
  };
  let heartbeat: NodeJS.Timeout | undefined;

  return {
    app,
    conversation,
    scheduler,
    async start() {
      await recoverOrphans();
      heartbeat = setInterval(recoverOrphans, HEARTBEAT_MS);
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
      clearInterval(heartbeat);
      if (!server) await app.stop();
      await conversation.drain(graceMs);
      if (server?.listening) {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
      await stores.close();
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
