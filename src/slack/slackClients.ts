import { WebClient } from '@slack/web-api';
import type { Config } from '../config.js';
import { toBoltLogger, type Logger } from '../logger.js';

/** The two Slack clients: edits must not use the WebClient's automatic 429 retry, which re-sends stale text. */
export interface SlackClients {
  /** Posts, deletes, ephemerals: the WebClient's own retries are right for them. */
  web: WebClient;
  /** chat.update only: `rejectRateLimitedCalls: true`, no retries; the edit scheduler handles failures. */
  edits: WebClient;
}

/**
 * Builds both clients against SLACK_API_URL. On a 429 @slack/web-api 8 pauses its whole queue and then
 * re-sends the same call; for an edit that call is stale by then, so edits get a client that throws
 * `WebAPIRateLimitedError` instead (https://docs.slack.dev/tools/node-slack-sdk/web-api#rate-limits).
 */
export function createSlackClients(config: Config, logger: Logger): SlackClients {
  const options = { slackApiUrl: config.SLACK_API_URL, logger: toBoltLogger(logger) };
  return {
    web: new WebClient(config.SLACK_BOT_TOKEN, {
      ...options,
      // About a minute of retries, not the WebClient's default half hour: a late answer helps no one.
      retryConfig: { retries: 5, factor: 2, minTimeout: 1000, maxTimeout: 30_000, randomize: true },
    }),
    edits: new WebClient(config.SLACK_BOT_TOKEN, {
      ...options,
      rejectRateLimitedCalls: true,
      retryConfig: { retries: 0 },
      timeout: 10_000,
    }),
  };
}
