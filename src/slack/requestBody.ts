import { HTTPModuleFunctions, type BufferedIncomingMessage } from '@slack/bolt';

type Fields = Record<string, unknown>;

const isRecord = (value: unknown): value is Fields => typeof value === 'object' && value !== null && !Array.isArray(value);
/** Absent, or of the shape Bolt reads it as. */
const optional = (value: unknown, shape: (value: unknown) => boolean) => value === undefined || shape(value);
const recordOrNull = (value: unknown) => value === null || isRecord(value);
const stringOrRecord = (value: unknown) => typeof value === 'string' || isRecord(value);

/** Interactive payload types Bolt routes without `actions`, `name` or `event` (bolt-js src/helpers.ts). */
const INTERACTIVE_TYPES = new Set(['block_suggestion', 'dialog_submission', 'shortcut', 'message_action', 'view_submission', 'view_closed']);

/**
 * True when Bolt can make sense of a verified request's body: it parses exactly as Bolt parses it (JSON,
 * or a form with an optional JSON `payload`), into a body Bolt can route (`url_verification`, an event, a
 * slash command, an interactive payload), whose fields that Bolt reads before any listener runs have the
 * shapes Bolt assumes. Anything else (JSON `null`, `payload=null`, an array, `{"event": 5}`, `{}`) makes
 * Bolt throw outside its error handling, or never acknowledge: the caller answers 400 instead.
 */
export function isRoutableSlackBody(req: BufferedIncomingMessage): boolean {
  let body: unknown;
  try {
    body = HTTPModuleFunctions.parseHTTPRequestBody(req);
  } catch {
    return false;
  }
  if (!isRecord(body)) return false;
  if (body.type === 'url_verification') return true;
  if (body.event !== undefined) return isRoutableEvent(body.event);
  if (body.command !== undefined) return typeof body.command === 'string';
  const interactive =
    body.name !== undefined || body.actions !== undefined || (typeof body.type === 'string' && INTERACTIVE_TYPES.has(body.type));
  return interactive && isRoutableInteraction(body);
}

/** An event: Bolt reads its type, channel, user, item and subteam to find the conversation and the user. */
function isRoutableEvent(event: unknown): boolean {
  return (
    isRecord(event) &&
    typeof event.type === 'string' &&
    optional(event.channel, stringOrRecord) &&
    optional(event.user, stringOrRecord) &&
    optional(event.item, isRecord) &&
    optional(event.subteam, isRecord)
  );
}

/** A button, menu, shortcut or view payload: Bolt reads `user.id`, `team`, `enterprise`, `channel.id`, `view`, `actions[0]`. */
function isRoutableInteraction(body: Fields): boolean {
  return (
    isRecord(body.user) &&
    optional(body.team, recordOrNull) &&
    optional(body.enterprise, recordOrNull) &&
    optional(body.channel, isRecord) &&
    optional(body.view, isRecord) &&
    (body.type === 'view_submission' || body.type === 'view_closed' ? isRecord(body.view) : true) &&
    optional(body.actions, Array.isArray)
  );
}
