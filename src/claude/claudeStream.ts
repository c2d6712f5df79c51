import Anthropic, {
  AnthropicError,
  APIConnectionError,
  APIError,
  APIUserAbortError,
  AuthenticationError,
  BadRequestError,
  InternalServerError,
  OverloadedError,
  PermissionDeniedError,
  RateLimitError,
  type Middleware,
} from '@anthropic-ai/sdk';
import type { MessageCreateParamsBase, OutputConfig, RawMessageStreamEvent, StopReason } from '@anthropic-ai/sdk/resources/messages';
import type { ThinkingDisplay } from '../config.js';
import type { Turn } from './turn.js';
import { messageOf } from './turnMessages.js';

export type { StopReason };

/** How hard Claude thinks: `output_config.effort` of the Messages API (CLAUDE_EFFORT). */
export type Effort = NonNullable<OutputConfig['effort']>;


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

/**
 * A failed answer: its kind, the text received before it failed, whether a fresh attempt may succeed, and the
 * tokens Claude reported for it before it failed (billed like any other).
 */
export class ClaudeError extends Error {
  override readonly name = 'ClaudeError';
  /** Claude's hint for a retry from scratch, read from the error that ended the stream. */
  readonly retryHint: RetryHint;
  /**
   * The usage of the attempt's message so far (`message_start`, updated by any `message_delta`); undefined when
   * the stream never began (an HTTP error, an unreachable API): Claude reported nothing to count.
   */
  readonly usage?: AnswerUsage;

  /** `headers`: the streamed response's, when it had begun (a dropped stream's error carries none). */
  constructor(
    readonly kind: ClaudeFailureKind,
    readonly partialText: string,
    options: { cause: unknown; headers?: Headers | null; usage?: AnswerUsage },
  ) {
    super(`Claude request failed: ${kind}`, { cause: options.cause });
    this.retryHint = retryHintOf(options.cause, options.headers);
    this.usage = options.usage;
  }

  /** Failures after the response started (error event, dropped or stalled stream) are retried from scratch;
   *  HTTP errors before it were already retried by the SDK. */
  get retryable(): boolean {
    return this.kind === 'interrupted';
  }
}

/** Why Claude declined (`stop_details` of a `refusal`); either field may be null. */
export interface StopDetails {
  /** The policy category, e.g. `cyber`, `bio`, `general_harms`; null when none applies. */
  category: string | null;
  /** A human-readable explanation (not guaranteed stable); null when none is available. */
  explanation: string | null;
}

/** Token counts of one answer, from the final `usage` (absent counters are 0). */
export interface AnswerUsage {
  inputTokens: number;
  cacheCreationInputTokens: number;
  cacheReadInputTokens: number;
  /** All output tokens, thinking included (what max_tokens caps). */
  outputTokens: number;
  /** The thinking share of `outputTokens` (`usage.output_tokens_details.thinking_tokens`). */
  thinkingTokens: number;
}

export interface ClaudeAnswer {
  /** Every `text` block of the answer, in order, concatenated; never thinking or any other block type. */
  text: string;
  stopReason: StopReason | null;
  /** Same as `usage.outputTokens` (kept for existing callers). */
  outputTokens: number;
  usage: AnswerUsage;
  /** Present when Claude said why it stopped (a refusal's category and explanation). */
  stopDetails?: StopDetails;
}

export interface AnswerRequest {
  system: string;
  /** The conversation: starts with a user turn, alternates, and ends with the user's question. */
  turns: Turn[];
  /** Called with the whole text so far (all text blocks, in order) each time it grows. */
  onText: (textSoFar: string) => void;
  /**
   * Called when a thinking block starts (with the thinking so far: '' for the first) and on each thinking
   * delta, with the summarised thinking so far across the answer's thinking blocks (blank-line separated).
   * With THINKING_DISPLAY `status` or `off` the blocks arrive empty: only the start is reported.
   */
  onThinking?: (thinkingSoFar: string) => void;
  /** Aborting cancels the HTTP stream; the answer then fails with kind 'aborted'. */
  signal?: AbortSignal;
}

export interface ClaudeStreamOptions {
  model: string;
  /** max_tokens: thinking and text together (CLAUDE_MAX_TOKENS). */
  maxTokens: number;
  effort: Effort;
  /**
   * `summary` asks the API for summarised thinking (`display: 'summarized'`) and passes it to `onThinking`;
   * `status` and `off` ask for none (`'omitted'`: the thinking block arrives empty, only its start is reported).
   */
  thinkingDisplay: ThinkingDisplay;
  /** A stream silent this long is aborted and counts as interrupted (the SDK's own timeout stops at the headers). */
  idleTimeoutMs: number;
  /**
   * The longest wait for Claude's first streamed event, the SDK's own retries included (it honours any
   * `retry-after`, however long): past it the request is aborted and fails with kind 'slow_start'.
   * CLAUDE_FIRST_TOKEN_TIMEOUT_MS.
   */
  firstEventTimeoutMs: number;
}

