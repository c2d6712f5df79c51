import type { BufferedIncomingMessage } from '@slack/bolt';
import { isRoutableSlackBody } from '../../src/slack/requestBody.js';

const asJson = (body: unknown) =>
  ({ headers: { 'content-type': 'application/json' }, rawBody: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)) }) as BufferedIncomingMessage;
const asForm = (fields: Record<string, string>) =>
  ({ headers: { 'content-type': 'application/x-www-form-urlencoded' }, rawBody: Buffer.from(new URLSearchParams(fields).toString()) }) as BufferedIncomingMessage;
const asPayload = (payload: unknown) => asForm({ payload: typeof payload === 'string' ? payload : JSON.stringify(payload) });

const user = { id: 'U123', team_id: 'T0001' };

describe('isRoutableSlackBody', () => {
  test.each<[string, BufferedIncomingMessage]>([
    ['url_verification', asJson({ type: 'url_verification', token: 't', challenge: 'abc' })],
    ['an app_mention', asJson({ type: 'event_callback', team_id: 'T0001', event: { type: 'app_mention', user: 'U1', channel: 'C1', ts: '1.2', text: 'hi' } })],
    ['a user_change event (user is an object)', asJson({ type: 'event_callback', event: { type: 'user_change', user: { id: 'U1' } } })],
    ['a reaction event (item is an object)', asJson({ type: 'event_callback', event: { type: 'reaction_added', user: 'U1', item: { type: 'message', channel: 'C1', ts: '1.2' } } })],
    ['a channel_created event (channel is an object)', asJson({ type: 'event_callback', event: { type: 'channel_created', channel: { id: 'C1', creator: 'U1' } } })],
    ['a slash command', asForm({ command: '/ask', text: 'what is the GIL?', user_id: 'U1', channel_id: 'C1', team_id: 'T0001' })],
    ['a block action', asPayload({ type: 'block_actions', user, team: { id: 'T0001' }, channel: { id: 'C1' }, actions: [{ action_id: 'a' }] })],
    ['a block action from an org-wide install (team null)', asPayload({ type: 'block_actions', user, team: null, enterprise: { id: 'E1' }, actions: [] })],
    ['a global shortcut', asPayload({ type: 'shortcut', user, team: { id: 'T0001' }, callback_id: 'x' })],
    ['a view submission', asPayload({ type: 'view_submission', user, team: { id: 'T0001' }, view: { id: 'V1' } })],
    ['an options request', asPayload({ type: 'block_suggestion', user, team: { id: 'T0001' }, action_id: 'a', value: 'q' })],
  ])('accepts %s', (_name, req) => {
    expect(isRoutableSlackBody(req)).toBe(true);
  });

  test.each<[string, BufferedIncomingMessage]>([
    ['invalid JSON', asJson('{"type": ')],
    ['JSON null', asJson('null')],
    ['a JSON array', asJson('[]')],
    ['a JSON string', asJson('"event_callback"')],
    ['payload=null', asPayload('null')],
    ['payload that is not JSON', asPayload('{')],
    ['an empty object', asJson({})],
    ['an event that is null', asJson({ type: 'event_callback', event: null })],
    ['an event without a type', asJson({ type: 'event_callback', event: { user: 'U1' } })],
    ['an event whose user is null', asJson({ type: 'event_callback', event: { type: 'app_mention', user: null } })],
    ['an event whose item is a string', asJson({ type: 'event_callback', event: { type: 'reaction_added', item: 'x' } })],
    ['a command that is not a string', asJson({ command: 5 })],
    ['an interaction without a user', asPayload({ type: 'block_actions', actions: [] })],
    ['actions that are not a list', asPayload({ type: 'block_actions', user, actions: 5 })],
    ['a view submission without a view', asPayload({ type: 'view_submission', user })],
    ['a channel that is null', asPayload({ type: 'shortcut', user, channel: null })],
  ])('refuses %s', (_name, req) => {
    expect(isRoutableSlackBody(req)).toBe(false);
  });
});
