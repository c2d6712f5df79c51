import { WebAPIHTTPError, WebAPIPlatformError, WebAPIRateLimitedError, WebAPIRequestError } from '@slack/web-api';

/** What a failed Slack call means for the caller. */
export type SlackFailure =
  | { kind: 'rate_limited'; retryAfterMs: number }
  /** 5xx, network error or timeout: the same call may succeed later. */
  | { kind: 'transient' }
  /** Slack refused the message itself (too long, bad blocks): send it another way. */
  | { kind: 'rejected'; error: string }
  /** The message or channel is gone or closed to us (deleted, archived, not in channel). */
  | { kind: 'gone'; error: string }
  | { kind: 'other'; error: string };

const REJECTED = new Set(['msg_too_long', 'invalid_blocks', 'msg_blocks_too_long', 'invalid_blocks_format', 'no_text']);
const GONE = new Set([
  'message_not_found',
  'channel_not_found',
  'is_archived',
  'not_in_channel',
  'cant_update_message',
  'account_inactive',
  'invalid_auth',
  'token_revoked',
]);

/** Slack's platform errors that say the same call may succeed later (https://docs.slack.dev/apis/web-api/#errors). */
const TRANSIENT = new Set(['internal_error', 'fatal_error', 'service_unavailable']);

/**
 * The longest pause a Retry-After buys: an answer must not wait an hour on one header (a proxy's, or a Slack
 * outage's); if Slack still limits after it, its next 429 pauses again.
 */
const MAX_RETRY_AFTER_MS = 60_000;

/** The pause when Slack (or a proxy before it) says "rate limited" without saying for how long. */
const DEFAULT_RATE_LIMIT_PAUSE_MS = 5_000;

/**
 * The plain errors @slack/web-api 8 throws for an HTTP 429 it cannot retry: without a usable Retry-After
 * header (a proxy's 429), or still limited after its own retries (WebClient.makeRequest; no class for them).
 */
const RATE_LIMITED_MESSAGE = /^(Retry header did not contain a valid timeout|A rate limit was exceeded) \(url: /;

/** Classifies an error thrown by @slack/web-api by its class and Slack error code. */
export function classifySlackError(error: unknown): SlackFailure {
  if (error instanceof WebAPIRateLimitedError) return { kind: 'rate_limited', retryAfterMs: Math.min(error.retryAfter * 1000, MAX_RETRY_AFTER_MS) };
  if (error instanceof WebAPIHTTPError || error instanceof WebAPIRequestError) return { kind: 'transient' };
  if (error instanceof WebAPIPlatformError) {
    const code = error.data.error;
    if (code === 'ratelimited') return { kind: 'rate_limited', retryAfterMs: DEFAULT_RATE_LIMIT_PAUSE_MS };
    if (REJECTED.has(code)) return { kind: 'rejected', error: code };
    if (GONE.has(code)) return { kind: 'gone', error: code };
    if (TRANSIENT.has(code)) return { kind: 'transient' };
    return { kind: 'other', error: code };
  }
  if (error instanceof Error && RATE_LIMITED_MESSAGE.test(error.message)) return { kind: 'rate_limited', retryAfterMs: DEFAULT_RATE_LIMIT_PAUSE_MS };
  return { kind: 'other', error: error instanceof Error ? error.message : String(error) };
}
