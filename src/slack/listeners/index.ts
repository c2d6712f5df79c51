import type { AnyMiddlewareArgs, App, Middleware } from '@slack/bolt';
import type { Logger } from '../../logger.js';
import type { EventDedupe } from '../eventDedupe.js';
import { askCommandListener } from './askCommand.js';
import { directMessageListener } from './directMessage.js';
import type { ListenerDeps } from './handlePrompt.js';
import { mentionListener } from './mention.js';

/** Registers every surface the bot answers on: mentions, DMs and the slash command, behind redelivery checks. */
export function registerListeners(app: App, deps: ListenerDeps & { dedupe: EventDedupe }): void {
  app.use(ignoreRedeliveries(deps.dedupe, deps.logger));
  app.event('app_mention', mentionListener(deps));
  app.message(directMessageListener(deps));
  app.command(deps.slashCommand, askCommandListener(deps));
  app.error(async (error) => {
    deps.logger.error({ err: error }, 'unhandled error in a Slack listener');
  });
}

/** Drops a delivery of an event already being handled (Slack retries after 3 s, or another instance got it). */
function ignoreRedeliveries(dedupe: EventDedupe, logger: Logger): Middleware<AnyMiddlewareArgs> {
  return async ({ body, next }) => {
    const eventId = 'event_id' in body && typeof body.event_id === 'string' ? body.event_id : undefined;
    if (eventId && !(await dedupe.claim(eventId))) {
      logger.info({ eventId }, 'ignoring a redelivered event');
      return;
    }
    await next();
  };
}