/**
 * Streams one answer from the Messages API (`messages.create({ stream: true })`, the SDK's own retries and errors),
 * assembling it from the raw events itself, with first-event and idle watchdogs and one error funnel.
 */
export class ClaudeStream {
  constructor(
    private readonly client: Anthropic,
    private readonly options: ClaudeStreamOptions,
  ) {}

  /**
   * Resolves with the answer's text (text blocks only), stop_reason, stop_details and usage, or rejects with a
   * ClaudeError carrying the partial text. Turns that do not end with the user's fail at once with kind
   * 'bad_request' (the API answers 400 to a trailing assistant turn: "prefill not supported").
   */
  async answer({ system, turns, onText, onThinking, signal }: AnswerRequest): Promise<ClaudeAnswer> {
    if (turns.at(-1)?.role !== 'user') {
      throw new ClaudeError('bad_request', '', { cause: new TypeError("the conversation must end with the user's turn") });
    }
    // One abort for the caller, both watchdogs, the SDK's request, its retries' waits and the body.
    const controller = new AbortController();
    const abort = () => controller.abort();
    const watchdog = new IdleWatchdog(this.options.idleTimeoutMs, abort);
    // Never touched, only stopped by the first event: a plain deadline on the SDK's request and its retries.
    const firstEvent = new IdleWatchdog(this.options.firstEventTimeoutMs, abort);
    const assembly = new AnswerAssembly(onText, onThinking);
    firstEvent.start();
    signal?.addEventListener('abort', abort, { once: true });
    if (signal?.aborted) abort();
    let response: Response | undefined;
    try {
      const streamed = await this.client.messages
        .create(
          { ...this.requestBody(system, turns), stream: true },
          {
            signal: controller.signal,
            timeout: this.options.idleTimeoutMs,
            // Any bytes count as life, the API's `ping`s included (the SDK drops them before its events).
            middleware: [onResponseBytes(() => watchdog.touch())],
          },
        )
        .withResponse();
      response = streamed.response;
      watchdog.start();
      // Liveness comes from the bytes (above), so the per-event path only assembles the answer.
      for await (const event of streamed.data) {
        if (!assembly.started) firstEvent.stop();
        assembly.add(event);
      }
      // The SDK's stream ends quietly when aborted: an abort of the body is still the request's.
      if (controller.signal.aborted) throw new APIUserAbortError();
      return assembly.answer();
    } catch (error) {
      const kind = firstEvent.fired ? 'slow_start' : classify(error, { connected: response !== undefined, idle: watchdog.fired });
      // The usage Claude reported before the failure (message_start, updated by any message_delta) is billed too.
      throw new ClaudeError(kind, assembly.text, { cause: error, headers: response?.headers, usage: assembly.usage });
    } finally {
      firstEvent.stop();
      watchdog.stop();
      signal?.removeEventListener('abort', abort);
    }
  }

  /** The Messages API body: never `temperature`, `top_p` or `top_k` (the 5.x API rejects them). */
  private requestBody(system: string, turns: Turn[]): MessageCreateParamsBase {
    const { model, maxTokens, effort, thinkingDisplay } = this.options;
    return {
      model,
      max_tokens: maxTokens,
      system,
      messages: turns.map(messageOf),
      // Long threads re-send the same prefix each turn: let the API cache it.
      cache_control: { type: 'ephemeral' },
      output_config: { effort },
      // Adaptive thinking cannot be switched off on 5.5; only whether its summary is sent can be chosen.
      thinking: { type: 'adaptive', display: thinkingDisplay === 'summary' ? 'summarized' : 'omitted' },
    };
  }
}

/**
 * Builds the answer from the raw stream events, the way the SDK's MessageStream accumulates its message but
 * keeping only what the bot uses: text blocks by type, never by position (every text delta, in order, is the
 * answer); thinking deltas are the thinking summary; signatures and any other block type reach neither. The usage
 * is message_start's, updated by message_delta's counters (cumulative totals, absent when they do not apply).
 */
class AnswerAssembly {
  text = '';
  /** Undefined until message_start: a stream that never began reported nothing to count. */
  usage: AnswerUsage | undefined;
  private thinking = '';
  /** A new thinking block started after earlier thinking: its first delta starts a new paragraph. */
  private thinkingParagraph = false;
  private stopReason: StopReason | null = null;
  private stopDetails: StopDetails | undefined;
  private stopped = false;

  constructor(
    private readonly onText: (textSoFar: string) => void,
    private readonly onThinking: ((thinkingSoFar: string) => void) | undefined,
  ) {}

  /** message_start has arrived: the stream has begun. */
  get started(): boolean {
    return this.usage !== undefined;
  }

