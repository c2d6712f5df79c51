import { WebClient } from '@slack/web-api';
import type { Config } from '../config.js';
import { toBoltLogger, type Logger } from '../logger.js';
import { countingFetch, type SlackCallReport } from '../metrics/countingFetch.js';
import { createNodeFetch } from '../http/nodeFetch.js';

/** The Slack clients: posts and edits must not use the WebClient's automatic retries (a second message; stale text). */
export interface SlackClients {
  /** Other posts (notes, usage hints), deletes, ephemerals: the WebClient's own retries are right for them. */
  web: WebClient;
  /**
   * Posts that must not be repeated (an answer's messages, the /ask echo): no retries and 429s thrown, because a
   * post re-sent after a lost answer may be a second message; postOnce.ts retries, and looks for the first one first.
   */
  posts: WebClient;
  /** chat.update only: `rejectRateLimitedCalls: true`, no retries; the edit scheduler handles failures. */
  edits: WebClient;
  /**
   * Reads that only add context (conversations.replies, users.info, conversations.info, files.info): a 429
   * throws at once and a call gives up after 10 s, because an answer without context beats a late answer.
   */
  reads: WebClient;
}

/**
 * Builds the clients against SLACK_API_URL. On a 429 @slack/web-api 8 pauses its whole queue and then
 * re-sends the same call; for an edit that call is stale by then, so edits get a client that throws
 * `WebAPIRateLimitedError` instead (https://docs.slack.dev/tools/node-slack-sdk/web-api#rate-limits).
 * All four send through one `createNodeFetch('whole')` (Node's own HTTP layer, not the undici 7 Agent Bolt installs under fetch).
 * `report`, when given, is told the method and result of every request the four clients send.
 */
export function createSlackClients(config: Config, logger: Logger, report?: SlackCallReport): SlackClients {
  const slackFetch = createNodeFetch('whole');
  const options = { slackApiUrl: config.SLACK_API_URL, logger: toBoltLogger(logger), fetch: report ? countingFetch(report, slackFetch) : slackFetch };
  return {
    web: new WebClient(config.SLACK_BOT_TOKEN, {
      ...options,
      // About a minute of retries, not the WebClient's default half hour: a late answer helps no one.
      retryConfig: { retries: 5, factor: 2, minTimeout: 1000, maxTimeout: 30_000, randomize: true },
    }),
    posts: new WebClient(config.SLACK_BOT_TOKEN, {
      ...options,
      rejectRateLimitedCalls: true,
      retryConfig: { retries: 0 },
      timeout: 10_000,
    }),
    edits: new WebClient(config.SLACK_BOT_TOKEN, {
      ...options,
      rejectRateLimitedCalls: true,
      retryConfig: { retries: 0 },
      timeout: 10_000,
    }),
    reads: new WebClient(config.SLACK_BOT_TOKEN, {
      ...options,
      rejectRateLimitedCalls: true,
      retryConfig: { retries: 1, minTimeout: 250, maxTimeout: 1000 },
      timeout: 10_000,
    }),
  };
}

/**
 * A client for the start-up token checks (`auth.test` with the bot token by default; `apps.connections.open`
 * with the app token): two quick retries and a 10 s timeout per try, so a bad token or an unreachable Slack
 * stops start-up within about half a minute, not after the WebClient's default retries (about half an hour).
 */
export function createStartupClient(config: Config, logger: Logger, token: string = config.SLACK_BOT_TOKEN): WebClient {
  return new WebClient(token, {
    slackApiUrl: config.SLACK_API_URL,
    logger: toBoltLogger(logger),
    retryConfig: { retries: 2, factor: 2, minTimeout: 500, maxTimeout: 2_000, randomize: true },
    timeout: 10_000,
  });
}
