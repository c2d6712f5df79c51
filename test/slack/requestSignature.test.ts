import { createHmac } from 'node:crypto';
import { checkSlackSignature, SIGNATURE_WINDOW_SECONDS } from '../../src/slack/requestSignature.js';

const SECRET = 'signing-secret';
const NOW_MS = 1_800_000_000_000;
const nowSeconds = NOW_MS / 1000;

/** A request signed at `timestamp` (Unix seconds) the way Slack signs it. */
function signedAt(timestamp: number, body = '{"type":"event_callback"}', secret = SECRET) {
  const signature = `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
  return { body: Buffer.from(body), signature, timestamp: String(timestamp) };
}

describe('checkSlackSignature', () => {
  test('accepts a request signed now, or up to 5 minutes ago or ahead', () => {
    for (const offset of [0, -SIGNATURE_WINDOW_SECONDS, SIGNATURE_WINDOW_SECONDS, -60, 60]) {
      expect(checkSlackSignature(signedAt(nowSeconds + offset), SECRET, NOW_MS)).toBeUndefined();
    }
  });

  test('refuses a timestamp more than 5 minutes in the past or in the future', () => {
    expect(checkSlackSignature(signedAt(nowSeconds - SIGNATURE_WINDOW_SECONDS - 1), SECRET, NOW_MS)).toBe('too_old');
    expect(checkSlackSignature(signedAt(nowSeconds + SIGNATURE_WINDOW_SECONDS + 1), SECRET, NOW_MS)).toBe('in_the_future');
    expect(checkSlackSignature(signedAt(nowSeconds + 365 * 24 * 3600), SECRET, NOW_MS)).toBe('in_the_future');
  });

  test('refuses another secret, a changed body or a changed timestamp', () => {
    expect(checkSlackSignature(signedAt(nowSeconds, undefined, 'other'), SECRET, NOW_MS)).toBe('mismatch');
    expect(checkSlackSignature({ ...signedAt(nowSeconds), body: Buffer.from('{"type":"other"}') }, SECRET, NOW_MS)).toBe('mismatch');
    expect(checkSlackSignature({ ...signedAt(nowSeconds), timestamp: String(nowSeconds + 1) }, SECRET, NOW_MS)).toBe('mismatch');
  });

  test('refuses missing or malformed headers without throwing', () => {
    const good = signedAt(nowSeconds);
    expect(checkSlackSignature({ ...good, signature: undefined }, SECRET, NOW_MS)).toBe('missing_headers');
    expect(checkSlackSignature({ ...good, timestamp: undefined }, SECRET, NOW_MS)).toBe('missing_headers');
    for (const timestamp of ['', 'abc', '1e9', '-5', ' 1800000000', '1800000000.5']) {
      expect(checkSlackSignature({ ...good, timestamp }, SECRET, NOW_MS)).toBe('missing_headers');
    }
    for (const signature of ['', 'v0=', 'v0=zz', 'x'.repeat(1000), good.signature.slice(0, -1)]) {
      expect(checkSlackSignature({ ...good, signature }, SECRET, NOW_MS)).toBe(signature === '' ? 'missing_headers' : 'mismatch');
    }
  });

  test('signs the raw bytes: a body that is not valid UTF-8 is checked as sent', () => {
    const body = Buffer.from([0x7b, 0xff, 0xfe, 0x7d]);
    const signature = `v0=${createHmac('sha256', SECRET).update(`v0:${nowSeconds}:`).update(body).digest('hex')}`;
    expect(checkSlackSignature({ body, signature, timestamp: String(nowSeconds) }, SECRET, NOW_MS)).toBeUndefined();
  });
});
