import { LogLevel, WebClient } from '@slack/web-api';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { SlackFile } from '../../src/slack/slackFile.js';
import { closeServer, DelayPool, type Json, listenOnLoopback, nextSlackTs, pollUntil, preciseNow, readBody } from './httpUtil.js';

/** One request the fake answered, with what it answered. */
export interface RecordedCall {
  method: string;
  params: Record<string, Json>;
  at: number;
  status: number;
  response: Json;
  token?: string;
}

/** A scripted failure: an `ok:false` error code, an HTTP status, or both. */
export interface SlackFailure {
  error?: string;
  status?: number;
  retryAfter?: number;
  /** A 429 without a Retry-After header (as a proxy in front of Slack may answer). */
  noRetryAfter?: boolean;
  /** The scope Slack names in a `missing_scope` answer (`needed`). */
  needed?: string;
  /**
   * Slack carried the call out before failing: the message is posted (or edited) all the same. Slack documents
   * this for `internal_error`: "it's possible some aspect of the operation succeeded before the error was raised".
   */
  applied?: boolean;
  /** The connection is cut instead of answered (after the call is applied, with `applied`): a lost response. */
  hangUp?: boolean;
  /** The answer (or the cut) comes this many ms late: a Slack slow to say what it did. */
  stallMs?: number;
}

/** A message as the fake holds it after postMessage/update/delete; `versions[0]` is the posted content. */
export interface StoredMessage {
  channel: string;
  ts: string;
  thread_ts?: string;
  text: string;
  blocks?: unknown[];
  versions: { text: string; blocks?: unknown[]; at: number }[];
  deleted: boolean;
  /** Set for a message a person posted (`addUserMessage`); unset for the bot's own messages. */
  user?: string;
  /** Set for another app's post (`addAppMessage`): listed as a `bot_message` with no `user`. */
  app?: { botId: string; name: string };
  /** Files as Slack lists them on the message (`files[]`). */
  files?: Json[];
  /** A person's message of a special kind (`channel_join`, `thread_broadcast`…). */
  subtype?: string;
  /** Set for a message the bot streamed natively (`chat.startStream`). */
  stream?: StreamState;
  /** The `metadata` it was posted with (returned by conversations.replies with `include_all_metadata`). */
  metadata?: Json;
}

/** A person as `users.info` describes them: the name fields, and where they belong (default: the fake's workspace T0001). */
export interface FakeUser {
  id: string;
  name: string;
  real_name?: string;
  display_name?: string;
  /** The user's workspace (`T…`), e.g. another organisation's for a Slack Connect user. */
  team_id?: string;
  /** Their Enterprise Grid organisation (`enterprise_user.enterprise_id`); none when unset. */
  enterprise_id?: string;
  /** Slack's `is_stranger` mark. */
  is_stranger?: boolean;
}

/** A conversation as `conversations.info` describes it: a channel has a name, a DM (`is_im`) has none. */
export interface FakeChannel {
  id: string;
  name?: string;
  is_im?: boolean;
  is_mpim?: boolean;
}

/**
 * A natively streamed message (chat.startStream → appendStream → stopStream). `versions` of its StoredMessage
 * hold the text the user saw after each call; `chunks` every chunk sent, in order (task_update, plan_update…).
 * https://docs.slack.dev/reference/methods/chat.startStream, …/chat.appendStream, …/chat.stopStream
 */
export interface StreamState {
  /** `streaming` until stopStream (`completed`) or the user's Stop (`stopped_by_user`); expiry is judged by time. */
  state: 'streaming' | 'completed' | 'stopped_by_user';
  /** How content arrives, fixed by the first call that carries some; the other form is then refused. */
  mode?: 'markdown_text' | 'chunks';
  /** `Date.now()` at chat.startStream. */
  startedAt: number;
  /** Streamed text so far, in characters (the cap `streamMaxChars` applies to it). */
  chars: number;
  chunks: Json[];
  recipientUserId?: string;
  recipientTeamId?: string;
  /** stopStream's `metadata`, as sent. */
  metadata?: Json;
}

/** An agent session (a thread, or a session channel without `thread_ts`) and every status it was given, in order. */
export interface AgentSession {
  status: AgentSessionStatus;
  history: AgentSessionStatus[];
  title?: string;
}

/** `agents.sessions.setStatus` statuses (https://docs.slack.dev/reference/methods/agents.sessions.setStatus). */
export type AgentSessionStatus = 'active' | 'processing' | 'suspended' | 'closed';

/** How Slack refuses native streaming to an app or workspace without it (DESIGN.md §6). */
export type StreamRefusal = 'feature_disabled' | 'not_allowed' | 'unknown_method' | 'channel_type_not_supported' | 'messages_tab_disabled';

/** What the fake sends back for one call. */
interface Answer {
  status: number;
  body: Json;
  headers?: Record<string, string>;
  /** Cut the connection instead of answering. */
  hangUp?: boolean;
  /** Wait this long before answering (or cutting). */
  stallMs?: number;
}

/** A per-method token bucket. */
interface Bucket {
  perMs: number;
  burst: number;
  tokens: number;
  last: number;
}

/** conversations.replies' default and largest `limit`. */
const MAX_REPLIES_LIMIT = 1000;

/** Slack's documented per-message limits. */
const SLACK_TEXT_LIMIT = 40_000;
const MAX_BLOCKS = 50;
const SECTION_TEXT_LIMIT = 3_000;
const MARKDOWN_BLOCKS_LIMIT = 12_000;

/** Native streaming: a stream expires about 5 minutes after it starts, and takes about 12,000 characters in total (DESIGN.md §6, *field*). */
const STREAM_LIFETIME_MS = 5 * 60_000;
const STREAM_MAX_CHARS = 12_000;
/** The workspace of a call that names none (the fake's only bot token's team, as auth.test answers). */
const FAKE_TEAM_ID = 'T0001';
const SESSION_STATUSES: readonly string[] = ['active', 'processing', 'suspended', 'closed'] satisfies AgentSessionStatus[];
const TASK_STATUSES: readonly string[] = ['pending', 'in_progress', 'complete', 'error'];
/** assistant.threads.setSuggestedPrompts takes up to 4 prompts (https://docs.slack.dev/reference/methods/assistant.threads.setSuggestedPrompts). */
const MAX_SUGGESTED_PROMPTS = 4;
/** agents.sessions.rename: a title of 1–200 characters (@slack/web-api 8 AgentsSessionsRenameArguments). */
const MAX_SESSION_TITLE = 200;

