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

/** Classifies an error thrown by @slack/web-api by its class and Slack error code. */
export function classifySlackError(error: unknown): SlackFailure {
  if (error instanceof WebAPIRateLimitedError) return { kind: 'rate_limited', retryAfterMs: error.retryAfter * 1000 };
  if (error instanceof WebAPIHTTPError || error instanceof WebAPIRequestError) return { kind: 'transient' };
  if (error instanceof WebAPIPlatformError) {
    const code = error.data.error;
    if (code === 'ratelimited') return { kind: 'rate_limited', retryAfterMs: 1000 };
    if (REJECTED.has(code)) return { kind: 'rejected', error: code };
    if (GONE.has(code)) return { kind: 'gone', error: code };
    if (code === 'internal_error' || code === 'fatal_error' || code === 'service_unavailable') return { kind: 'transient' };
    return { kind: 'other', error: code };
  }
  return { kind: 'other', error: error instanceof Error ? error.message : String(error) };
}
