import { createHmac, timingSafeEqual } from 'node:crypto';

/** How far a request's timestamp may be from now, either way: Slack's 5-minute replay window. */
export const SIGNATURE_WINDOW_SECONDS = 5 * 60;

/** Why a request's signature was refused. */
export type SignatureRejection = 'missing_headers' | 'too_old' | 'in_the_future' | 'mismatch';

/** What Slack sends with each request: the raw body and the two signing headers. */
export interface SignedRequest {
  body: Buffer;
  /** `X-Slack-Signature`, `v0=<hex HMAC-SHA256>`. */
  signature: string | undefined;
  /** `X-Slack-Request-Timestamp`, Unix seconds. */
  timestamp: string | undefined;
}

/**
 * The checks that need no body: both headers present and the timestamp within SIGNATURE_WINDOW_SECONDS of
 * `nowMs`, past or future (Bolt checks only the past, so a request signed with a future timestamp could be
 * replayed for as long as the signer liked). Lets the server refuse a request before reading its body.
 */
export function checkSignatureHeaders(request: Omit<SignedRequest, 'body'>, nowMs: number): SignatureRejection | undefined {
  const { signature, timestamp } = request;
  if (!signature || !timestamp || !/^\d{1,12}$/.test(timestamp)) return 'missing_headers';
  const ageSeconds = nowMs / 1000 - Number(timestamp);
  if (ageSeconds > SIGNATURE_WINDOW_SECONDS) return 'too_old';
  if (ageSeconds < -SIGNATURE_WINDOW_SECONDS) return 'in_the_future';
  return undefined;
}

/**
 * Checks a request against the signing secret (https://docs.slack.dev/authentication/verifying-requests-from-slack):
 * the header checks above, then HMAC-SHA256 of `v0:<timestamp>:<body>`, compared in constant time. Returns
 * why it is refused, or undefined when it is authentic.
 */
export function checkSlackSignature(request: SignedRequest, signingSecret: string, nowMs: number): SignatureRejection | undefined {
  const rejection = checkSignatureHeaders(request, nowMs);
  if (rejection) return rejection;
  const expected = Buffer.from(
    `v0=${createHmac('sha256', signingSecret).update(`v0:${request.timestamp}:`).update(request.body).digest('hex')}`,
  );
  const given = Buffer.from(request.signature!);
  return given.length === expected.length && timingSafeEqual(given, expected) ? undefined : 'mismatch';
}
