/** What one download gave: the file's bytes, or why there are none. */
export type Download =
  | { kind: 'ok'; bytes: Buffer; contentType: string }
  /** More than `maxBytes` arrived (or were announced): the rest was not read. */
  | { kind: 'too_large' }
  /** Slack's sign-in page instead of the file (https://docs.slack.dev/reference/objects/file-object). */
  | { kind: 'html' }
  /** The URL (or a redirect) leads off Slack's file hosts, so the token was not sent. */
  | { kind: 'foreign_host'; host: string }
  /** An HTTP error, a network failure or the timeout. */
  | { kind: 'failed'; reason: string };

export interface DownloadOptions {
  /** The bot token, sent as `Authorization: Bearer` to trusted hosts only (`files:read`). */
  token: string;
  /** Origins the token may go to (`https://files.slack.com`…). */
  trustedOrigins: ReadonlySet<string>;
  maxBytes: number;
  timeoutMs: number;
  /** The file is itself HTML, so a `text/html` answer is the file, not Slack's sign-in page. */
  htmlIsContent?: boolean;
  signal?: AbortSignal;
}

/** Slack answers a file URL with at most a couple of redirects (a workspace's own domain); more is a loop. */
const MAX_REDIRECTS = 3;

/**
 * Downloads one Slack file with the bot token, streaming and stopping past `maxBytes`. Redirects are followed
 * by hand so that each hop is checked: the token never leaves the trusted origins (fetch itself would carry a
 * redirect on with whatever headers it may keep). Never throws; an abort by `signal` is a `failed` download.
 */
export async function downloadSlackFile(url: string, options: DownloadOptions): Promise<Download> {
  const signal = AbortSignal.any([AbortSignal.timeout(options.timeoutMs), ...(options.signal ? [options.signal] : [])]);
  try {
    let target = new URL(url);
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      if (!options.trustedOrigins.has(target.origin)) return { kind: 'foreign_host', host: target.host };
      const response = await fetch(target, {
        headers: { authorization: `Bearer ${options.token}` },
        redirect: 'manual',
        signal,
      });
      const location = response.headers.get('location');
      if (response.status >= 300 && response.status < 400 && location) {
        await response.body?.cancel();
        target = new URL(location, target);
        continue;
      }
      if (!response.ok) {
        await response.body?.cancel();
        return { kind: 'failed', reason: `HTTP ${response.status}` };
      }
      const contentType = response.headers.get('content-type') ?? '';
      if (!options.htmlIsContent && /^text\/html\b/i.test(contentType)) {
        await response.body?.cancel();
        return { kind: 'html' };
      }
      return await readLimited(response, contentType, options.maxBytes);
    }
    return { kind: 'failed', reason: 'too many redirects' };
  } catch (error) {
    return { kind: 'failed', reason: signal.aborted ? 'timed out or cancelled' : error instanceof Error ? error.message : String(error) };
  }
}

/** Reads the body up to `maxBytes`, cancelling it as soon as it is known to be longer. */
async function readLimited(response: Response, contentType: string, maxBytes: number): Promise<Download> {
  if (Number(response.headers.get('content-length') ?? 0) > maxBytes) {
    await response.body?.cancel();
    return { kind: 'too_large' };
  }
  const chunks: Uint8Array[] = [];
  let length = 0;
  if (response.body) {
    for await (const chunk of response.body) {
      length += chunk.byteLength;
      if (length > maxBytes) {
        // Leaving the loop early cancels the stream (and with it the connection).
        return { kind: 'too_large' };
      }
      chunks.push(chunk);
    }
  }
  return { kind: 'ok', bytes: Buffer.concat(chunks), contentType };
}