/**
 * The bot scopes manifest.yml asks for: what the fake reports as granted (`x-oauth-scopes`) unless a test
 * says otherwise (`grantedScopes`).
 */
export const MANIFEST_BOT_SCOPES: readonly string[] = [
  'app_mentions:read',
  'assistant:write',
  'channels:history',
  'groups:history',
  'mpim:history',
  'users:read',
  'channels:read',
  'groups:read',
  'mpim:read',
  'chat:write',
  'commands',
  'im:history',
  'im:read',
  'files:read',
  'im:write',
];

/** Seconds part of every ts the fake hands out; far from "now" so it never collides with event builders' ts. */
const TS_EPOCH = 1_700_000_000;

/** Pseudo-method name under which POSTs to `responseUrl` are recorded. */
export const RESPONSE_URL_METHOD = 'response_url';

/** Pseudo-method name under which file downloads (`GET /files/<id>/<name>`) are recorded. */
export const FILE_DOWNLOAD_METHOD = 'files.download';

/**
 * A file the fake serves. `access`: `ok` serves the bytes; `html` answers Slack's sign-in page (no access);
 * `check_file_info` lists it as a Slack Connect stub that only `files.info` describes.
 */
export interface FakeFile {
  name: string;
  mimetype: string;
  bytes: Buffer;
  filetype?: string;
  access?: 'ok' | 'html' | 'check_file_info';
  /** The download answers a redirect here instead of the bytes. */
  redirectTo?: string;
  /** The `size` Slack reports, when it should differ from the bytes' length. */
  size?: number;
  /** The download answers 200 and its first bytes, then a byte every 5 s, never finishing (a stalled download). */
  stall?: boolean;
}

/** Fake Slack Web API on loopback: records every call, keeps message state, injects errors and rate limits. */
export class FakeSlack {
  /** Added before answering every call. */
  latencyMs: number;
  /** Per-method latency, used instead of `latencyMs` for the methods it names (e.g. a slow `chat.update`). */
  readonly methodLatencyMs = new Map<string, number>();
  /** `text` longer than this is refused with `msg_too_long` (set near 4,000 to mimic what Slack does in practice). */
  maxTextLength = SLACK_TEXT_LIMIT;
  /** Block types this Slack answers `invalid_blocks` to, as one that does not know them yet would. */
  readonly unknownBlockTypes = new Set<string>();
  readonly calls: RecordedCall[] = [];
  readonly messages = new Map<string, StoredMessage>();
  /** Base URL for the WebClient's `slackApiUrl`. */
  readonly apiUrl: string;
  /**
   * The scopes every Web API answer lists in its `x-oauth-scopes` header, as Slack reports the token's granted
   * scopes (https://docs.slack.dev/authentication/tokens); undefined sends no header.
   */
  grantedScopes: readonly string[] | undefined = MANIFEST_BOT_SCOPES;
  /** What `apps.connections.open` answers: the WebSocket URL of a FakeSocketMode server. */
  socketModeUrl: string | undefined;
  /** A `response_url` that lands here; its POSTs are recorded as method `response_url`. */
  readonly responseUrl: string;
  private readonly failures = new Map<string, SlackFailure[]>();
  private readonly buckets = new Map<string, Bucket>();
  private readonly channelErrors = new Map<string, string>();
  private readonly delays = new DelayPool();
  /** While set (holdAnswers), every answer waits for it: true once released, false when the fake closes. */
  private held: { answered: Promise<boolean>; settle: (answer: boolean) => void } | undefined;
  /** Requests that arrived and are not answered yet (waiting out their latency or a hold). */
  inFlight = 0;
  private readonly users = new Map<string, FakeUser>();
  private readonly channels = new Map<string, FakeChannel>();
  private readonly files = new Map<string, FakeFile & { id: string }>();

