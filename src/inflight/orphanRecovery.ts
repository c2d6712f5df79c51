import type { Conversation } from '../conversation.js';
import type { Logger } from '../logger.js';
import type { InflightRegistry } from './inflightRegistry.js';

/** How often this instance says it is alive and looks for answers orphaned by a crashed one. */
const HEARTBEAT_MS = 5_000;

/**
 * Keeps this instance alive in the registry and answers again every question a crashed instance left
 * unfinished: at once (the previous run of this process, with sqlite) and then every few seconds (another
 * instance, with Redis, once its heartbeat has expired). Resolves after the first round; returns `stop`.
 */
export async function startOrphanRecovery(
  inflight: InflightRegistry,
  instanceId: string,
  conversation: Conversation,
  logger: Logger,
): Promise<() => void> {
  // One line when the store fails and one when it works again, not one every round of an outage.
  let failing = false;
  const round = async () => {
    let orphans;
    try {
      await inflight.heartbeat(instanceId);
      orphans = await inflight.claimOrphans(instanceId);
    } catch (error) {
      if (!failing) logger.warn({ reason: (error as Error).message }, 'could not check for unfinished answers; trying again every 5 s');
      failing = true;
      return;
    }
    if (failing) logger.info('checking for unfinished answers again');
    failing = false;
    for (const orphan of orphans) {
      logger.warn({ channel: orphan.channel, replyTs: orphan.replyTs }, 'answering again a question left unfinished by a crash');
      void conversation.resume(orphan).catch((error: unknown) => logger.error({ err: error }, 'could not resume an answer'));
    }
  };
  await round();
  const timer = setInterval(round, HEARTBEAT_MS);
  return () => clearInterval(timer);
}
