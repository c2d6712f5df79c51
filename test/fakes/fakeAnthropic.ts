import { PDFDocument } from 'pdf-lib';
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

/** How a stream breaks after `afterChunks` text deltas (of all text blocks). */
export type StreamFailure =
  | { afterChunks: number; how: 'error_event'; errorType?: string }
  | { afterChunks: number; how: 'drop' }
  | { afterChunks: number; how: 'hang' };

/** Thinking before the text: a `thinking` block at index 0 (`thinking_delta`s, one `signature_delta`, stop). */
export type ThinkingScript = {
  /** Summarised thinking deltas; sent as empty-block time only when the request asks `display: 'omitted'`. */
  chunks: string[];
  /** Pause between two thinking deltas (the first follows `firstTokenDelayMs`). */
  delayMs?: number;
};

/** A content block after the first text block (`chunks`). */
export type ScriptBlock = { text: string[] } | { thinking: string[] } | { redactedThinking: string };

/** A streamed answer: text deltas with timing, a stop reason, and an optional mid-stream failure. */
export type StreamScript = {
  /** Text deltas of the first text block. With `thinking` and no chunks, no text block at all (max_tokens while thinking). */
  chunks: string[];
  /** Pause between two deltas of the text blocks. */
  delayMs?: number;
  /** Pause before the answer's first delta (thinking or text). */
  firstTokenDelayMs?: number;
  /** Nothing is sent after `message_start` until this settles: a stream that cannot end before the test says so. */
  holdUntil?: Promise<unknown>;
  stopReason?: StopReason;
  /** `stop_details` of the message_delta (`type: 'refusal'`). */
  stopDetails?: { category: 'cyber' | 'bio' | 'frontier_llm' | 'reasoning_extraction' | 'general_harms' | null; explanation: string | null };
  thinking?: ThinkingScript;
  /** More blocks after the first text block, e.g. `[{ thinking: [...] }, { text: [...] }]`. */
  blocks?: ScriptBlock[];
  /** While pausing, a `ping` event this often (the API's keep-alive). */
  pingEveryMs?: number;
  /** Token counts to report; by default one output token per delta, thinking tokens = thinking deltas. */
  usage?: { inputTokens?: number; cacheCreationInputTokens?: number; cacheReadInputTokens?: number; outputTokens?: number; thinkingTokens?: number };
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
  /**
   * When the client closed the connection before the response ended (an aborted stream: the SDK's `abort()`).
   * Unset when the response finished or the fake cut it itself (a scripted `drop`, `close()`).
   */
  clientClosedAt?: number;
  /** When each text delta was written, in order. */
  chunkTimes: number[];
  /** When each thinking delta was written (or, with `display: 'omitted'`, would have been), in order. */
  thinkingTimes: number[];
}

/**
 * What `GET /v1/models/{id}` answers for one id: a model object with this lifecycle, an Anthropic error, a
 * gateway's own non-Anthropic answer, or nothing at all (the connection stays open).
 */
export type ModelScript =
  | { lifecycle: 'active' | 'deprecated' | 'retired'; retiresAt?: string | null }
  | HttpErrorScript
  | { raw: { status: number; contentType: string; body: string } }
  | { hang: true };

