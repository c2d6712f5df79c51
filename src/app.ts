import Anthropic from '@anthropic-ai/sdk';
import { App, HTTPReceiver } from '@slack/bolt';
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { ClaudeStream } from './claude/claudeStream.js';
import { checkModel } from './claude/modelCheck.js';
import { priceTable } from './claude/prices.js';
import type { Config } from './config.js';
import { PromptContext } from './context/promptContext.js';
import { Conversation } from './conversation.js';
import { createNodeFetch } from './http/nodeFetch.js';
import { startOrphanRecovery } from './inflight/orphanRecovery.js';
import { toBoltLogger, type Logger } from './logger.js';
import { BotMetrics } from './metrics/botMetrics.js';
import { createMetricsServer, metricsRoutes } from './metrics/metricsServer.js';
import { fetchBotIdentity, type BotIdentity } from './slack/botIdentity.js';
import { AccessPolicy } from './slack/accessPolicy.js';
import { RefusalNotices } from './slack/refusalNotices.js';
import { AgentSessions } from './slack/agentSessions.js';
import { SlackDirectory } from './slack/directory.js';
import { EditScheduler } from './slack/editScheduler.js';
import { FileReader } from './slack/fileReader.js';
import { createHttpServer, listen } from './slack/httpServer.js';
import { registerListeners } from './slack/listeners/index.js';
import { applyStop } from './slack/listeners/stop.js';
import { createSlackClients, createStartupClient } from './slack/slackClients.js';
import { StreamingSupport } from './slack/nativeStream.js';
import { startSocketMode } from './slack/socketMode.js';
import { ThreadReader } from './slack/threadReader.js';
import type { Stores } from './stores.js';
import { DailyLimits } from './usage/dailyLimits.js';

export interface BotDeps {
  logger: Logger;
  stores: Stores;
  /** This process's id among instances sharing the stores. */
  instanceId?: string;
}

export interface Bot {
  app: App;
  conversation: Conversation;
  metrics: BotMetrics;
  /** Who the bot is (from auth.test at start-up); undefined until `start()` has confirmed the token. */
  identity(): BotIdentity | undefined;
  /**
   * Confirms SLACK_BOT_TOKEN with auth.test (throws SlackTokenError, one line, if Slack refuses it or cannot be
   * reached) and CLAUDE_MODEL with the Models API (throws ConfigError if unknown or retired; warns if
   * deprecated or unverifiable), then starts listening; resolves with the HTTP port in HTTP mode (useful with PORT=0).
   */
  start(): Promise<number | undefined>;
  /** The port of the METRICS_PORT server once started (useful with METRICS_PORT=0); undefined without one. */
  metricsPort(): number | undefined;
  /** Stops taking events, lets answers finish for `graceMs`, cuts the rest short, closes the stores. */
  stop(graceMs: number): Promise<void>;
}

/** Questions that may wait behind a thread's running answer before the user is asked to wait. */
const MAX_WAITING_PER_THREAD = 5;

