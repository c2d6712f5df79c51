import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { closeServer, DelayPool, type Json, listenOnLoopback, pollUntil, preciseNow, readBody } from './httpUtil.js';

/** Why a scripted message stopped, as the Messages API reports it. */
export type StopReason =
  | 'end_turn'
  | 'max_tokens'
  | 'stop_sequence'
  | 'refusal'
  | 'model_context_window_exceeded'
  | 'pause_turn'
  | 'tool_use';

/** How a stream breaks after `afterChunks` text deltas. */
export type StreamFailure =
  | { afterChunks: number; how: 'error_event'; errorType?: string }
  | { afterChunks: number; how: 'drop' }
  | { afterChunks: number; how: 'hang' };

/** A streamed answer: text deltas with timing, a stop reason, and an optional mid-stream failure. */
export type StreamScript = {
  chunks: string[];
  delayMs?: number;
  firstTokenDelayMs?: number;
  stopReason?: StopReason;
  fail?: StreamFailure;
  /** Extra response headers (e.g. `retry-after`, which a gateway may send with a stream that then fails). */
  headers?: Record<string, string>;
};

/** An answer that is an HTTP error with Anthropic's error body. */
export type HttpErrorScript = { httpError: { status: number; type: string; message: string; retryAfter?: number } };

/** What one POST /v1/messages answers. */
export type Script = StreamScript | HttpErrorScript;

/** One request the fake received; `endedAt` is set once its response finished or its connection was cut. */
export interface RecordedRequest {
  body: Json;
  headers: Record<string, string | string[] | undefined>;
  at: number;
  endedAt?: number;
  /** When each text delta was written, in order. */
  chunkTimes: number[];
}

/** Messages the real API puts in error bodies, by error type. */
const ERROR_MESSAGES: Record<string, string> = {
  overloaded_error: 'Overloaded',
  api_error: 'Internal server error',
  rate_limit_error: 'Rate limit exceeded',
};

/** Fake Anthropic Messages API on loopback, answering scripted SSE streams or HTTP errors. */
export class FakeAnthropic {
  readonly requests: RecordedRequest[] = [];
  /** Answer used when the queue is empty. */
  defaultScript: Script = { chunks: ['Hello', ' world'] };
  /** When set, decides the answer to each request the queue does not cover (soak tests: per-question text, random faults). */
  scriptFor?: (body: Json) => Script;
  /** Base URL for `ANTHROPIC_BASE_URL` / the SDK's `baseURL`. */
  readonly baseUrl: string;

  private readonly queue: Script[] = [];
  private readonly delays = new DelayPool();
  private closed = false;
  private seq = 0;

