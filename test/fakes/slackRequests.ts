import { createHmac, randomBytes } from 'node:crypto';
import { nextSlackTs } from './httpUtil.js';
import type { BasicElementAction, BlockAction, FeedbackButtonsAction, types } from '@slack/bolt';

/** An `app_mention` event as Slack delivers it inside `event_callback`. */
export interface MentionEvent {
  type: 'app_mention';
  user: string;
  text: string;
  ts: string;
  channel: string;
  team: string;
  event_ts: string;
  thread_ts?: string;
  [field: string]: unknown;
}

/** A `message` event in a DM (`message.im`). */
export interface DmEvent {
  type: 'message';
  channel_type: 'im';
  channel: string;
  user: string;
  text: string;
  ts: string;
  team: string;
  event_ts: string;
  thread_ts?: string;
  [field: string]: unknown;
}

/** Options for one event delivery. */
export interface DeliverEventOptions {
  retryNum?: number;
  eventId?: string;
  teamId?: string;
  badSignature?: boolean;
  timestamp?: number;
  /** The envelope's `api_app_id` (default `A0001`). */
  apiAppId?: string;
  /** The envelope's `is_ext_shared_channel`: the conversation is shared with another organisation (default false). */
  extShared?: boolean;
  /** The Enterprise Grid organisation of the bot's workspace, in the envelope and its authorization (default none). */
  enterpriseId?: string;
}

/** The fields of a slash command invocation a test usually varies (plus any other form field). */
export interface CommandFields {
  command?: string;
  text: string;
  user_id?: string;
  channel_id?: string;
  team_id?: string;
  response_url?: string;
  api_app_id?: string;
  trigger_id?: string;
}

/** A signed request as Slack would send it, ready to POST (again, for a replay) with `postSigned`. */
export interface SignedRequest {
  body: string;
  headers: Record<string, string>;
}

/** Counter for event ids, trigger ids and response URLs, so every value is unique within a run. */
let sequence = 0;

/** A fresh, unique, increasing message ts at the current time, e.g. `1764000000.123456`, later than any the fake Slack gave out before. */
export function freshTs(): string {
  return nextSlackTs();
}

/** Slack's request-signing headers for `body` (`v0=` HMAC-SHA256 of `v0:<ts>:<body>`). */
export function signSlackRequest(
  secret: string,
  body: string,
  timestamp = Math.floor(Date.now() / 1000),
): Record<string, string> {
  const signature = createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex');
  return { 'X-Slack-Signature': `v0=${signature}`, 'X-Slack-Request-Timestamp': String(timestamp) };
}

/** POSTs a signed `event_callback` envelope carrying `event` to `${baseUrl}/slack/events`. */
export function deliverEvent(
  baseUrl: string,
  secret: string,
  event: object,
  opts: DeliverEventOptions = {},
): Promise<Response> {
  const teamId = opts.teamId ?? 'T0001';
  const enterpriseId = opts.enterpriseId ?? null;
  const body = JSON.stringify({
    token: 'legacy-verification-token',
    team_id: teamId,
    ...(enterpriseId ? { enterprise_id: enterpriseId } : {}),
    context_team_id: teamId,
    context_enterprise_id: enterpriseId,
    api_app_id: opts.apiAppId ?? 'A0001',
    event,
    type: 'event_callback',
    event_id: opts.eventId ?? `Ev${randomBytes(5).toString('hex').toUpperCase()}${++sequence}`,
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [{ enterprise_id: enterpriseId, team_id: teamId, user_id: 'UBOT', is_bot: true, is_enterprise_install: false }],
    is_ext_shared_channel: opts.extShared ?? false,
  });
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    ...signSlackRequest(opts.badSignature ? `${secret}-wrong` : secret, body, opts.timestamp),
  };
  if (opts.retryNum !== undefined) {
    headers['X-Slack-Retry-Num'] = String(opts.retryNum);
    headers['X-Slack-Retry-Reason'] = 'http_timeout';
  }
  return fetch(`${baseUrl}/slack/events`, { method: 'POST', headers, body });
}

