import Anthropic, {
  APIConnectionError,
  APIError,
  APIUserAbortError,
  AuthenticationError,
  BadRequestError,
  InternalServerError,
  OverloadedError,
  PermissionDeniedError,
  RateLimitError,
} from '@anthropic-ai/sdk';
import type { StopReason } from '@anthropic-ai/sdk/resources/messages';
import type { Turn } from '../history/historyStore.js';

export type { StopReason };

/** Why an answer could not be completed; user-facing wording for each lives in src/copy.ts. */
export type ClaudeFailureKind =
  | 'auth'
  | 'rate_limited'
  | 'overloaded'
  | 'context_too_long'
  | 'bad_request'
  | 'unreachable'
  | 'unavailable'
  | 'interrupted'
  | 'slow_start'
  | 'aborted';

/** What Claude said about when to try again: a `retry-after(-ms)` header, or an error type meaning it is busy. */
export interface RetryHint {
  /** Milliseconds Claude asked to wait, if it did. */
  afterMs?: number;
  /** Claude reported `overloaded_error` or `rate_limit_error`: back off harder than for a dropped connection. */
  busy: boolean;
}

/** A failed answer: its kind, the text received before it failed, and whether a fresh attempt may succeed. */
export class ClaudeError extends Error {
  override readonly name = 'ClaudeError';
  /** Claude's hint for a retry from scratch, read from the error that ended the stream. */
  readonly retryHint: RetryHint;

  /** `headers`: the streamed response's, when it had begun (a dropped stream's error carries none). */
  constructor(
    readonly kind: ClaudeFailureKind,
    readonly partialText: string,
    options: { cause: unknown; headers?: Headers | null },
  ) {
    super(`Claude request failed: ${kind}`, { cause: options.cause });
    this.retryHint = retryHintOf(options.cause, options.headers);
  }

  /** Failures after the response started (error event, dropped or stalled stream) are retried from scratch;
   *  HTTP errors before it were already retried by the SDK. */
  get retryable(): boolean {
    return this.kind === 'interrupted';
  }
}

export interface ClaudeAnswer {
  text: string;
  stopReason: StopReason | null;
  outputTokens: number;
}

export interface AnswerRequest {
  system: string;
  turns: Turn[];
  /** Called with the whole text so far each time it grows. */
  onText: (textSoFar: string) => void;
  /** Aborting cancels the HTTP stream; the answer then fails with kind 'aborted'. */
  signal?: AbortSignal;
}

export interface ClaudeStreamOptions {
  model: string;
  maxTokens: number;
  /** A stream silent this long is aborted and counts as interrupted (the SDK's own timeout stops at the headers). */
  idleTimeoutMs: number;
  /**
   * The longest wait for Claude's first streamed event, the SDK's own retries included (it honours any
   * `retry-after`, however long): past it the request is aborted and fails with kind 'slow_start'.
   * CLAUDE_FIRST_TOKEN_TIMEOUT_MS.
   */
  firstEventTimeoutMs: number;
}

/** Streams one answer from the Messages API (`messages.stream`), with an idle watchdog and one error funnel. */
export class ClaudeStream {
  constructor(
    private readonly client: Anthropic,
    private readonly options: ClaudeStreamOptions,
  ) {}

