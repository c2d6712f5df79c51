import type { App } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { checkAppToken, SlackTokenError } from './botIdentity.js';

/** The longest wait for Socket Mode's first connection once the app token is known to be good. */
const FIRST_CONNECTION_TIMEOUT_MS = 30_000;

/**
 * Starts Bolt in Socket Mode: checks SLACK_APP_TOKEN once with `appTokenClient` (checkAppToken), then waits
 * at most 30 s for the first connection, because Bolt's client retries a refused connection forever and
 * would never say why. Throws SlackTokenError, one line naming SLACK_APP_TOKEN, after stopping Bolt.
 */
export async function startSocketMode(app: App, appTokenClient: WebClient, timeoutMs = FIRST_CONNECTION_TIMEOUT_MS): Promise<void> {
  await checkAppToken(appTokenClient);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () => reject(new SlackTokenError(`could not open a Socket Mode connection with SLACK_APP_TOKEN within ${timeoutMs / 1000} s`)),
      timeoutMs,
    );
  });
  const started = app.start().catch((error: unknown) => {
    const reason = (error instanceof Error ? error.message : String(error)).split('\n')[0];
    throw new SlackTokenError(`Socket Mode could not start with SLACK_APP_TOKEN: ${reason}`);
  });
  try {
    await Promise.race([started, timeout]);
  } catch (error) {
    await app.stop().catch(() => undefined);
    throw error;
  } finally {
    clearTimeout(timer);
  }
}