  private constructor(
    private readonly server: Server,
    port: number,
    latencyMs: number,
  ) {
    this.apiUrl = `http://127.0.0.1:${port}/api/`;
    this.responseUrl = `http://127.0.0.1:${port}/response`;
    this.latencyMs = latencyMs;
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.end(String(err));
      });
    });
  }

  /** Starts a fake on a free loopback port. */
  static async start(opts: { latencyMs?: number } = {}): Promise<FakeSlack> {
    const server = createServer();
    const port = await listenOnLoopback(server);
    return new FakeSlack(server, port, opts.latencyMs ?? 0);
  }

  /** Recorded calls of one method, in answer order. */
  callsOf(method: string): RecordedCall[] {
    return this.calls.filter((call) => call.method === method);
  }

  /** Messages posted in a thread (parent excluded, deleted ones included), in ts order. */
  threadMessages(channel: string, threadTs: string): StoredMessage[] {
    return [...this.messages.values()]
      .filter((m) => m.channel === channel && m.thread_ts === threadTs && m.ts !== threadTs)
      .sort((a, b) => compareTs(a.ts, b.ts));
  }

  /** The next `times` calls of `method` answer with `failure` (queued after failures already scripted). */
  failNext(method: string, failure: SlackFailure, times = 1): void {
    const queue = this.failures.get(method) ?? [];
    for (let i = 0; i < times; i += 1) queue.push(failure);
    this.failures.set(method, queue);
  }

  /** Token bucket for `method` (full at start); an empty bucket answers HTTP 429 with Retry-After. */
  rateLimit(method: string, opts: { perMinute: number; burst: number }): void {
    this.buckets.set(method, { perMs: opts.perMinute / 60_000, burst: opts.burst, tokens: opts.burst, last: Date.now() });
  }

  /** How many calls (of `method`, or of all methods) were answered with HTTP 429. */
  count429(method?: string): number {
    return this.calls.filter((c) => c.status === 429 && (method === undefined || c.method === method)).length;
  }

  /** chat.postMessage into `channel` answers `ok:false` with `error` (e.g. `not_in_channel`). */
  setChannelError(channel: string, error: string): void {
    this.channelErrors.set(channel, error);
  }

  /**
   * Stores a message a person posted (no `bot_id`), in a thread or, without `threadTs`, at the top level
   * (e.g. a thread's parent), with its `files` as Slack lists them and its `subtype`, if any;
   * `conversations.replies` will list it.
   */
  addUserMessage(fields: { channel: string; threadTs?: string; user: string; text: string; files?: Json[]; subtype?: string }): StoredMessage {
    const { files, subtype } = fields;
    return this.storeMessage(fields.channel, fields.threadTs, fields.text, { user: fields.user, ...(files ? { files } : {}), ...(subtype ? { subtype } : {}) });
  }

  /** Stores another app's post in a thread: a `bot_message` with its own `bot_id`, `username` and `bot_profile.name`, no `user`. */
  addAppMessage(fields: { channel: string; threadTs: string; text: string; name: string; botId?: string }): StoredMessage {
    return this.storeMessage(fields.channel, fields.threadTs, fields.text, { app: { botId: fields.botId ?? 'B0OTHERAPP', name: fields.name } });
  }

  /** Stores a message from outside the bot with a fresh ts. */
  private storeMessage(channel: string, threadTs: string | undefined, text: string, author: Pick<StoredMessage, 'user' | 'app' | 'files' | 'subtype'>): StoredMessage {
    const ts = this.nextTs();
    const message: StoredMessage = {
      channel,
      ts,
      ...(threadTs === undefined ? {} : { thread_ts: threadTs }),
      text,
      versions: [{ text, at: preciseNow() }],
      deleted: false,
      ...author,
    };
    this.messages.set(ts, message);
    return message;
  }

  /** A member `users.info` knows (any other id answers `user_not_found`). */
  addUser(user: FakeUser): void {
    this.users.set(user.id, user);
  }

  /** A conversation `conversations.info` knows (any other id answers `channel_not_found`). */
  addChannel(channel: FakeChannel): void {
    this.channels.set(channel.id, channel);
  }

  /**
   * Stores a file and returns it as a message event lists it: with `url_private(_download)` on this fake
   * (the download needs the bot token), or a Slack Connect stub (`access: 'check_file_info'`).
   */
  addFile(file: FakeFile): SlackFile {
    const id = `F${String(this.files.size + 1).padStart(8, '0')}`;
    this.files.set(id, { ...file, id });
    return file.access === 'check_file_info' ? { id, file_access: 'check_file_info', mode: 'hosted' } : this.fileObject(id)!;
  }

  /** The full file object `files.info` answers, or undefined for an unknown id. */
  fileObject(id: string): SlackFile | undefined {
    const file = this.files.get(id);
    if (!file) return undefined;
    const url = `${this.apiUrl.replace(/\/api\/$/, '')}/files/${id}/${encodeURIComponent(file.name)}`;
    return {
      id,
      name: file.name,
      title: file.name,
      mimetype: file.mimetype,
      filetype: file.filetype ?? file.name.split('.').pop() ?? 'binary',
      size: file.size ?? file.bytes.length,
      mode: 'hosted',
      url_private: url,
      url_private_download: `${url}?download=1`,
    };
  }

  // ── Native streaming and agent sessions (issue #12) ──────────────────────────────────────────────────────

  /** After this many ms a stream answers appends/stops with `message_not_in_streaming_state` (Slack: about 5 min, *field*). */
  streamLifetimeMs = STREAM_LIFETIME_MS;
  /** Streamed text (start + appends + stop) beyond this many characters answers `msg_too_long` (Slack: about 12,000, *field*). */
  streamMaxChars = STREAM_MAX_CHARS;
  /**
   * What chat.stopStream answers after the user's Stop: undefined accepts it (the agent_session_stopped page tells
   * apps to leave `processing` "using either agents.sessions.setStatus or chat.stopStream"), or this error code.
   */
  stopStreamAfterUserStop: string | undefined;
  /** Agent sessions by `channel/thread_ts` (see `agentSession`). */
  private readonly sessions = new Map<string, AgentSession>();
  private readonly streamRefusals = new Map<string, StreamRefusal>();

  /**
   * chat.startStream in `team` (the call's `recipient_team_id`, else T0001), or in every team with `'all'`,
   * answers `error` from now on.
   */
  refuseStreaming(team: string, error: StreamRefusal): void {
    this.streamRefusals.set(team, error);
  }

  /**
   * The user clicks Slack's Stop on the streaming message at `ts`: later appends answer `stopped_by_user`; the
   * session stays `processing` (Slack leaves that to the app). Returns the `agent_session_stopped` fields Slack
   * then sends, for `agentSessionStoppedEvent`. Throws if no stream is running there.
   */
  stopStreamByUser(channel: string, ts: string): { channel: string; user: string; thread_ts: string; streaming_message_ts: string[] } {
    const message = this.liveMessage(channel, ts);
    if (!message?.stream || this.streamError(message.stream) !== undefined) throw new Error(`FakeSlack: no stream running at ${channel}/${ts}`);
    message.stream.state = 'stopped_by_user';
    return { channel, user: message.stream.recipientUserId ?? 'U123', thread_ts: message.thread_ts ?? ts, streaming_message_ts: [ts] };
  }

  /** The agent session of a thread (or of a session channel, without `threadTs`), if any call touched it. */
  agentSession(channel: string, threadTs?: string): AgentSession | undefined {
    return this.sessions.get(sessionKey(channel, threadTs));
  }

  /** Polls `predicate` every 10 ms; on timeout rejects listing the calls received so far. */
  waitFor(predicate: () => boolean, timeoutMs = 5_000): Promise<void> {
    return pollUntil(predicate, timeoutMs, () => `FakeSlack calls so far: ${this.describeCalls()}`);
  }

  /**
   * Holds every answer (after its latency) until the returned function is called: with `inFlight`, shows how
   * many calls a client has out at once, without a timing race.
   */
  holdAnswers(): () => void {
    let settle!: (answer: boolean) => void;
    const answered = new Promise<boolean>((resolve) => (settle = resolve));
    const held = { answered, settle };
    this.held = held;
    return () => {
      if (this.held === held) this.held = undefined;
      settle(true);
    };
  }

  /** Stops the server, cutting open connections, pending latency waits and held answers. */
  async close(): Promise<void> {
    this.delays.cancelAll();
    this.held?.settle(false);
    await closeServer(this.server);
  }

  /** Reads, answers and records one HTTP request. */
  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = preciseNow();
    const raw = await readBody(req);
    const path = new URL(req.url ?? '/', this.apiUrl).pathname;
    const method = path.startsWith('/api/')
      ? decodeURIComponent(path.slice('/api/'.length))
      : path === '/response'
        ? RESPONSE_URL_METHOD
        : undefined;
    if (req.method === 'GET' && path.startsWith('/files/')) return this.serveFile(req, res, path, at);
    if (req.method !== 'POST' || method === undefined) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end(`FakeSlack: no route for ${req.method} ${path}`);
      return;
    }
    const params = parseParams(raw, req.headers['content-type']);
    const token = bearerToken(req.headers.authorization) ?? (typeof params.token === 'string' ? params.token : undefined);
    const latencyMs = this.methodLatencyMs.get(method) ?? this.latencyMs;
    this.inFlight++;
    try {
      if (latencyMs > 0 && !(await this.delays.wait(latencyMs))) return;
      if (this.held && !(await this.held.answered)) return;
    } finally {
      this.inFlight--;
    }
    const answer = this.answer(method, params, token);
    this.calls.push({ method, params, at, status: answer.status, response: answer.body, token });
    if (answer.stallMs && !(await this.delays.wait(answer.stallMs))) return;
    if (answer.hangUp) {
      req.socket.destroy();
      return;
    }
    res
      .writeHead(answer.status, {
        'Content-Type': 'application/json; charset=utf-8',
        ...(this.grantedScopes ? { 'x-oauth-scopes': this.grantedScopes.join(',') } : {}),
        ...answer.headers,
      })
      .end(JSON.stringify(answer.body));
  }

  /** Decides the answer: scripted failure, then rate limit, then auth, then the method itself. */
  private answer(method: string, params: Record<string, Json>, token: string | undefined): Answer {
    const failure = this.failures.get(method)?.shift();
    if (failure?.applied) this.dispatch(method, params);
    if (failure) return failureAnswer(failure);
    const retryAfter = this.takeToken(method);
    if (retryAfter !== undefined) {
      return { status: 429, body: { ok: false, error: 'ratelimited' }, headers: { 'Retry-After': String(retryAfter) } };
    }
    if (method === RESPONSE_URL_METHOD) return ok({});
    if (!token) return platformError('not_authed');
    return this.dispatch(method, params);
  }

  /** Answers a Web API method from (and into) the message state. */
  private dispatch(method: string, params: Record<string, Json>): Answer {
    switch (method) {
      case 'auth.test':
        return ok({
          url: 'https://test-team.slack.com/',
          team: 'Test Team',
          user: 'claude',
          team_id: 'T0001',
          user_id: 'UBOT',
          bot_id: 'BBOT',
          is_enterprise_install: false,
        });
      case 'bots.info':
        // Slack checks the `users:read` scope here; script `failNext('bots.info', { error: 'missing_scope' })` for its absence.
        return params.bot === 'BBOT'
          ? ok({ bot: { id: 'BBOT', deleted: false, name: 'claude', app_id: 'A0001', user_id: 'UBOT', updated: TS_EPOCH } })
          : platformError('bot_not_found');
      case 'chat.postMessage':
        return this.postMessage(params);
      case 'chat.update':
        return this.update(params);
      case 'chat.delete':
        return this.delete(params);
      case 'chat.postEphemeral':
        if (typeof params.channel !== 'string' || params.channel === '') return platformError('channel_not_found');
        if (typeof params.user !== 'string' || params.user === '') return platformError('user_not_found');
        return ok({ message_ts: this.nextTs() });
      case 'conversations.replies':
        return this.replies(params);
      case 'conversations.history':
        return this.history(params);
      // Names: a missing `users:read` / `channels:read` scope is scripted with failNext(method, { error: 'missing_scope' }).
      case 'users.info': {
        const user = typeof params.user === 'string' ? this.users.get(params.user) : undefined;
        return user ? ok({ user: wireUser(user) }) : platformError('user_not_found');
      }
      case 'conversations.info': {
        const channel = typeof params.channel === 'string' ? this.channels.get(params.channel) : undefined;
        return channel ? ok({ channel: wireChannel(channel) }) : platformError('channel_not_found');
      }
      case 'files.info': {
        const file = typeof params.file === 'string' ? this.fileObject(params.file) : undefined;
        return file ? ok({ file }) : platformError('file_not_found');
      }
      case 'apps.connections.open':
        return this.socketModeUrl ? ok({ url: this.socketModeUrl }) : platformError('not_allowed_token_type');
      case 'chat.getPermalink':
        return ok({
          channel: params.channel,
          permalink: `https://test-team.slack.com/archives/${params.channel}/p${String(params.message_ts).replace('.', '')}`,
        });
      // Native streaming and agent sessions (issue #12).
      case 'chat.startStream':
        return this.startStream(params);
      case 'chat.appendStream':
        return this.appendStream(params);
      case 'chat.stopStream':
        return this.stopStream(params);
      case 'agents.sessions.setStatus':
        return this.setSessionStatus(params);
      case 'agents.sessions.rename': {
        const { channel_id: channel, title } = params;
        if (!isNonEmpty(channel)) return platformError('channel_not_found');
        if (!isNonEmpty(title) || title.length > MAX_SESSION_TITLE) return platformError('invalid_arguments');
        this.session(channel, params.thread_ts).title = title;
        return ok({ title });
      }
      case 'assistant.threads.setStatus':
        if (!isNonEmpty(params.channel_id)) return platformError('channel_not_found');
        return isNonEmpty(params.thread_ts) && typeof params.status === 'string' ? ok({}) : platformError('invalid_arguments');
      case 'assistant.threads.setSuggestedPrompts': {
        const { prompts } = params;
        if (!isNonEmpty(params.channel_id)) return platformError('channel_not_found');
        const valid = Array.isArray(prompts) && prompts.length <= MAX_SUGGESTED_PROMPTS && prompts.every((p: Json) => isNonEmpty(p?.title) && isNonEmpty(p?.message));
        return valid ? ok({}) : platformError('invalid_arguments');
      }
      default:
        return ok({});
    }
  }

  /** chat.postMessage: validates, stores and returns a new message. */
  private postMessage(params: Record<string, Json>): Answer {
    const channel = params.channel;
    if (typeof channel !== 'string' || channel === '') return platformError('channel_not_found');
    const channelError = this.channelErrors.get(channel);
    if (channelError) return platformError(channelError);
    const invalid = contentError(params, this.maxTextLength, this.unknownBlockTypes);
    if (invalid) return platformError(invalid);
    const { metadata } = params;
    if (metadata !== undefined && !isMessageMetadata(metadata)) return platformError('invalid_metadata_format');
    const ts = this.nextTs();
    const content = messageContent(params);
    const threadTs = typeof params.thread_ts === 'string' && params.thread_ts !== '' ? params.thread_ts : undefined;
    const message: StoredMessage = {
      channel,
      ts,
      ...(threadTs === undefined ? {} : { thread_ts: threadTs }),
      ...content,
      versions: [{ ...content, at: preciseNow() }],
      deleted: false,
      ...(metadata === undefined ? {} : { metadata }),
    };
    this.messages.set(ts, message);
    return ok({ channel, ts, message: wireMessage(message) });
  }

  /** chat.update: replaces text and blocks of a live message. */
  private update(params: Record<string, Json>): Answer {
    const message = this.liveMessage(params.channel, params.ts);
    if (!message) return platformError('message_not_found');
    if (message.stream && this.streamError(message.stream) === undefined) return platformError('streaming_state_conflict');
    const invalid = contentError(params, this.maxTextLength, this.unknownBlockTypes);
    if (invalid) return platformError(invalid);
    const content = messageContent(params);
    message.text = content.text;
    if (content.blocks === undefined) delete message.blocks;
    else message.blocks = content.blocks;
    message.versions.push({ ...content, at: preciseNow() });
    return ok({ channel: message.channel, ts: message.ts, text: message.text, message: wireMessage(message) });
  }

  /** chat.delete: marks a live message deleted. */
  private delete(params: Record<string, Json>): Answer {
    const message = this.liveMessage(params.channel, params.ts);
    if (!message) return platformError('message_not_found');
    message.deleted = true;
    return ok({ channel: message.channel, ts: message.ts });
  }

  /**
   * conversations.replies: the thread's stored parent (if any) and replies, in ts order, a page of `limit`
   * (default and maximum 1000, as Slack documents) at a time; `next_cursor` is opaque (the next offset). With
   * `oldest`, only replies after it (from it with `inclusive`); with `include_all_metadata`, each message's `metadata`.
   * https://docs.slack.dev/reference/methods/conversations.replies
   */
  private replies(params: Record<string, Json>): Answer {
    const threadTs = params.ts;
    const thread = this.conversation(params, (m) => m.ts === threadTs || m.thread_ts === threadTs).sort((a, b) => compareTs(a.ts, b.ts));
    return page(thread, params, MAX_REPLIES_LIMIT, MAX_REPLIES_LIMIT);
  }

  /**
   * conversations.history: the channel's top-level messages, newest first, a page of `limit` (default 100, at most
   * 999) at a time; `oldest`, `inclusive`, `include_all_metadata` and the cursor as in conversations.replies.
   * https://docs.slack.dev/reference/methods/conversations.history
   */
  private history(params: Record<string, Json>): Answer {
    const channel = this.conversation(params, (m) => m.thread_ts === undefined || m.thread_ts === m.ts).sort((a, b) => compareTs(b.ts, a.ts));
    return page(channel, params, 100, 999);
  }

  /** The live messages of `params.channel` that `include` takes, after `params.oldest` (from it with `inclusive`). */
  private conversation(params: Record<string, Json>, include: (message: StoredMessage) => boolean): StoredMessage[] {
    const { oldest } = params;
    const inclusive = params.inclusive === true || params.inclusive === 'true';
    const after = (ts: string) => typeof oldest !== 'string' || (inclusive ? compareTs(ts, oldest) >= 0 : compareTs(ts, oldest) > 0);
    return [...this.messages.values()].filter((m) => m.channel === params.channel && !m.deleted && include(m) && after(m.ts));
  }

  /**
   * chat.startStream: a thread reply in streaming state; outside DMs (channel ids not starting with D) it needs
   * `recipient_user_id` and `recipient_team_id` (Slack answers `missing_recipient_*`, seen in the field). Moves
   * the thread's agent session to `processing`.
   */
  private startStream(params: Record<string, Json>): Answer {
    const { channel, thread_ts: threadTs, recipient_user_id: userId, recipient_team_id: teamId } = params;
    if (!isNonEmpty(channel)) return platformError('channel_not_found');
    const refusal = this.streamRefusals.get(isNonEmpty(teamId) ? teamId : FAKE_TEAM_ID) ?? this.streamRefusals.get('all');
    if (refusal) return platformError(refusal);
    if (!isNonEmpty(threadTs)) return platformError('invalid_arguments');
    if (!channel.startsWith('D')) {
      if (!isNonEmpty(teamId)) return platformError('missing_recipient_team_id');
      if (!isNonEmpty(userId)) return platformError('missing_recipient_user_id');
    }
    const content = streamContent(params);
    if ('error' in content) return platformError(content.error);
    if (content.text.length > this.streamMaxChars) return platformError('msg_too_long');
    const ts = this.nextTs();
    const stream: StreamState = {
      state: 'streaming',
      ...(content.mode ? { mode: content.mode } : {}),
      startedAt: Date.now(),
      chars: content.text.length,
      chunks: [...content.chunks],
      ...(isNonEmpty(userId) ? { recipientUserId: userId } : {}),
      ...(isNonEmpty(teamId) ? { recipientTeamId: teamId } : {}),
    };
    const message: StoredMessage = { channel, ts, thread_ts: threadTs, text: content.text, versions: [{ text: content.text, at: preciseNow() }], deleted: false, stream };
    this.messages.set(ts, message);
    this.setStatus(channel, threadTs, 'processing');
    return ok({ channel, ts });
  }

  /** chat.appendStream: adds `markdown_text` or `chunks` (one is required) to a running stream. */
  private appendStream(params: Record<string, Json>): Answer {
    const found = this.runningStream(params, 'append');
    if ('error' in found) return platformError(found.error);
    const content = streamContent(params);
    if ('error' in content) return platformError(content.error);
    if (content.mode === undefined) return platformError('invalid_arguments');
    const refused = this.addToStream(found.message, content);
    return refused ? platformError(refused) : ok({ channel: found.message.channel, ts: found.message.ts });
  }

  /**
   * chat.stopStream: adds the last content and `blocks` (≤ 50, shown after the text), keeps `metadata`, ends the
   * stream and sets the session to `session_status` (default `active`).
   */
  private stopStream(params: Record<string, Json>): Answer {
    const found = this.runningStream(params, 'stop');
    if ('error' in found) return platformError(found.error);
    const { message } = found;
    const content = streamContent(params);
    if ('error' in content) return platformError(content.error);
    const sessionStatus = params.session_status ?? 'active';
    if (!SESSION_STATUSES.includes(sessionStatus)) return platformError('invalid_arguments');
    const { blocks } = params;
    if (blocks !== undefined && (!Array.isArray(blocks) || blocks.length > MAX_BLOCKS)) return platformError('invalid_blocks');
    const refused = this.addToStream(message, content, blocks);
    if (refused) return platformError(refused);
    const stream = message.stream!;
    stream.state = 'completed';
    if (params.metadata !== undefined) stream.metadata = params.metadata;
    this.setStatus(message.channel, message.thread_ts, sessionStatus);
    return ok({ channel: message.channel, ts: message.ts, message: { ...wireMessage(message), streaming_state: 'completed' } });
  }

  /** The streamed message `params` names, or the error Slack answers for it (after a user's Stop, see `stopStreamAfterUserStop`). */
  private runningStream(params: Record<string, Json>, call: 'append' | 'stop'): { message: StoredMessage } | { error: string } {
    const message = this.liveMessage(params.channel, params.ts);
    if (!message) return { error: 'message_not_found' };
    if (!message.stream) return { error: 'message_not_in_streaming_state' };
    const error = this.streamError(message.stream);
    if (error === 'stopped_by_user' && call === 'stop') {
      return this.stopStreamAfterUserStop === undefined ? { message } : { error: this.stopStreamAfterUserStop };
    }
    return error === undefined ? { message } : { error };
  }

  /** Why a stream takes no more content (undefined while it runs). */
  private streamError(stream: StreamState): string | undefined {
    if (stream.state === 'stopped_by_user') return 'stopped_by_user';
    if (stream.state === 'completed' || Date.now() - stream.startedAt >= this.streamLifetimeMs) return 'message_not_in_streaming_state';
    return undefined;
  }

  /** Adds content to a stream, keeping one version per call; the error code when Slack would refuse it. */
  private addToStream(message: StoredMessage, content: StreamContent, blocks?: Json[]): string | undefined {
    const stream = message.stream!;
    if (content.mode && stream.mode && content.mode !== stream.mode) return 'invalid_arguments';
    if (stream.chars + content.text.length > this.streamMaxChars) return 'msg_too_long';
    if (content.mode) stream.mode = content.mode;
    stream.chars += content.text.length;
    stream.chunks.push(...content.chunks);
    message.text += content.text;
    if (blocks !== undefined) message.blocks = blocks;
    message.versions.push({ text: message.text, ...(message.blocks ? { blocks: message.blocks } : {}), at: preciseNow() });
    return undefined;
  }

  /** agents.sessions.setStatus `{channel_id, thread_ts?, status}`; answers the status set. */
  private setSessionStatus(params: Record<string, Json>): Answer {
    const { channel_id: channel, status } = params;
    if (!isNonEmpty(channel)) return platformError('channel_not_found');
    if (!SESSION_STATUSES.includes(status)) return platformError('invalid_arguments');
    this.setStatus(channel, params.thread_ts, status);
    return ok({ status });
  }

  /** Records a session status change. */
  private setStatus(channel: string, threadTs: unknown, status: AgentSessionStatus): void {
    const session = this.session(channel, threadTs);
    session.status = status;
    session.history.push(status);
  }

  /** The session of a thread, created `active` on first use. */
  private session(channel: string, threadTs: unknown): AgentSession {
    const key = sessionKey(channel, isNonEmpty(threadTs) ? threadTs : undefined);
    let session = this.sessions.get(key);
    if (!session) {
      session = { status: 'active', history: [] };
      this.sessions.set(key, session);
    }
    return session;
  }

  /** `GET /files/<id>/<name>`: the bytes with the bot token, Slack's sign-in page (HTML) without access. */
  private async serveFile(req: IncomingMessage, res: ServerResponse, path: string, at: number): Promise<void> {
    const id = path.split('/')[2] ?? '';
    const token = bearerToken(req.headers.authorization);
    const file = this.files.get(id);
    let answer: { status: number; headers: Record<string, string>; body: Buffer | string };
    if (file?.redirectTo) answer = { status: 302, headers: { location: file.redirectTo }, body: '' };
    else if (!token || !file || file.access === 'html') {
      // Slack answers a download it will not serve with its sign-in page, not with an error status.
      answer = { status: 200, headers: { 'content-type': 'text/html; charset=utf-8' }, body: '<!DOCTYPE html><title>Sign in | Slack</title>' };
    } else answer = { status: 200, headers: { 'content-type': file.mimetype, 'content-length': String(file.bytes.length) }, body: file.bytes };
    const response = typeof answer.body === 'string' ? answer.body : `<${answer.body.length} bytes>`;
    this.calls.push({ method: FILE_DOWNLOAD_METHOD, params: { id, path }, at, status: answer.status, response, token });
    if (file?.stall && answer.status === 200 && token) {
      res.writeHead(200, { 'content-type': file.mimetype }).write(file.bytes.subarray(0, 16));
      const drip = setInterval(() => res.write(' '), 5000);
      res.on('close', () => clearInterval(drip));
      return;
    }
    res.writeHead(answer.status, answer.headers).end(answer.body);
  }

  /** The undeleted message at `ts` in `channel`, if any. */
  private liveMessage(channel: unknown, ts: unknown): StoredMessage | undefined {
    const message = typeof ts === 'string' ? this.messages.get(ts) : undefined;
    return message && !message.deleted && message.channel === channel ? message : undefined;
  }

  /** Takes a token from `method`'s bucket; returns Retry-After seconds when the bucket is empty. */
  private takeToken(method: string): number | undefined {
    const bucket = this.buckets.get(method);
    if (!bucket) return undefined;
    const now = Date.now();
    bucket.tokens = Math.min(bucket.burst, bucket.tokens + (now - bucket.last) * bucket.perMs);
    bucket.last = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return undefined;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / bucket.perMs / 1000));
  }

  /** A unique, increasing ts such as `1700000000.000100`. */
  private nextTs(): string {
    return nextSlackTs();
  }

  /** A compact list of recent calls for timeout messages. */
  private describeCalls(): string {
    if (this.calls.length === 0) return '(none)';
    const recent = this.calls.slice(-20).map((c) => `${c.method}→${c.status}${c.response?.ok ? '' : ` ${c.response?.error}`}`);
    return `${this.calls.length} (last ${recent.length}: ${recent.join(', ')})`;
  }
}

