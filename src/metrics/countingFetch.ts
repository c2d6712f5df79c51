import type { FetchFunction } from '@slack/web-api';
import type { NodeFetch } from '../http/nodeFetch.js';
import type { SlackCallResult } from './botMetrics.js';

/** Told the Web API method and result of each request a WebClient sends. */
export type SlackCallReport = (method: string, result: SlackCallResult) => void;

/**
 * A `fetch` for WebClient's `fetch` option that reports every HTTP request it sends, retries included:
 * HTTP 429 is `ratelimited`, HTTP 200 with `ok: true` is `ok`, anything else (ok:false, another status, no
 * answer) is `error`. The method is the URL's last path segment (`…/api/chat.update` → `chat.update`);
 * the WebClient gets the same status, headers and body text (read once here: a `clone()` would tee the body
 * into two more streams on every Slack call). `base` sends the requests.
 */
export function countingFetch(report: SlackCallReport, base: NodeFetch): FetchFunction {
  return async (url, init) => {
    const method = new URL(url).pathname.split('/').at(-1) ?? '';
    let response: Response;
    let text: string;
    try {
      response = await base(url, init);
      text = await response.text();
    } catch (error) {
      report(method, 'error');
      throw error;
    }
    report(method, resultOf(response.status, text));
    return new Response(text, response);
  };
}

function resultOf(status: number, text: string): SlackCallResult {
  if (status === 429) return 'ratelimited';
  if (status !== 200) return 'error';
  const body = parsed(text) as { ok?: unknown } | undefined;
  return body?.ok === true ? 'ok' : 'error';
}

function parsed(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