/** The ids the fake knows by default, all active. */
const CURRENT_MODELS = ['claude-sonnet-5-5', 'claude-haiku-5-5', 'claude-opus-5-5'];

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
  /** `GET /v1/models/{id}` answers, by id; any other id is a 404 `not_found_error`. */
  readonly models: Record<string, ModelScript> = Object.fromEntries(CURRENT_MODELS.map((id) => [id, { lifecycle: 'active' }]));
  /** The ids asked for with `GET /v1/models/{id}`, in order. */
  readonly modelRequests: string[] = [];

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
    const model = /^\/v1\/models\/([^/]+)$/.exec(path);
    if (req.method === 'GET' && model) {
      await this.answerModel(res, requestId, decodeURIComponent(model[1]!));
      return;
    }
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
    const record: RecordedRequest = { body, headers: req.headers, at, chunkTimes: [], thinkingTimes: [] };
    this.requests.push(record);
    const invalid = Buffer.byteLength(raw) > REQUEST_MAX_BYTES ? REQUEST_TOO_LARGE : (contentError(body) ?? (await mediaError(body)));
    if (invalid) {
      sendError(res, requestId, invalid);
      return;
    }
    const markEnded = (): void => {
      record.endedAt ??= preciseNow();
    };
    res.once('finish', markEnded).once('close', () => {
      if (!res.writableFinished && !this.closed && !cutByFake.has(res)) record.clientClosedAt = preciseNow();
      markEnded();
    });
    const script = this.queue.shift() ?? this.scriptFor?.(body) ?? this.defaultScript;
    if ('httpError' in script) {
      sendError(res, requestId, script.httpError);
      return;
    }
    const message = initialMessage(`msg_fake${String(this.seq).padStart(8, '0')}`, body, script);
    const blocks = blocksOf(script, body?.thinking?.display === 'omitted');
    if (body.stream === true) {
      await this.stream(res, requestId, message, script, blocks, record);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'request-id': requestId }).end(
      JSON.stringify({
        ...message,
        content: blocks.map(finishedBlock).filter((block) => block.type !== 'text' || block.text !== ''),
        stop_reason: script.stopReason ?? 'end_turn',
        stop_details: stopDetailsOf(script),
        usage: { ...message.usage, ...outputUsageOf(script, blocks) },
      }),
    );
  }

  /** Answers `GET /v1/models/{id}` as scripted in `models`. */
  private async answerModel(res: ServerResponse, requestId: string, id: string): Promise<void> {
    this.modelRequests.push(id);
    const script: ModelScript = this.models[id] ?? {
      httpError: { status: 404, type: 'not_found_error', message: `model: ${id}` },
    };
    if ('hang' in script) return;
    if ('httpError' in script) return sendError(res, requestId, script.httpError);
    if ('raw' in script) {
      res.writeHead(script.raw.status, { 'content-type': script.raw.contentType }).end(script.raw.body);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'request-id': requestId }).end(
      JSON.stringify({
        type: 'model',
        id,
        display_name: id,
        created_at: '2026-01-01T00:00:00Z',
        lifecycle: script.lifecycle,
        deprecated_at: script.lifecycle === 'active' ? null : '2026-06-01T00:00:00Z',
        retires_at: script.retiresAt ?? null,
        line: null,
        max_input_tokens: 1_000_000,
        max_tokens: 128_000,
        capabilities: null,
      }),
    );
  }

  /** Writes the script as Server-Sent Events, one flushed frame per event. */
  private async stream(res: ServerResponse, requestId: string, message: Json, script: StreamScript, blocks: Block[], record: RecordedRequest): Promise<void> {
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
    const alive = (): boolean => !this.closed && !res.destroyed;
    /** Waits `ms` (if any), pinging meanwhile when asked; false when the fake closed or the client went away. */
    const pause = async (ms: number): Promise<boolean> => {
      for (let left = ms; left > 0; ) {
        const slice = Math.min(left, script.pingEveryMs ?? left);
        if (!(await this.delays.wait(slice)) || !alive()) return false;
        left -= slice;
        if (left > 0) send('ping', { type: 'ping' });
      }
      return alive();
    };

    send('message_start', { type: 'message_start', message });
    if (script.holdUntil) {
      await script.holdUntil;
      if (!alive()) return;
    }
    const { fail } = script;
    let textDeltas = 0;
    let firstDelta = true;
    for (const [index, block] of blocks.entries()) {
      send('content_block_start', { type: 'content_block_start', index, content_block: startedBlock(block) });
      if (index === 0) send('ping', { type: 'ping' });
      for (const [i, delta] of block.deltas.entries()) {
        const wait = firstDelta ? (script.firstTokenDelayMs ?? 0) : i === 0 ? 0 : block.delayMs;
        if (!(await pause(wait))) return;
        firstDelta = false;
        if (block.type === 'text') {
          if (fail && fail.afterChunks <= textDeltas) return breakStream(res, fail, send);
          send('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'text_delta', text: delta } });
          textDeltas += 1;
          record.chunkTimes.push(preciseNow());
        } else {
          if (block.type === 'thinking' && !block.omitted) send('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'thinking_delta', thinking: delta } });
          record.thinkingTimes.push(preciseNow());
        }
      }
      if (firstDelta && index === 0 && !(await pause(script.firstTokenDelayMs ?? 0))) return;
      if (block.type === 'thinking') {
        send('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'signature_delta', signature: block.signature } });
      }
      // A failure scripted after the last text delta breaks the stream before the text block stops.
      if (fail && block.type === 'text' && index === blocks.findLastIndex((b) => b.type === 'text')) return breakStream(res, fail, send);
      send('content_block_stop', { type: 'content_block_stop', index });
    }
    if (fail) return breakStream(res, fail, send);
    send('message_delta', {
      type: 'message_delta',
      delta: { stop_reason: script.stopReason ?? 'end_turn', stop_sequence: null, stop_details: stopDetailsOf(script), container: null },
      usage: outputUsageOf(script, blocks),
    });
    send('message_stop', { type: 'message_stop' });
    res.end();
  }
}

/** One content block to stream: its type, its deltas and the pause between them. */
type Block =
  | { type: 'text'; deltas: string[]; delayMs: number }
  | { type: 'thinking'; deltas: string[]; delayMs: number; signature: string; omitted: boolean }
  | { type: 'redacted_thinking'; deltas: []; delayMs: 0; data: string };

/** The script's content blocks in wire order: thinking (if any), the first text block, then `blocks`. */
function blocksOf(script: StreamScript, omitted: boolean): Block[] {
  const delayMs = script.delayMs ?? 0;
  const thinking = (deltas: string[], pause: number): Block => ({
    type: 'thinking',
    deltas,
    delayMs: pause,
    signature: `sig_${Buffer.from(deltas.join('')).toString('base64url').slice(0, 24)}`,
    omitted,
  });
  const first: Block[] = [];
  if (script.thinking) first.push(thinking(script.thinking.chunks, script.thinking.delayMs ?? 0));
  if (!script.thinking || script.chunks.length > 0) first.push({ type: 'text', deltas: script.chunks, delayMs });
  const more = (script.blocks ?? []).map((block): Block => {
    if ('text' in block) return { type: 'text', deltas: block.text, delayMs };
    if ('thinking' in block) return thinking(block.thinking, delayMs);
    return { type: 'redacted_thinking', deltas: [], delayMs: 0, data: block.redactedThinking };
  });
  return [...first, ...more];
}

/** The `content_block` of a block's `content_block_start`: empty, filled by its deltas. */
function startedBlock(block: Block): Json {
  switch (block.type) {
    case 'text':
      return { type: 'text', text: '', citations: null };
    case 'thinking':
      return { type: 'thinking', thinking: '', signature: '' };
    case 'redacted_thinking':
      return { type: 'redacted_thinking', data: block.data };
  }
}

/** A block as a non-streamed message carries it. */
function finishedBlock(block: Block): Json {
  switch (block.type) {
    case 'text':
      return { type: 'text', text: block.deltas.join(''), citations: null };
    case 'thinking':
      return { type: 'thinking', thinking: block.omitted ? '' : block.deltas.join(''), signature: block.signature };
    case 'redacted_thinking':
      return startedBlock(block);
  }
}

/** The `stop_details` of the message: a refusal's, or null. */
function stopDetailsOf(script: StreamScript): Json {
  return script.stopDetails ? { type: 'refusal', ...script.stopDetails } : null;
}

/** The output counters of the final usage: one token per delta unless scripted; thinking tokens when it thought. */
function outputUsageOf(script: StreamScript, blocks: Block[]): Json {
  const thinkingDeltas = blocks.reduce((n, block) => n + (block.type === 'thinking' ? block.deltas.length : 0), 0);
  const textDeltas = blocks.reduce((n, block) => n + (block.type === 'text' ? block.deltas.length : 0), 0);
  const thinkingTokens = script.usage?.thinkingTokens ?? (blocks.some((block) => block.type !== 'text') ? thinkingDeltas : undefined);
  return {
    output_tokens: script.usage?.outputTokens ?? textDeltas + thinkingDeltas,
    ...(thinkingTokens === undefined ? {} : { output_tokens_details: { thinking_tokens: thinkingTokens } }),
  };
}

/** Responses whose connection the fake cut itself (a scripted drop): their close is not the client's. */
const cutByFake = new WeakSet<ServerResponse>();

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
      cutByFake.add(res);
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
function initialMessage(id: string, request: Json, script: StreamScript): Json {
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
      input_tokens: script.usage?.inputTokens ?? Math.ceil(JSON.stringify(request?.messages ?? []).length / 4),
      output_tokens: 1,
      cache_creation_input_tokens: script.usage?.cacheCreationInputTokens ?? 0,
      cache_read_input_tokens: script.usage?.cacheReadInputTokens ?? 0,
    },
  };
}

