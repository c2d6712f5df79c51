import { ErrorCode, type AnyMiddlewareArgs, type App, type BlockButtonAction, type BlockFeedbackButtonsAction, type Middleware } from '@slack/bolt';
import type { StopRelay } from '../../coordination/stopRelay.js';
import type { Logger } from '../../logger.js';
import type { BotMetrics } from '../../metrics/botMetrics.js';
import { FEEDBACK_ACTION_ID, STOP_ACTION_ID } from '../answerBlocks.js';
import type { BotIdentity } from '../botIdentity.js';
import { askCommandListener } from './askCommand.js';
import type { SurfaceDeps } from './delivery.js';
import { directMessageListener } from './directMessage.js';
import { feedbackListener } from './feedback.js';
import { mentionListener } from './mention.js';
import { messagesTabListener, type MessagesTabDeps } from './messagesTab.js';
import { agentSessionStoppedListener, stopButtonListener } from './stop.js';

/** What the listeners need: the answer pipeline, de-duplication, and the bot's identity (undefined until known). */
export interface ListenersDeps extends SurfaceDeps {
  /** Carries a Stop to the instance running the answer. */
  stops: StopRelay;
  identity: () => BotIdentity | undefined;
  /** The Messages tab's suggested prompts and the best-effort client that sets them. */
  messagesTab: Omit<MessagesTabDeps, 'logger'>;
  /** The model answers come from (CLAUDE_MODEL), logged with each feedback click. */
  model: string;
  /** Counts feedback clicks. */
  metrics: BotMetrics;
}

/** Registers every surface the bot answers on (mentions, DMs, the slash command), the Messages tab's prompts, Stop and the feedback buttons, for this bot's own workspace only. */
export function registerListeners(app: App, deps: ListenersDeps): void {
  app.use(ignoreForeignRequests(deps.identity, deps.logger));
  app.use(ackUnclaimedInteractions);
  app.event('app_mention', mentionListener(deps));
  app.message(directMessageListener(deps));
  app.command(deps.slashCommand, askCommandListener(deps));
  app.event('app_home_opened', messagesTabListener({ ...deps.messagesTab, logger: deps.logger }));
  app.action<BlockFeedbackButtonsAction>(FEEDBACK_ACTION_ID, feedbackListener({ web: deps.web, model: deps.model, logger: deps.logger, metrics: deps.metrics }));
  app.action<BlockButtonAction>(STOP_ACTION_ID, stopButtonListener(deps));
  app.event('agent_session_stopped', agentSessionStoppedListener(deps));
  app.error(async (error) => {
    deps.logger.error({ err: error }, 'unhandled error in a Slack listener');
  });
}

/**
 * Drops requests whose envelope names another workspace (the installation an event is for, else `team_id`) or another
 * app (`api_app_id`): the bot is installed in one workspace. The event's `user_team` (a Slack Connect user) is not checked here: who may
 * ask is the access policy's question (accessPolicy.ts), not a malformed request.
 */
function ignoreForeignRequests(identity: () => BotIdentity | undefined, logger: Logger): Middleware<AnyMiddlewareArgs> {
  return async (args) => {
    const own = identity();
    const envelope = args.body as {
      team_id?: unknown;
      team?: { id?: unknown } | null;
      api_app_id?: unknown;
      authorizations?: { team_id?: unknown }[];
    };
    // Events name the installation they are delivered for in `authorizations`: in a Slack Connect channel another
    // organisation created, the envelope's `team_id` is that organisation's (slackapi/bolt-js#687). Slash commands
    // carry `team_id`; interactive payloads (buttons) carry `team.id`.
    const teamId = envelope.authorizations?.[0]?.team_id ?? envelope.team_id ?? envelope.team?.id;
    const foreignTeam = own !== undefined && teamId !== own.teamId;
    const foreignApp = own?.appId !== undefined && envelope.api_app_id !== own.appId;
    if (!foreignTeam && !foreignApp) {
      await args.next();
      return;
    }
    logger.debug({ teamId, appId: envelope.api_app_id }, 'ignoring a request for another workspace or app');
    // A slash command must still be acknowledged, or Slack shows the user an error; events are acked already.
    if ('ack' in args && typeof args.ack === 'function') await (args.ack as () => Promise<void>)();
  };
}

/**
 * Acknowledges an interactive payload (button, menu, shortcut, view) that no listener acknowledged once they
 * have all run: without an ack, Bolt answers 404 after 3 s and logs an error, and Slack shows the user a
 * warning. Only the feedback buttons have a listener, which acks first: this second ack is then a no-op.
 */
const ackUnclaimedInteractions: Middleware<AnyMiddlewareArgs> = async (args) => {
  await args.next();
  const body = args.body as { command?: unknown; event?: unknown };
  // Events are acked by Bolt itself, slash commands by their listener.
  if (!('ack' in args) || typeof args.ack !== 'function' || body.command !== undefined || body.event !== undefined) return;
  try {
    await (args.ack as () => Promise<void>)();
  } catch (error) {
    if ((error as { code?: unknown }).code !== ErrorCode.ReceiverMultipleAckError) throw error;
  }
};