  private constructor(
    private readonly server: Server,
    port: number,
  ) {
    this.baseUrl = `http://127.0.0.1:${port}`;
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(String(err));
      });
    });
  }

  /** Starts a fake on a free loopback port. */
  static async start(): Promise<FakeAnthropic> {
    const server = createServer({ noDelay: true });
    const port = await listenOnLoopback(server);
    return new FakeAnthropic(server, port);
  }

  /** Queues scripts; each POST /v1/messages takes the next one. */
  enqueue(...scripts: Script[]): void {
    this.queue.push(...scripts);
  }

  /** Resolves once at least `n` requests arrived. */
  waitForRequests(n: number, timeoutMs = 5_000): Promise<void> {
    return pollUntil(
      () => this.requests.length >= n,
      timeoutMs,
      () => `FakeAnthropic expected ${n} request(s), got ${this.requests.length}`,
    );
  }

  /** Stops the server, cutting hanging and in-progress responses. */
  async close(): Promise<void> {
    this.closed = true;
    this.delays.cancelAll();
    await closeServer(this.server);
  }

  /** Routes one HTTP request. */
  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = preciseNow();
    const raw = await readBody(req);
    this.seq += 1;
    const requestId = `req_fake${String(this.seq).padStart(8, '0')}`;
    const path = new URL(req.url ?? '/', this.baseUrl).pathname;
    if (req.method !== 'POST' || path !== '/v1/messages') {
      sendError(res, requestId, { status: 404, type: 'not_found_error', message: `Not found: ${req.method} ${path}` });
      return;
    }
    let body: Json;
    try {
      body = JSON.parse(raw);
    } catch {
      sendError(res, requestId, { status: 400, type: 'invalid_request_error', message: 'Request body is not valid JSON' });
      return;
    }
    const record: RecordedRequest = { body, headers: req.headers, at, chunkTimes: [] };
    this.requests.push(record);
    const markEnded = (): void => {
      record.endedAt ??= preciseNow();
    };
    res.once('finish', markEnded).once('close', markEnded);
    const script = this.queue.shift() ?? this.scriptFor?.(body) ?? this.defaultScript;
    if ('httpError' in script) {
      sendError(res, requestId, script.httpError);
      return;
    }
    const message = initialMessage(`msg_fake${String(this.seq).padStart(8, '0')}`, body);
    if (body.stream === true) {
      await this.stream(res, requestId, message, script, record.chunkTimes);
      return;
    }
    const text = script.chunks.join('');
    res.writeHead(200, { 'content-type': 'application/json', 'request-id': requestId }).end(
      JSON.stringify({
        ...message,
        content: text === '' ? [] : [{ type: 'text', text, citations: null }],
        stop_reason: script.stopReason ?? 'end_turn',
        usage: { ...message.usage, output_tokens: script.chunks.length },
      }),
    );
  }

  /** Writes the script as Server-Sent Events, one flushed frame per event. */
  private async stream(res: ServerResponse, requestId: string, message: Json, script: StreamScript, chunkTimes: number[]): Promise<void> {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'request-id': requestId,
      ...script.headers,
    });
    res.flushHeaders();
    const send = (event: string, data: Json): void => {
      res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    /** Waits `ms` (if any); false when the fake closed or the client went away meanwhile. */
    const pause = async (ms: number): Promise<boolean> =>
      (ms <= 0 || (await this.delays.wait(ms))) && !this.closed && !res.destroyed;

    send('message_start', { type: 'message_start', message });
    send('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '', citations: null } });
    send('ping', { type: 'ping' });
    if (!(await pause(script.firstTokenDelayMs ?? 0))) return;
    const { chunks, fail } = script;
    for (const [i, text] of chunks.entries()) {
      if (i > 0 && !(await pause(script.delayMs ?? 0))) return;
      if (fail && fail.afterChunks <= i) {
        breakStream(res, fail, send);
        return;
      }
      send('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } });
      chunkTimes.push(preciseNow());
    }
    if (fail) {
      breakStream(res, fail, send);
      return;
    }
    send('content_block_stop', { type: 'content_block_stop', index: 0 });
    send('message_delta', {
      type: 'message_delta',
      delta: { stop_reason: script.stopReason ?? 'end_turn', stop_sequence: null, stop_details: null, container: null },
      usage: { output_tokens: chunks.length },
    });
    send('message_stop', { type: 'message_stop' });
    res.end();
  }
}

/** Applies a scripted mid-stream failure: an `error` event, a TCP drop, or silence. */
function breakStream(res: ServerResponse, fail: StreamFailure, send: (event: string, data: Json) => void): void {
  switch (fail.how) {
    case 'error_event': {
      const type = fail.errorType ?? 'overloaded_error';
      send('error', { type: 'error', error: { type, message: ERROR_MESSAGES[type] ?? type } });
      res.end();
      return;
    }
    case 'drop': {
      // Flush what was written, then close the TCP connection in the middle of the chunked body.
      const socket = res.socket;
      socket?.end(() => socket.destroy());
      return;
    }
    case 'hang':
      return;
  }
}

/** Answers Anthropic's JSON error body with the given status (and retry-after). */
function sendError(res: ServerResponse, requestId: string, error: HttpErrorScript['httpError']): void {
  res
    .writeHead(error.status, {
      'content-type': 'application/json',
      'request-id': requestId,
      ...(error.retryAfter === undefined ? {} : { 'retry-after': String(error.retryAfter) }),
    })
    .end(JSON.stringify({ type: 'error', error: { type: error.type, message: error.message }, request_id: requestId }));
}

/** The message object of `message_start`: empty content, no stop reason yet. */
function initialMessage(id: string, request: Json): Json {
  return {
    id,
    type: 'message',
    role: 'assistant',
    model: typeof request?.model === 'string' ? request.model : 'claude-fake',
    content: [],
    stop_reason: null,
    stop_sequence: null,
    stop_details: null,
    container: null,
    usage: {
      input_tokens: Math.ceil(JSON.stringify(request?.messages ?? []).length / 4),
      output_tokens: 1,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
    },
  };
}
