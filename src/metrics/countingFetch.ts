import type { FetchFunction } from '@slack/web-api';
import type { SlackCallResult } from './botMetrics.js';

/** Told the Web API method and result of each request a WebClient sends. */
export type SlackCallReport = (method: string, result: SlackCallResult) => void;

/**
 * A `fetch` for WebClient's `fetch` option that reports every HTTP request it sends, retries included:
 * HTTP 429 is `ratelimited`, HTTP 200 with `ok: true` is `ok`, anything else (ok:false, another status, no
 * answer) is `error`. The method is the URL's last path segment (`…/api/chat.update` → `chat.update`);
 * the response reaches the WebClient unchanged (its body is read from a clone).
 */
export function countingFetch(report: SlackCallReport, base: typeof fetch = globalThis.fetch): FetchFunction {
  return async (url, init) => {
    const method = new URL(url).pathname.split('/').at(-1) ?? '';
    let response: Response;
    try {
      response = await base(url, init);
    } catch (error) {
      report(method, 'error');
      throw error;
    }
    report(method, await resultOf(response));
    return response;
  };
}

async function resultOf(response: Response): Promise<SlackCallResult> {
  if (response.status === 429) return 'ratelimited';
  if (response.status !== 200) return 'error';
  const body = (await response.clone().json().catch(() => undefined)) as { ok?: unknown } | undefined;
  return body?.ok === true ? 'ok' : 'error';
}