  add(event: RawMessageStreamEvent): void {
    switch (event.type) {
      case 'message_start': {
        const { usage, stop_reason } = event.message;
        this.usage = {
          inputTokens: tokenCount(usage.input_tokens),
          cacheCreationInputTokens: tokenCount(usage.cache_creation_input_tokens),
          cacheReadInputTokens: tokenCount(usage.cache_read_input_tokens),
          outputTokens: tokenCount(usage.output_tokens),
          thinkingTokens: tokenCount(usage.output_tokens_details?.thinking_tokens),
        };
        this.stopReason = stop_reason;
        return;
      }
      case 'message_delta': {
        const { delta, usage } = event;
        this.stopReason = delta.stop_reason;
        this.stopDetails = delta.stop_details ? { category: delta.stop_details.category, explanation: delta.stop_details.explanation } : undefined;
        if (!this.usage) return;
        // A counter message_delta leaves out (null or absent) keeps message_start's value.
        const update = (value: unknown, before: number) => (value == null ? before : tokenCount(value));
        this.usage.outputTokens = update(usage.output_tokens, this.usage.outputTokens);
        this.usage.inputTokens = update(usage.input_tokens, this.usage.inputTokens);
        this.usage.cacheCreationInputTokens = update(usage.cache_creation_input_tokens, this.usage.cacheCreationInputTokens);
        this.usage.cacheReadInputTokens = update(usage.cache_read_input_tokens, this.usage.cacheReadInputTokens);
        this.usage.thinkingTokens = update(usage.output_tokens_details?.thinking_tokens, this.usage.thinkingTokens);
        return;
      }
      case 'message_stop':
        this.stopped = true;
        return;
      case 'content_block_start': {
        const { type } = event.content_block;
        if (type !== 'thinking' && type !== 'redacted_thinking') return;
        this.thinkingParagraph = this.thinking !== '';
        this.onThinking?.(this.thinking);
        return;
      }
      case 'content_block_delta':
        return this.addDelta(event.delta);
      case 'content_block_stop':
        return;
      default:
        return unreachable(event);
    }
  }

  /** The whole answer; a stream that ended before `message_stop` was cut short (the SDK's MessageStream agrees). */
  answer(): ClaudeAnswer {
    if (!this.stopped || !this.usage) throw new AnthropicError('stream ended without producing a Message with role=assistant');
    return {
      text: this.text,
      stopReason: this.stopReason,
      outputTokens: this.usage.outputTokens,
      usage: { ...this.usage },
      ...(this.stopDetails ? { stopDetails: this.stopDetails } : {}),
    };
  }

  private addDelta(delta: Extract<RawMessageStreamEvent, { type: 'content_block_delta' }>['delta']): void {
    switch (delta.type) {
      case 'text_delta':
        if (!delta.text) return;
        this.text += delta.text;
        return this.onText(this.text);
      case 'thinking_delta':
        if (!delta.thinking) return;
        this.thinking += (this.thinkingParagraph ? '\n\n' : '') + delta.thinking;
        this.thinkingParagraph = false;
        return this.onThinking?.(this.thinking);
      case 'signature_delta':
      case 'input_json_delta':
      case 'citations_delta':
        return;
      default:
        return unreachable(delta);
    }
  }
}

/** A compile error when the SDK gains an event or delta type this module does not handle. */
function unreachable(value: never): void {
  void value;
}

/** More tokens than any one request can carry (a 1M-token context plus 128k output, many times over). */
const MAX_TOKEN_COUNT = 1e9;

/**
 * A token count as the daily limits, the ledger and the metrics can trust: the SDK does not check the body, so a
 * gateway's negative, fractional, string or absurd count would otherwise lift a limit, break a Redis HINCRBY or
 * throw in a Prometheus counter. A string of digits is read as its number; anything but a non-negative integer up to
 * MAX_TOKEN_COUNT counts as 0.
 */
function tokenCount(value: unknown): number {
  const count = typeof value === 'string' && /^\d{1,10}$/.test(value) ? Number(value) : value;
  return Number.isSafeInteger(count) && (count as number) >= 0 && (count as number) <= MAX_TOKEN_COUNT ? (count as number) : 0;
}

/**
 * Per-request SDK middleware calling `onBytes` for every chunk of the response body, passing it on unchanged.
 * One pull-driven stage (read, note, enqueue), not a `pipeThrough` TransformStream: that costs a writable side
 * and its promises on every chunk, i.e. on every token.
 */
function onResponseBytes(onBytes: () => void): Middleware {
  return async (request, next) => {
    const response = await next(request);
    if (!response.body) return response;
    const reader = response.body.getReader();
    const body = new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          const { done, value } = await reader.read();
          if (done) return controller.close();
          onBytes();
          controller.enqueue(value);
        },
        cancel: (reason) => reader.cancel(reason),
      },
      // Nothing is read ahead: each read of the SDK's is one read of the response.
      { highWaterMark: 0 },
    );
    return new Response(body, response);
  };
}

/**
 * Fires once the stream has been silent for `timeoutMs`. `touch` runs for every chunk received, so it only
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