/** POSTs a signed, form-encoded slash command to `${baseUrl}/slack/events`, as Slack sends it. */
export function deliverCommand(baseUrl: string, secret: string, fields: CommandFields): Promise<Response> {
  return postSigned(baseUrl, commandRequest(secret, fields));
}

/** POSTs `request` byte for byte to `${baseUrl}/slack/events`. */
export function postSigned(baseUrl: string, request: SignedRequest): Promise<Response> {
  return fetch(`${baseUrl}/slack/events`, { method: 'POST', headers: request.headers, body: request.body });
}

/** A signed, form-encoded slash command invocation (fields left out get Slack-like defaults, a fresh trigger_id). */
export function commandRequest(secret: string, fields: CommandFields): SignedRequest {
  const teamId = fields.team_id ?? 'T0001';
  const channelId = fields.channel_id ?? 'C123';
  const form = new URLSearchParams({
    token: 'legacy-verification-token',
    team_id: teamId,
    team_domain: 'test-team',
    channel_id: channelId,
    channel_name: channelId.startsWith('D') ? 'directmessage' : 'general',
    user_id: fields.user_id ?? 'U123',
    user_name: 'tester',
    command: fields.command ?? '/ask',
    text: fields.text,
    api_app_id: fields.api_app_id ?? 'A0001',
    is_enterprise_install: 'false',
    // Port 1 on loopback refuses connections at once: a bot that calls it fails fast instead of reaching the internet.
    response_url: fields.response_url ?? `http://127.0.0.1:1/commands/${teamId}/${++sequence}/unused`,
    trigger_id: fields.trigger_id ?? `${sequence}.${randomBytes(4).readUInt32BE()}.${randomBytes(8).toString('hex')}`,
  });
  const body = form.toString();
  return { body, headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...signSlackRequest(secret, body) } };
}

/** A mention from someone of another organisation in a Slack Connect channel, as Slack marks it on the event. */
export function externalMention(overrides: Partial<MentionEvent> = {}): Partial<MentionEvent> {
  return {
    user: 'UEXT',
    user_team: 'T0EXT',
    source_team: 'T0EXT',
    team: 'T0EXT',
    user_profile: { name: 'vendor', first_name: 'Val', real_name: 'Val Vendor', display_name: 'val', team: 'T0EXT' },
    ...overrides,
  };
}

/** An `app_mention` event with overridable defaults and a fresh ts (event_ts follows ts unless given). */
export function mentionEvent(overrides: Partial<MentionEvent> = {}): MentionEvent {
  const ts = overrides.ts ?? freshTs();
  return {
    type: 'app_mention',
    user: 'U123',
    text: '<@UBOT> hello',
    channel: 'C123',
    team: 'T0001',
    ...overrides,
    ts,
    event_ts: overrides.event_ts ?? ts,
  };
}

/** A DM `message` event with overridable defaults and a fresh ts (event_ts follows ts unless given). */
export function dmEvent(overrides: Partial<DmEvent> = {}): DmEvent {
  const ts = overrides.ts ?? freshTs();
  return {
    type: 'message',
    channel_type: 'im',
    channel: 'D123',
    user: 'U123',
    text: 'hello',
    team: 'T0001',
    ...overrides,
    ts,
    event_ts: overrides.event_ts ?? ts,
  };
}

// ── Agent events and interactivity (issue #12) ────────────────────────────────────────────────────────────────

/**
 * An `agent_session_stopped` event (the user clicked Slack's Stop while the session was `processing`); the
 * shape of https://docs.slack.dev/reference/events/agent_session_stopped and @slack/types 3
 * `AgentSessionStoppedEvent`. `streaming_message_ts` lists the streams Slack stopped (empty when none ran).
 */
export function agentSessionStoppedEvent(
  fields: Pick<types.AgentSessionStoppedEvent, 'channel' | 'thread_ts'> & Partial<types.AgentSessionStoppedEvent>,
): types.AgentSessionStoppedEvent {
  return { type: 'agent_session_stopped', user: 'U123', streaming_message_ts: [], event_ts: freshTs(), ...fields };
}

