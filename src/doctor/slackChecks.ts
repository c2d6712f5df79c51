import { WebAPIPlatformError, WebClient } from '@slack/web-api';
import type { Config } from '../config.js';
import { createLogger, toBoltLogger } from '../logger.js';
import { describeFailure } from '../slack/botIdentity.js';
import { NETWORK_TIMEOUT_MS, noAnswer, skipped, withDeadline, type CheckRow } from './checkRow.js';

/** What manifest.yml asks for, or why it could not be read. */
export type ManifestScopes = { path: string; scopes: readonly string[] } | { problem: string };

/** The bot token's rows, and the scopes Slack says it was granted (undefined when it did not say). */
export interface SlackTokenFindings {
  token: CheckRow;
  scopes: CheckRow;
  granted?: readonly string[];
}

const TOKEN = 'Slack bot token';
const SCOPES = 'Slack scopes';
const MODE = 'Slack connection';
const UNREACHABLE_FIX = 'check that this host reaches Slack (SLACK_API_URL, proxy, firewall), then run doctor again';

/** One try, no retries, a short timeout, nothing logged: each call is one verdict. */
function doctorClient(config: Config, token: string): WebClient {
  return new WebClient(token, {
    slackApiUrl: config.SLACK_API_URL,
    logger: toBoltLogger(createLogger('silent')),
    rejectRateLimitedCalls: true,
    retryConfig: { retries: 0 },
    timeout: NETWORK_TIMEOUT_MS,
  });
}

/** A ❌ for a failed Slack call: Slack's refusal gets `tokenFix`, anything else (unreachable, HTTP error, 429) the network fix. */
function slackFailure(name: string, error: unknown, variable: string, method: string, tokenFix: string): CheckRow {
  return { name, status: 'fail', detail: describeFailure(error, variable, method), fix: error instanceof WebAPIPlatformError ? tokenFix : UNREACHABLE_FIX };
}

/**
 * `auth.test` with SLACK_BOT_TOKEN (https://docs.slack.dev/reference/methods/auth.test): the workspace and bot
 * user; and the token's granted scopes, which Slack lists in every answer's `x-oauth-scopes` header (the
 * WebClient puts them in `response_metadata.scopes`), against the bot scopes manifest.yml asks for. Missing
 * scopes fail; extra ones are fine.
 */
export async function checkBotToken(config: Config, manifest: ManifestScopes): Promise<SlackTokenFindings> {
  const tokenFix = 'set SLACK_BOT_TOKEN to the Bot User OAuth Token (xoxb-…) under OAuth & Permissions; reinstall the app if it was revoked';
  const call = doctorClient(config, config.SLACK_BOT_TOKEN)
    .auth.test()
    .then(
      (result): SlackTokenFindings => {
        if (!result.bot_id) {
          const token: CheckRow = { name: TOKEN, status: 'fail', detail: 'SLACK_BOT_TOKEN is not a bot token: auth.test returned no bot_id', fix: tokenFix };
          return { token, scopes: skipped(SCOPES, 'needs a working bot token') };
        }
        const granted = result.response_metadata?.scopes;
        return {
          token: { name: TOKEN, status: 'pass', detail: `workspace ${result.team} (${result.team_id}), bot user @${result.user} (${result.user_id})` },
          scopes: scopesRow(granted, manifest),
          ...(granted ? { granted } : {}),
        };
      },
      (error: unknown) => ({
        token: slackFailure(TOKEN, error, 'SLACK_BOT_TOKEN', 'auth.test', tokenFix),
        scopes: skipped(SCOPES, 'needs a working bot token'),
      }),
    );
  return withDeadline(call, () => ({ token: noAnswer(TOKEN, 'Slack (auth.test)', UNREACHABLE_FIX), scopes: skipped(SCOPES, 'needs a working bot token') }));
}

/** The granted scopes against the manifest's. */
function scopesRow(granted: readonly string[] | undefined, manifest: ManifestScopes): CheckRow {
  if ('problem' in manifest) return { name: SCOPES, status: 'warn', detail: `not compared: ${manifest.problem}` };
  if (!granted) return { name: SCOPES, status: 'warn', detail: 'not compared: Slack did not list the granted scopes (no x-oauth-scopes header; a proxy in between?)' };
  const missing = manifest.scopes.filter((scope) => !granted.includes(scope));
  if (missing.length === 0) return { name: SCOPES, status: 'pass', detail: `all ${manifest.scopes.length} bot scopes ${manifest.path} asks for are granted` };
  return {
    name: SCOPES,
    status: 'fail',
    detail: `missing ${missing.join(', ')} (asked for in ${manifest.path}, not granted to the token)`,
    fix: 'add them under OAuth & Permissions (or update the manifest) and reinstall the app',
  };
}

/**
 * How Slack reaches the bot. Socket Mode: SLACK_APP_TOKEN asks for a connection URL
 * (https://docs.slack.dev/reference/methods/apps.connections.open) and drops it, opening no socket, so a
 * running bot's connections are untouched. HTTP mode: the signing secret is set (the configuration
 * requires it there) and the port Slack's requests must reach.
 */
export async function checkConnection(config: Config): Promise<CheckRow> {
  if (!config.SLACK_APP_TOKEN) {
    return { name: MODE, status: 'pass', detail: `HTTP mode: signing secret set; Slack must reach POST /slack/events on port ${config.PORT}` };
  }
  const tokenFix = 'set SLACK_APP_TOKEN to an app-level token (xapp-…) with connections:write (Basic Information → App-Level Tokens), with Socket Mode on';
  const call = doctorClient(config, config.SLACK_APP_TOKEN)
    .apps.connections.open()
    .then(
      (result): CheckRow =>
        result.url
          ? { name: MODE, status: 'pass', detail: 'Socket Mode: SLACK_APP_TOKEN can open connections (apps.connections.open)' }
          : { name: MODE, status: 'fail', detail: 'Socket Mode: apps.connections.open returned no Socket Mode URL', fix: tokenFix },
      (error: unknown) => slackFailure(MODE, error, 'SLACK_APP_TOKEN', 'apps.connections.open', tokenFix),
    );
  return withDeadline(call, () => noAnswer(MODE, 'Slack (apps.connections.open)', UNREACHABLE_FIX));
}
