import type Anthropic from '@anthropic-ai/sdk';
import { APIError } from '@anthropic-ai/sdk';
import { ConfigError } from '../config.js';
import type { Logger } from '../logger.js';

/** How long start-up waits for the model check before starting without it. */
export const MODEL_CHECK_TIMEOUT_MS = 5_000;

/**
 * What the Models API says of a model id (`GET /v1/models/{id}`, `client.models.retrieve`: `lifecycle`,
 * `retires_at`). `unknown` and `retired` are the API's own verdicts; `unverified` means no verdict (a gateway
 * without the endpoint, a refused key, a network failure, no answer in time), with the error that stood in the way.
 */
export type ModelStatus =
  | { kind: 'active' }
  | { kind: 'deprecated'; retiresAt: string | null }
  | { kind: 'retired'; retiresAt: string | null }
  | { kind: 'unknown' }
  | { kind: 'unverified'; error: unknown };

/**
 * Asks the Models API about `model` once, without retries, within `timeoutMs` (body included), and classifies
 * the answer. Never rejects.
 */
export async function modelStatus(client: Anthropic, model: string, timeoutMs = MODEL_CHECK_TIMEOUT_MS): Promise<ModelStatus> {
  let info: Awaited<ReturnType<Anthropic['models']['retrieve']>>;
  try {
    // The signal bounds the whole call, body included (the SDK's timeout stops at the headers).
    info = await client.models.retrieve(model, null, { maxRetries: 0, timeout: timeoutMs, signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    return isUnknownModel(error) ? { kind: 'unknown' } : { kind: 'unverified', error };
  }
  switch (info.lifecycle) {
    case 'active':
      return { kind: 'active' };
    case 'deprecated':
    case 'retired':
      return { kind: info.lifecycle, retiresAt: info.retires_at ?? null };
  }
}

/**
 * Checks CLAUDE_MODEL once at start-up (modelStatus). Throws ConfigError (one line naming CLAUDE_MODEL) only
 * when the API itself says so: a 404 `not_found_error`, or `lifecycle: 'retired'`. A deprecated model
 * is logged as a warning with its retirement date. Anything else — a gateway without the endpoint (a 404,
 * 405 or 501 that is not Anthropic's), a refused key, a network failure, no answer within `timeoutMs` — is a
 * warning: the bot starts, and its answers say what goes wrong.
 */
export async function checkModel(
  client: Anthropic,
  model: string,
  { logger, timeoutMs = MODEL_CHECK_TIMEOUT_MS }: { logger: Logger; timeoutMs?: number },
): Promise<void> {
  const status = await modelStatus(client, model, timeoutMs);
  switch (status.kind) {
    case 'unknown':
      throw new ConfigError(`CLAUDE_MODEL=${model} is not a model the Anthropic API knows; use a current id such as claude-sonnet-5-5`);
    case 'retired':
      throw new ConfigError(`CLAUDE_MODEL=${model} is retired; use a current id such as claude-sonnet-5-5`);
    case 'deprecated':
      logger.warn(
        { model, retiresAt: status.retiresAt },
        `CLAUDE_MODEL=${model} is deprecated${status.retiresAt ? ` and retires on ${status.retiresAt.slice(0, 10)}` : ''}; move to a current model`,
      );
      return;
    case 'unverified': {
      const { error } = status;
      const { status: httpStatus, type } = error instanceof APIError ? error : { status: undefined, type: undefined };
      logger.warn(
        { model, status: httpStatus, type, error: error instanceof Error ? error.name : String(error) },
        'could not check CLAUDE_MODEL; starting anyway',
      );
      return;
    }
    case 'active':
      return;
  }
}

/**
 * Anthropic's own answer for an unknown model: 404 with its error body, type `not_found_error`. A 404 in any
 * other shape (a gateway's page, another error type) is a route the gateway does not offer, not a verdict.
 */
function isUnknownModel(error: unknown): boolean {
  return error instanceof APIError && error.status === 404 && error.type === 'not_found_error';
}