/** A successful Web API answer. */
function ok(fields: Record<string, Json>): Answer {
  return { status: 200, body: { ok: true, ...fields } };
}

/** An HTTP 200 `ok:false` answer, as Slack reports method errors. */
function platformError(error: string): Answer {
  return { status: 200, body: { ok: false, error } };
}

/** The answer for a scripted failure; a 429 carries Retry-After unless `noRetryAfter` says otherwise. */
function failureAnswer(failure: SlackFailure): Answer {
  const status = failure.status ?? 200;
  const error = failure.error ?? (status === 429 ? 'ratelimited' : status === 200 ? 'fatal_error' : 'internal_error');
  const headers = status === 429 && !failure.noRetryAfter ? { 'Retry-After': String(failure.retryAfter ?? 1) } : undefined;
  const body = { ok: false, error, ...(failure.needed ? { needed: failure.needed } : {}) };
  return { status, body, ...(headers ? { headers } : {}), ...(failure.hangUp ? { hangUp: true } : {}), ...(failure.stallMs ? { stallMs: failure.stallMs } : {}) };
}

/** One page of `messages` for conversations.replies/.history: `limit` (with its default and maximum), the opaque cursor, metadata on request. */
function page(messages: StoredMessage[], params: Record<string, Json>, defaultLimit: number, maxLimit: number): Answer {
  const withMetadata = params.include_all_metadata === true || params.include_all_metadata === 'true';
  const limit = Math.min(maxLimit, Number(params.limit ?? defaultLimit) || defaultLimit);
  let offset = 0;
  if (typeof params.cursor === 'string' && params.cursor !== '') {
    offset = Number(Buffer.from(params.cursor, 'base64url').toString().replace(/^offset:/, ''));
    if (!Number.isInteger(offset) || offset <= 0) return platformError('invalid_cursor');
  }
  const end = offset + limit;
  const hasMore = end < messages.length;
  return ok({
    messages: messages.slice(offset, end).map((message) => ({ ...wireMessage(message), ...(withMetadata && message.metadata !== undefined ? { metadata: message.metadata } : {}) })),
    has_more: hasMore,
    response_metadata: { next_cursor: hasMore ? Buffer.from(`offset:${end}`).toString('base64url') : '' },
  });
}