/**
 * An `app_home_opened` event for the app's Messages tab (`tab: 'messages'`, no `view`), as
 * https://docs.slack.dev/reference/events/app_home_opened and @slack/types 3 `AppHomeOpenedEvent` describe it.
 */
export function appHomeOpenedEvent(overrides: Partial<types.AppHomeOpenedEvent> = {}): types.AppHomeOpenedEvent {
  return { type: 'app_home_opened', user: 'U123', channel: 'D123', tab: 'messages', event_ts: freshTs(), ...overrides };
}

/** Where a clicked element sits: the message (with its blocks) in a channel, and who clicked. */
export interface ClickFields {
  messageTs: string;
  channel?: string;
  threadTs?: string;
  user?: string;
  team?: string;
  /** The message as Slack echoes it in the payload (its blocks, text…). */
  message?: Record<string, unknown>;
}

/**
 * A `block_actions` payload for a click on a message's element, shaped as
 * https://docs.slack.dev/reference/interaction-payloads/block_actions-payload and Bolt 5's `BlockAction`:
 * `container` `{type: 'message', message_ts, channel_id, is_ephemeral, thread_ts?}`, `team`, `user`, `channel`,
 * `message`, `state`, `response_url`, `trigger_id`, `actions` (the clicked element with a fresh `action_ts`).
 */
export function blockActionsPayload<A extends BasicElementAction>(action: Omit<A, 'action_ts'>, fields: ClickFields): BlockAction<A> {
  const channel = fields.channel ?? 'C123';
  const team = fields.team ?? 'T0001';
  const user = fields.user ?? 'U123';
  const container = {
    type: 'message',
    message_ts: fields.messageTs,
    channel_id: channel,
    is_ephemeral: false,
    ...(fields.threadTs === undefined ? {} : { thread_ts: fields.threadTs }),
  };
  return {
    type: 'block_actions',
    user: { id: user, username: 'tester', name: 'tester', team_id: team },
    api_app_id: 'A0001',
    token: 'legacy-verification-token',
    container,
    trigger_id: `${++sequence}.${randomBytes(4).readUInt32BE()}.${randomBytes(8).toString('hex')}`,
    team: { id: team, domain: 'test-team' },
    is_enterprise_install: false,
    channel: { id: channel, name: channel.startsWith('D') ? 'directmessage' : 'general' },
    message: {
      type: 'message',
      user: 'UBOT',
      ts: fields.messageTs,
      ...(fields.threadTs === undefined ? {} : { thread_ts: fields.threadTs }),
      ...fields.message,
    },
    state: { values: {} },
    // Port 1 on loopback refuses connections at once (see commandRequest).
    response_url: `http://127.0.0.1:1/actions/${team}/${sequence}/unused`,
    actions: [{ ...action, action_ts: freshTs() } as A],
  };
}

/**
 * A click on one of the `feedback_buttons` of a `context_actions` block: the action carries the clicked
 * button's `value` and `text` (Bolt 5 `FeedbackButtonsAction`;
 * https://docs.slack.dev/reference/block-kit/block-elements/feedback-buttons-element).
 */
export function feedbackClick(
  click: { value: string; text?: string; actionId?: string; blockId?: string },
  fields: ClickFields,
): BlockAction<FeedbackButtonsAction> {
  const action = {
    type: 'feedback_buttons' as const,
    action_id: click.actionId ?? 'feedback',
    block_id: click.blockId ?? 'feedback',
    value: click.value,
    text: { type: 'plain_text' as const, text: click.text ?? click.value },
  };
  return blockActionsPayload<FeedbackButtonsAction>(action, fields);
}

/** A signed interactivity request: form-encoded `payload=<JSON>`, as Slack POSTs block_actions. */
export function interactionRequest(secret: string, payload: object): SignedRequest {
  const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
  return { body, headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...signSlackRequest(secret, body) } };
}

/** POSTs a signed interaction payload (e.g. `feedbackClick(…)`) to `${baseUrl}/slack/events`. */
export function deliverInteraction(baseUrl: string, secret: string, payload: object): Promise<Response> {
  return postSigned(baseUrl, interactionRequest(secret, payload));
}