/** The Messages API's request size limit: 32 MB (a larger body is a 413 `request_too_large`). */
const REQUEST_MAX_BYTES = 32 * 1024 * 1024;
const REQUEST_TOO_LARGE = { status: 413, type: 'request_too_large', message: 'Request exceeds the maximum allowed number of bytes.' };

/** The API's largest image: 5 MB of base64. */
const IMAGE_MAX_BASE64 = 5 * 1024 * 1024;

/** The first bytes of each image type the API takes, to catch a `media_type` that does not match the data. */
const IMAGE_MAGIC: Record<string, (bytes: Buffer) => boolean> = {
  'image/png': (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
  'image/jpeg': (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff,
  'image/gif': (b) => b.subarray(0, 4).toString('latin1') === 'GIF8',
  'image/webp': (b) => b.subarray(0, 4).toString('latin1') === 'RIFF' && b.subarray(8, 12).toString('latin1') === 'WEBP',
};

/**
 * The 400 the API answers for a malformed image or document block, as it words them (the block's path, then
 * what is wrong), or undefined when every block is well-formed.
 */
function contentError(body: Json): HttpErrorScript['httpError'] | undefined {
  const messages: Json[] = Array.isArray(body?.messages) ? body.messages : [];
  for (const [m, message] of messages.entries()) {
    if (!Array.isArray(message?.content)) continue;
    for (const [c, block] of (message.content as Json[]).entries()) {
      const problem = blockProblem(block);
      if (problem) return { status: 400, type: 'invalid_request_error', message: `messages.${m}.content.${c}.${problem}` };
    }
  }
  return undefined;
}

/** What is wrong with one content block, prefixed with the path inside it. */
function blockProblem(block: Json): string | undefined {
  const source = block?.source;
  switch (block?.type) {
    case 'text':
      return typeof block.text === 'string' && block.text !== '' ? undefined : 'text: text content blocks must be non-empty';
    case 'image': {
      if (source?.type !== 'base64') return 'image.source: only base64 sources are expected here';
      const magic = IMAGE_MAGIC[source.media_type];
      if (!magic) return `image.source.base64.media_type: Input should be 'image/jpeg', 'image/png', 'image/gif' or 'image/webp'`;
      const bytes = decodeBase64(source.data);
      if (!bytes) return 'image.source.base64.data: invalid base64 data';
      if (source.data.length > IMAGE_MAX_BASE64) return `image.source.base64: image exceeds 5 MB maximum: ${source.data.length} bytes > ${IMAGE_MAX_BASE64} bytes`;
      return magic(bytes) ? undefined : `image.source.base64.data: The image was specified using the ${source.media_type} media type, but does not appear to be a valid ${source.media_type} image`;
    }
    case 'document':
      if (block.title !== undefined && block.title !== null && typeof block.title !== 'string') return 'document.title: Input should be a valid string';
      if (source?.type === 'text') {
        if (source.media_type !== 'text/plain') return "document.source.text.media_type: Input should be 'text/plain'";
        return typeof source.data === 'string' ? undefined : 'document.source.text.data: Input should be a valid string';
      }
      if (source?.type === 'base64') {
        if (source.media_type !== 'application/pdf') return "document.source.base64.media_type: Input should be 'application/pdf'";
        const bytes = decodeBase64(source.data);
        if (!bytes) return 'document.source.base64.data: invalid base64 data';
        return bytes.subarray(0, 5).toString('latin1') === '%PDF-' ? undefined : 'document.source.base64.data: The PDF specified was not valid.';
      }
      return 'document.source: only base64 and text sources are expected here';
    default:
      return undefined;
  }
}

/** Images plus PDF pages the API takes in one request. */
const MEDIA_MAX = 100;

/**
 * The 400 the API answers for more than 100 images and PDF pages in one request, worded as it does
 * ("Too much media: 0 document pages + 102 images > 100", https://github.com/anthropics/claude-code/issues/19822).
 */
async function mediaError(body: Json): Promise<HttpErrorScript['httpError'] | undefined> {
  const blocks: Json[] = (Array.isArray(body?.messages) ? body.messages : []).flatMap((message: Json) => (Array.isArray(message?.content) ? message.content : []));
  const images = blocks.filter((block) => block?.type === 'image').length;
  let pages = 0;
  for (const block of blocks) {
    if (block?.type !== 'document' || block.source?.type !== 'base64') continue;
    pages += (await PDFDocument.load(Buffer.from(block.source.data, 'base64'), { ignoreEncryption: true, updateMetadata: false })).getPageCount();
  }
  if (pages + images <= MEDIA_MAX) return undefined;
  return { status: 400, type: 'invalid_request_error', message: `Too much media: ${pages} document pages + ${images} images > ${MEDIA_MAX}` };
}

/** Strict base64 (the alphabet, padding, a multiple of 4 characters) decoded, or undefined. */
function decodeBase64(data: unknown): Buffer | undefined {
  if (typeof data !== 'string' || data.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(data)) return undefined;
  return Buffer.from(data, 'base64');
}