/** Slack's message metadata shape: `event_type` a string, `event_payload` an object (https://docs.slack.dev/messaging/message-metadata). */
function isMessageMetadata(metadata: Json): boolean {
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) return false;
  const payload = metadata.event_payload;
  return typeof metadata.event_type === 'string' && metadata.event_type !== '' && payload !== null && typeof payload === 'object' && !Array.isArray(payload);
}

/** Decodes a form or JSON body; form values that look like JSON objects/arrays are parsed back. */
function parseParams(raw: string, contentType: string | undefined): Record<string, Json> {
  if (raw === '') return {};
  if (contentType?.includes('application/json')) {
    const parsed: Json = JSON.parse(raw);
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? parsed : {};
  }
  const params: Record<string, Json> = {};
  for (const [key, value] of new URLSearchParams(raw)) params[key] = decodeJsonish(value);
  return params;
}

/** Parses a form value back to an object/array when it is JSON-encoded (as web-api does for blocks). */
function decodeJsonish(value: string): Json {
  const first = value.trimStart()[0];
  if (first !== '[' && first !== '{') return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

/** The token from an `Authorization: Bearer …` header. */
function bearerToken(header: string | undefined): string | undefined {
  const match = header?.match(/^Bearer\s+(.+)$/i);
  return match?.[1];
}

/** The text and blocks a postMessage/update sets (`markdown_text` counts as text). */
function messageContent(params: Record<string, Json>): { text: string; blocks?: unknown[] } {
  const text = typeof params.text === 'string' ? params.text : typeof params.markdown_text === 'string' ? params.markdown_text : '';
  return Array.isArray(params.blocks) ? { text, blocks: params.blocks } : { text };
}

/** Slack's error code for content over its size limits, or missing content. */
function contentError(params: Record<string, Json>, maxTextLength: number, unknownBlockTypes: ReadonlySet<string> = new Set()): string | undefined {
  const { text, blocks } = params;
  const hasText = (typeof text === 'string' && text !== '') || (typeof params.markdown_text === 'string' && params.markdown_text !== '');
  if (!hasText && blocks === undefined && params.attachments === undefined) return 'no_text';
  if (typeof text === 'string' && text.length > maxTextLength) return 'msg_too_long';
  if (blocks === undefined) return undefined;
  if (!Array.isArray(blocks)) return 'invalid_blocks_format';
  if (blocks.length > MAX_BLOCKS) return 'invalid_blocks';
  let markdownLength = 0;
  for (const block of blocks as Json[]) {
    if (block?.type === 'section' && typeof block.text?.text === 'string' && block.text.text.length > SECTION_TEXT_LIMIT) {
      return 'invalid_blocks';
    }
    if (block?.type === 'markdown' && typeof block.text === 'string') markdownLength += block.text.length;
    if (block?.type === 'context_actions' && !validContextActions(block)) return 'invalid_blocks';
    if (unknownBlockTypes.has(block?.type)) return 'invalid_blocks';
  }
  return markdownLength > MARKDOWN_BLOCKS_LIMIT ? 'msg_blocks_too_long' : undefined;
}

/**
 * A `context_actions` block as Slack's Block Kit reference shapes it: 1 to 5 elements, each `feedback_buttons`
 * (an action_id, and positive/negative buttons of plain_text text and a string value) or `icon_button`.
 */
function validContextActions(block: Json): boolean {
  const { elements } = block;
  if (!Array.isArray(elements) || elements.length < 1 || elements.length > 5) return false;
  const validButton = (button: Json) =>
    button?.text?.type === 'plain_text' && typeof button.text.text === 'string' && button.text.text !== '' && typeof button.value === 'string';
  return (elements as Json[]).every((element) =>
    element?.type === 'icon_button' ||
    (element?.type === 'feedback_buttons' && typeof element.action_id === 'string' && validButton(element.positive_button) && validButton(element.negative_button)),
  );
}

/** The content one streaming call carries: its form (none when it carries nothing), text and chunks. */
interface StreamContent {
  mode?: 'markdown_text' | 'chunks';
  text: string;
  chunks: Json[];
}

/**
 * Reads `markdown_text` or `chunks` (not both) of a streaming call. Chunks as @slack/types 3 `AnyChunk`:
 * markdown_text {text}, task_update {id, title, status, details?, output?}, plan_update {title}, blocks {blocks};
 * only markdown_text chunks add text. An empty `chunks` (the SDK's chatStream stop sends one) carries nothing.
 */
function streamContent(params: Record<string, Json>): StreamContent | { error: string } {
  const { markdown_text: markdown, chunks } = params;
  if (markdown !== undefined && chunks !== undefined) return { error: 'invalid_arguments' };
  if (typeof markdown === 'string' && markdown !== '') return { mode: 'markdown_text', text: markdown, chunks: [] };
  if (chunks === undefined) return { text: '', chunks: [] };
  if (!Array.isArray(chunks) || !chunks.every(isValidChunk)) return { error: 'invalid_arguments' };
  const text = chunks.map((c: Json) => (c.type === 'markdown_text' ? c.text : '')).join('');
  return chunks.length === 0 ? { text: '', chunks: [] } : { mode: 'chunks', text, chunks };
}

/** True for a chunk shaped as @slack/types 3 (chunk.d.ts) describes it. */
function isValidChunk(chunk: Json): boolean {
  switch (chunk?.type) {
    case 'markdown_text':
      return typeof chunk.text === 'string';
    case 'task_update':
      return isNonEmpty(chunk.id) && typeof chunk.title === 'string' && TASK_STATUSES.includes(chunk.status);
    case 'plan_update':
      return typeof chunk.title === 'string';
    case 'blocks':
      return Array.isArray(chunk.blocks) && chunk.blocks.length <= MAX_BLOCKS;
    default:
      return false;
  }
}

/** The sessions map key of a thread (or a session channel). */
function sessionKey(channel: string, threadTs: string | undefined): string {
  return `${channel}/${threadTs ?? ''}`;
}

/** True for a non-empty string. */
function isNonEmpty(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}

/** A stored message as Slack returns it in `message` / `messages`. */
function wireMessage(message: StoredMessage): Record<string, Json> {
  const { app } = message;
  const author = app
    ? { subtype: 'bot_message', bot_id: app.botId, username: app.name, bot_profile: { id: app.botId, name: app.name } }
    : message.user === undefined
      ? { user: 'UBOT', bot_id: 'BBOT', app_id: 'A0001' }
      : { user: message.user, ...(message.subtype === undefined ? {} : { subtype: message.subtype }) };
  return {
    type: 'message',
    ...author,
    ...(message.files === undefined ? {} : { files: message.files }),
    team: 'T0001',
    text: message.text,
    ts: message.ts,
    ...(message.thread_ts === undefined ? {} : { thread_ts: message.thread_ts }),
    ...(message.blocks === undefined ? {} : { blocks: message.blocks }),
  };
}

/** A user object as `users.info` returns it (https://docs.slack.dev/reference/objects/user-object). */
function wireUser(user: FakeUser): Record<string, Json> {
  const realName = user.real_name ?? '';
  const team = user.team_id ?? 'T0001';
  return {
    id: user.id,
    team_id: team,
    name: user.name,
    deleted: false,
    real_name: realName,
    is_bot: false,
    ...(user.is_stranger === undefined ? {} : { is_stranger: user.is_stranger }),
    ...(user.enterprise_id === undefined ? {} : { enterprise_user: { id: user.id, enterprise_id: user.enterprise_id, enterprise_name: 'Test Org', teams: [team] } }),
    profile: { real_name: realName, display_name: user.display_name ?? '', team },
  };
}

/** A conversation object as `conversations.info` returns it (https://docs.slack.dev/reference/objects/conversation-object). */
function wireChannel(channel: FakeChannel): Record<string, Json> {
  const isIm = channel.is_im ?? false;
  const isMpim = channel.is_mpim ?? false;
  return {
    id: channel.id,
    ...(channel.name === undefined ? {} : { name: channel.name }),
    is_channel: !isIm && !isMpim,
    is_group: false,
    is_im: isIm,
    is_mpim: isMpim,
    is_private: isIm || isMpim,
    is_archived: false,
  };
}

/** Orders two Slack ts strings numerically. */
function compareTs(a: string, b: string): number {
  const [aSec = 0, aMicro = 0] = a.split('.').map(Number);
  const [bSec = 0, bMicro = 0] = b.split('.').map(Number);
  return aSec - bSec || aMicro - bMicro;
}

/** A real WebClient pointed at `slack`, failing fast on 429 instead of waiting: the SDK's own argument shapes on the wire. */
export function slackClient(slack: FakeSlack): WebClient {
  return new WebClient('xoxb-test', {
    slackApiUrl: slack.apiUrl,
    rejectRateLimitedCalls: true,
    retryConfig: { retries: 0 },
    logLevel: LogLevel.ERROR,
  });
}
