import { WebAPIHTTPError, WebAPIPlatformError, WebAPIRateLimitedError, WebAPIRequestError, type WebClient } from '@slack/web-api';

/**
 * Who the bot is in Slack, learnt at start-up: `auth.test` (https://docs.slack.dev/reference/methods/auth.test)
 * gives the team, bot user and bot; its documented bot-token answer has no app id, so `appId` comes from
 * `bots.info` (https://docs.slack.dev/reference/methods/bots.info, scope `users:read`), when it answers.
 */
export interface BotIdentity {
  /** The workspace the token belongs to, `T…`. */
  teamId: string;
  /** The bot user, `U…`: what mentions of the bot contain. */
  botUserId: string;
  /** The bot, `B…`: the `bot_id` on the bot's own messages. */
  botId: string;
  /** The app, `A…`: events' envelope `api_app_id`; undefined when bots.info could not tell it. */
  appId?: string;
}

/** Start-up could not confirm a Slack token; the message is one line naming the variable and the reason, never the token. */
export class SlackTokenError extends Error {
  override readonly name = 'SlackTokenError';
}

/**
 * Calls `auth.test` with the bot token and returns the bot's identity, with its app id from `bots.info`
 * when that answers (a missing `users:read` scope, or any failure there, leaves `appId` undefined). Throws
 * SlackTokenError when Slack refuses the token (`invalid_auth`, `token_revoked`, `account_inactive`, …), the
 * token is not a bot's, or Slack cannot be reached or fails: `client`'s retry and timeout settings bound
 * how long that takes.
 */
export async function fetchBotIdentity(client: WebClient): Promise<BotIdentity> {
  const result = await client.auth.test().catch((error: unknown) => {
    throw new SlackTokenError(describeFailure(error, 'SLACK_BOT_TOKEN', 'auth.test'));
  });
  if (!result.team_id || !result.user_id || !result.bot_id) {
    throw new SlackTokenError('SLACK_BOT_TOKEN is not a bot token: auth.test returned no bot_id');
  }
  const appId = await client.bots
    .info({ bot: result.bot_id })
    .then((info) => info.bot?.app_id)
    .catch(() => undefined);
  return { teamId: result.team_id, botUserId: result.user_id, botId: result.bot_id, ...(appId ? { appId } : {}) };
}

/**
 * Asks for a Socket Mode URL once with the app token (`apps.connections.open`,
 * https://docs.slack.dev/reference/methods/apps.connections.open, scope `connections:write`) and drops it:
 * Bolt's Socket Mode client retries a refused token (`token_revoked`, `missing_scope`, `not_allowed_token_type`)
 * forever, so start-up checks it first. Throws SlackTokenError naming SLACK_APP_TOKEN, like fetchBotIdentity.
 */
export async function checkAppToken(client: WebClient): Promise<void> {
  const result = await client.apps.connections.open().catch((error: unknown) => {
    throw new SlackTokenError(describeFailure(error, 'SLACK_APP_TOKEN', 'apps.connections.open'));
  });
  if (!result.url) throw new SlackTokenError('SLACK_APP_TOKEN check failed: apps.connections.open returned no Socket Mode URL');
}

/** One line saying why the check of `variable` (the Slack `method` it called) failed, by the WebClient's error class. */
export function describeFailure(error: unknown, variable: string, method: string): string {
  if (error instanceof WebAPIPlatformError) return `${variable} was refused by Slack: ${error.data.error}`;
  if (error instanceof WebAPIRequestError) {
    return `could not reach Slack to check ${variable} (SLACK_API_URL): ${networkReason(error.original)}`;
  }
  if (error instanceof WebAPIHTTPError) return `Slack answered HTTP ${error.statusCode} to the ${variable} check (${method})`;
  if (error instanceof WebAPIRateLimitedError) return `Slack rate-limited the ${variable} check (${method}); retry after ${error.retryAfter} s`;
  return `could not check ${variable}: ${error instanceof Error ? error.message : String(error)}`;
}

/** The system error code (ECONNREFUSED, ENOTFOUND, …) under fetch's "fetch failed", else the innermost message. */
export function networkReason(error: Error): string {
  let innermost = error;
  for (let cause: unknown = error; cause instanceof Error; cause = cause.cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (typeof code === 'string') return code;
    innermost = cause;
  }
  return innermost.message;
}