  /** Resolves with the whole text and stop_reason, or rejects with a ClaudeError carrying the partial text. */
  async answer({ system, turns, onText, signal }: AnswerRequest): Promise<ClaudeAnswer> {
    const stream = this.client.messages.stream(
      {
        model: this.options.model,
        max_tokens: this.options.maxTokens,
        system,
        messages: turns,
        // Long threads re-send the same prefix each turn: let the API cache it.
        cache_control: { type: 'ephemeral' },
      },
      { timeout: this.options.idleTimeoutMs },
    );
    let text = '';
    let connected = false;
    const watchdog = new IdleWatchdog(this.options.idleTimeoutMs, () => stream.abort());
    // Never touched, only stopped by the first event: a plain deadline on the SDK's request and its retries.
    const firstEvent = new IdleWatchdog(this.options.firstEventTimeoutMs, () => stream.abort());
    firstEvent.start();
    const abortFromCaller = () => stream.abort();
    signal?.addEventListener('abort', abortFromCaller, { once: true });
    if (signal?.aborted) stream.abort();

    stream.on('connect', () => {
      connected = true;
      watchdog.start();
    });
    stream.on('streamEvent', () => {
      firstEvent.stop();
      watchdog.touch();
    });
    stream.on('text', (_delta, snapshot) => {
      text = snapshot;
      onText(snapshot);
    });
    try {
      const message = await stream.finalMessage();
      return { text, stopReason: message.stop_reason, outputTokens: message.usage.output_tokens };
    } catch (error) {
      const kind = firstEvent.fired ? 'slow_start' : classify(error, { connected, idle: watchdog.fired });
      throw new ClaudeError(kind, text, { cause: error, headers: stream.response?.headers });
    } finally {
      firstEvent.stop();
      watchdog.stop();
      signal?.removeEventListener('abort', abortFromCaller);
    }
  }
}

/**
 * Fires once the stream has been silent for `timeoutMs`. `touch` runs for every streamed event, so it only
 * records the time; the one timer checks it when it fires, instead of being re-armed for every token.
 */
class IdleWatchdog {
  fired = false;
  private lastActivity = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly timeoutMs: number,
    private readonly onIdle: () => void,
  ) {}

  start(): void {
    this.touch();
    this.arm(this.timeoutMs);
  }

  touch(): void {
    this.lastActivity = performance.now();
  }

  stop(): void {
    clearTimeout(this.timer);
  }

  private arm(ms: number): void {
    this.timer = setTimeout(() => {
      const silentFor = performance.now() - this.lastActivity;
      if (silentFor < this.timeoutMs) return this.arm(this.timeoutMs - silentFor);
      this.fired = true;
      this.onIdle();
    }, ms);
  }
}

const CONTEXT_TOO_LONG = /prompt is too long|context window|too many tokens/i;

/** Maps an SDK error to a failure kind by class, never by message, except for the 400 that means "too long". */
function classify(error: unknown, { connected, idle }: { connected: boolean; idle: boolean }): ClaudeFailureKind {
  if (idle) return 'interrupted';
  if (error instanceof APIUserAbortError) return 'aborted';
  // Once the response has begun, any failure (an `event: error`, a dropped socket) is a mid-stream interruption.
  if (connected) return 'interrupted';
  if (error instanceof APIConnectionError) return 'unreachable';
  if (error instanceof AuthenticationError || error instanceof PermissionDeniedError) return 'auth';
  if (error instanceof RateLimitError) return 'rate_limited';
  if (error instanceof OverloadedError) return 'overloaded';
  if (error instanceof BadRequestError) return CONTEXT_TOO_LONG.test(error.message) ? 'context_too_long' : 'bad_request';
  if (error instanceof InternalServerError) return 'unavailable';
  if (error instanceof APIError && error.status !== undefined) return 'bad_request';
  return 'interrupted';
}

const BUSY_TYPES = new Set(['overloaded_error', 'rate_limit_error']);

/** Reads the retry hint of an SDK error, from its own headers or else the streamed response's. */
function retryHintOf(error: unknown, responseHeaders: Headers | null | undefined): RetryHint {
  const busy = error instanceof APIError && BUSY_TYPES.has(error.type ?? '');
  const headers = (error instanceof APIError ? error.headers : undefined) ?? responseHeaders;
  const afterMs = Number(headers?.get('retry-after-ms') ?? NaN);
  if (afterMs > 0) return { afterMs, busy };
  const afterSeconds = Number(headers?.get('retry-after') ?? NaN);
  return afterSeconds > 0 ? { afterMs: afterSeconds * 1000, busy } : { busy };
}
