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
  const round = async () => {
    try {
      await inflight.heartbeat(instanceId);
      for (const orphan of await inflight.claimOrphans(instanceId)) {
        logger.warn({ channel: orphan.channel, replyTs: orphan.replyTs }, 'answering again a question left unfinished by a crash');
        void conversation.resume(orphan).catch((error: unknown) => logger.error({ err: error }, 'could not resume an answer'));
      }
    } catch (error) {
      logger.warn({ err: error }, 'could not check for unfinished answers');
    }
  };
  await round();
  const timer = setInterval(round, HEARTBEAT_MS);
  return () => clearInterval(timer);
}