/** Builds the Bolt app and the answer pipeline from the configuration; nothing listens until `start()`. */
export function createBot(config: Config, { logger, stores, instanceId = randomUUID() }: BotDeps): Bot {
  const metrics: BotMetrics = new BotMetrics({ model: config.CLAUDE_MODEL, prices: priceTable(config.CLAUDE_PRICES), load: () => conversation.load, logger });
  const slack = createSlackClients(config, logger, (method, result) => metrics.slackCalled(method, result));
  // Claude's events over Node's own HTTP layer, not undici 7's Agent: less CPU per answer and per token (src/http/nodeFetch.ts).
  const anthropic = new Anthropic({ apiKey: config.ANTHROPIC_API_KEY, baseURL: config.ANTHROPIC_BASE_URL ?? null, fetch: createNodeFetch('streamed') });
  let identity: BotIdentity | undefined;
  const directory = new SlackDirectory(slack.reads, () => identity?.botUserId, logger);
  const context = new PromptContext({
    history: stores.history,
    reader: new ThreadReader(slack.reads, directory, () => identity),
    directory,
    files: new FileReader(slack.reads, { botToken: config.SLACK_BOT_TOKEN, maxBytes: config.FILE_MAX_BYTES, logger }),
    options: { systemPrompt: config.SYSTEM_PROMPT, threadContext: config.THREAD_CONTEXT === 'on', maxChars: config.THREAD_CONTEXT_MAX_CHARS },
  });
  // The edits client: a 429 must reach AgentSessions (which retries `active` once), not pause the answers' client.
  const sessions = new AgentSessions(slack.edits, logger, stores.budgets['agents.sessions.setStatus']);
  const conversation = new Conversation({
    claude: new ClaudeStream(anthropic, {
      model: config.CLAUDE_MODEL,
      maxTokens: config.CLAUDE_MAX_TOKENS,
      effort: config.CLAUDE_EFFORT,
      thinkingDisplay: config.THINKING_DISPLAY,
      idleTimeoutMs: config.STREAM_IDLE_TIMEOUT_MS,
      firstEventTimeoutMs: config.CLAUDE_FIRST_TOKEN_TIMEOUT_MS,
    }),
    context,
    lock: stores.lock,
    inflight: stores.inflight,
    instanceId,
    limits: new DailyLimits({
      ledger: stores.usage,
      userLimit: config.USER_DAILY_TOKEN_LIMIT,
      workspaceLimit: config.WORKSPACE_DAILY_TOKEN_LIMIT,
      model: config.CLAUDE_MODEL,
      logger,
    }),
    metrics,
    slack,
    scheduler: new EditScheduler({ intervalMs: config.EDIT_INTERVAL_MS, budgets: stores.budgets, logger }),
    thinkingDisplay: config.THINKING_DISPLAY,
    feedbackButtons: config.FEEDBACK_BUTTONS === 'on',
    streaming: new StreamingSupport(config.SLACK_STREAMING, logger),
    sessions,
    logger,
    options: {
      maxTokens: config.CLAUDE_MAX_TOKENS,
      retries: config.STREAM_RETRIES,
      maxWaitingPerThread: MAX_WAITING_PER_THREAD,
      userMaxConcurrent: config.USER_MAX_CONCURRENT,
      maxConcurrentAnswers: config.MAX_CONCURRENT_ANSWERS,
    },
  });

  const boltLogger = toBoltLogger(logger);
  // Bolt's receiver is only ever reached through createHttpServer, which has checked the signature (and the
  // timestamp, and the body's size) before handing the request over: checking it twice cost a second HMAC on
  // every event, on the path to the placeholder.
  const receiver = config.SLACK_APP_TOKEN
    ? undefined
    : new HTTPReceiver({ signingSecret: config.SLACK_SIGNING_SECRET!, signatureVerification: false, logger: boltLogger });
  const app = new App({
    // Given a `token`, Bolt calls auth.test in its constructor and an invalid token becomes an unhandled
    // rejection; `start()` checks the token itself and Bolt authorizes every event with what it learnt.
    authorize: async () => {
      if (!identity) throw new Error('the bot token has not been checked yet');
      return { botToken: config.SLACK_BOT_TOKEN, botId: identity.botId, botUserId: identity.botUserId, teamId: identity.teamId };
    },
    logger: boltLogger,
    clientOptions: { slackApiUrl: config.SLACK_API_URL },
    // Bolt's conversation store keeps state per conversation for listeners that ask for it; ours never do.
    convoStore: false,
    ...(receiver ? { receiver } : { socketMode: true, appToken: config.SLACK_APP_TOKEN }),
  });
  stores.stops.subscribe((request) => void applyStop(request, { conversation, web: slack.web, logger }));
  registerListeners(app, {
    conversation,
    stops: stores.stops,
    web: slack.web,
    logger,
    slashCommand: config.SLASH_COMMAND,
    dedupe: stores.dedupe,
    directory,
    access: new AccessPolicy(
      { allowedChannels: config.ALLOWED_CHANNELS, allowDms: config.ALLOW_DMS, allowExternalUsers: config.ALLOW_EXTERNAL_USERS },
      (userId) => directory.user(userId),
      logger,
    ),
    refusalNotices: new RefusalNotices(),
    slack,
    identity: () => identity,
    // The prompts are best effort like the context reads: a 429 throws at once instead of pausing the answers' client.
    // None while DMs are turned off: they would invite questions the bot refuses.
    messagesTab: { client: slack.reads, prompts: config.ALLOW_DMS ? config.SUGGESTED_PROMPTS : [] },
    model: config.CLAUDE_MODEL,
    metrics,
  });

  let draining = false;
  const probes = { isDraining: () => draining, ready: () => stores.ready(), logger };
  const server =
    receiver && createHttpServer({ receiver, signingSecret: config.SLACK_SIGNING_SECRET!, ...probes, routes: metricsRoutes(metrics.registry) });
  const metricsServer = config.METRICS_PORT === undefined ? undefined : createMetricsServer({ registry: metrics.registry, ...probes });
  let metricsPort: number | undefined;
  let stopRecovery = () => {};
  return {
    app,
    conversation,
    metrics,
    identity: () => identity,
    metricsPort: () => metricsPort,
    async start() {
      [identity] = await Promise.all([fetchBotIdentity(createStartupClient(config, logger)), checkModel(anthropic, config.CLAUDE_MODEL, { logger })]);
      if (!identity.appId) logger.warn('could not learn the app id (bots.info needs the users:read scope): requests are checked by workspace only');
      // Every start-up check (app token, port) before orphans are resumed: a failed start must not leave them half-answered.
      let port: number | undefined;
      if (metricsServer) metricsPort = await listen(metricsServer, config.METRICS_PORT!, { variable: 'METRICS_PORT', host: config.METRICS_HOST });
      if (server) port = await listen(server, config.PORT);
      else await startSocketMode(app, createStartupClient(config, logger, config.SLACK_APP_TOKEN));
      stopRecovery = await startOrphanRecovery(stores.inflight, instanceId, conversation, logger);
      return port;
    },
    async stop(graceMs) {
      draining = true;
      stopRecovery();
      if (!server) await app.stop();
      await conversation.drain(graceMs);
      sessions.close();
      await Promise.all([close(server), close(metricsServer)]);
      await stores.close();
    },
  };
}

/** Closes `server`, its open connections included, if it is listening. */
async function close(server: Server | undefined): Promise<void> {
  if (!server?.listening) return;
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}
