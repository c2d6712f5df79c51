import Anthropic, { APIConnectionError, APIError, APIUserAbortError, AuthenticationError, PermissionDeniedError } from '@anthropic-ai/sdk';
import { modelStatus } from '../claude/modelCheck.js';
import type { Config } from '../config.js';
import { networkReason } from '../slack/botIdentity.js';
import { messageOf, NETWORK_TIMEOUT_MS, noAnswer, withDeadline, type CheckRow } from './checkRow.js';

const NAME = 'Anthropic key and model';
const MODEL_FIX = 'set CLAUDE_MODEL to a current model such as claude-sonnet-5-5';
const KEY_FIX = 'set ANTHROPIC_API_KEY to a valid key (Claude Console → API keys) of a workspace that may use CLAUDE_MODEL';
const UNREACHABLE_FIX = 'check that this host reaches the Anthropic API (ANTHROPIC_BASE_URL, proxy, firewall), then run doctor again';

/**
 * ANTHROPIC_API_KEY and CLAUDE_MODEL in one call, `GET /v1/models/{CLAUDE_MODEL}` (modelStatus, as start-up
 * checks it): a lifecycle and retirement date means the key was accepted. Retired or unknown models fail, a
 * deprecated one warns; a refused key or an unreachable API fails; an API that answers but offers no Models
 * endpoint (some gateways) warns, since the model could not be judged.
 */
export async function checkClaude(config: Config): Promise<CheckRow> {
  const client = new Anthropic({ apiKey: config.ANTHROPIC_API_KEY, baseURL: config.ANTHROPIC_BASE_URL ?? null, maxRetries: 0 });
  const model = config.CLAUDE_MODEL;
  const check = modelStatus(client, model, NETWORK_TIMEOUT_MS).then((status): CheckRow => {
    switch (status.kind) {
      case 'active':
        return { name: NAME, status: 'pass', detail: `key accepted; ${model} is active` };
      case 'deprecated':
        return { name: NAME, status: 'warn', detail: `key accepted; ${model} is deprecated${dated(status.retiresAt, 'and retires on')}: move to a current model such as claude-sonnet-5-5` };
      case 'retired':
        return { name: NAME, status: 'fail', detail: `key accepted; ${model} is retired${dated(status.retiresAt, 'since')}`, fix: MODEL_FIX };
      case 'unknown':
        return { name: NAME, status: 'fail', detail: `key accepted; ${model} is not a model the Anthropic API knows`, fix: MODEL_FIX };
      case 'unverified':
        return unverified(status.error, model);
    }
  });
  return withDeadline(check, () => noAnswer(NAME, 'the Anthropic API', UNREACHABLE_FIX));
}

/** The row when the Models API gave no verdict on `model`, by the SDK's error class. */
function unverified(error: unknown, model: string): CheckRow {
  if (error instanceof AuthenticationError || error instanceof PermissionDeniedError) {
    return { name: NAME, status: 'fail', detail: `ANTHROPIC_API_KEY was refused: ${apiReason(error)}`, fix: KEY_FIX };
  }
  // A timed-out call is aborted by modelStatus's signal (APIUserAbortError) or the SDK's own timeout (a connection error).
  if (error instanceof APIUserAbortError) return noAnswer(NAME, 'the Anthropic API', UNREACHABLE_FIX);
  if (error instanceof APIConnectionError) {
    return { name: NAME, status: 'fail', detail: `could not reach the Anthropic API: ${networkReason(error)}`, fix: UNREACHABLE_FIX };
  }
  if (error instanceof APIError) {
    return { name: NAME, status: 'warn', detail: `${model} not checked: GET /v1/models/${model} answered ${apiReason(error)} (a gateway without the Models API?)` };
  }
  return { name: NAME, status: 'fail', detail: `could not check ${model}: ${messageOf(error)}`, fix: UNREACHABLE_FIX };
}

/** `401 authentication_error: invalid x-api-key`: the status, and the type and message of Anthropic's error body when it has one. */
function apiReason(error: APIError): string {
  const message = (error.error as { error?: { message?: unknown } } | undefined)?.error?.message;
  return typeof message === 'string' ? `${error.status} ${error.type ?? 'error'}: ${message.split('\n')[0]}` : messageOf(error);
}

/** ` <lead> 2026-11-30`, or nothing without a date. */
function dated(date: string | null, lead: string): string {
  return date ? ` ${lead} ${date.slice(0, 10)}` : '';
}
