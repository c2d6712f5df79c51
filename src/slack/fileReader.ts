import type { WebClient } from '@slack/web-api';
import pLimit from 'p-limit';
import type { Attachment } from '../claude/turn.js';
import { copy } from '../copy.js';
import type { Logger } from '../logger.js';
import { maxRequestBytes, RequestBudget } from './fileBudget.js';
import { fileContentOf, TEXT_MAX_CHARS, type FileContent } from './fileContent.js';
import { downloadSlackFile, type Download } from './fileDownload.js';
import { classifySlackError } from './slackErrors.js';
import { fileNameOf, slackFileSchema, type SlackFile } from './slackFile.js';

/**
 * What became of one file: something Claude can read (with a note when only part of it was read), or a note
 * (Markdown, from copy) saying why not.
 */
export type FileOutcome = { attachment: Attachment; note?: string } | { note: string };

export interface FileReaderOptions {
  /** Sent as `Authorization: Bearer` to Slack's file hosts only (scope `files:read`). */
  botToken: string;
  /** FILE_MAX_BYTES: a larger file is not downloaded (or its download is cut off). */
  maxBytes: number;
  /**
   * SLACK_API_URL: its origin may receive the token too (GovSlack, a proxy, the tests' fake Slack). By default
   * the URL `web` calls, which is SLACK_API_URL when the client was built from the config.
   */
  slackApiUrl?: string;
  /** The longest one download may take; 10 s by default. */
  timeoutMs?: number;
  /** The longest all files of one answer may take, after which the rest get a "took too long" note; 15 s by default. */
  deadlineMs?: number;
  /** Where each file that could not be read is reported (warn, once, by id and reason). */
  logger?: Logger;
}

/**
 * One download's limit: a stalled file gives up its slot (of 3) in time for the files queued behind it to
 * still be read within the answer's deadline. A 20 MB file needs 2 MB/s.
 */
const DOWNLOAD_TIMEOUT_MS = 10_000;

/** All files of one answer: about as long as people wait for an answer to start before they think it stuck. */
const FILES_DEADLINE_MS = 15_000;

/**
 * Files one answer considers, the question's first: each may cost a `files.info` call (Tier 4, about 100 a
 * minute for the whole workspace) and a download, again for every follow-up in the thread, and 40 is more
 * than three downloads at a time finish within the deadline. The rest get a note.
 */
const MAX_FILES = 40;

/** Where Slack serves files (`url_private_download`) for commercial Slack and GovSlack. */
const SLACK_FILE_ORIGINS = ['https://files.slack.com', 'https://files.slack-gov.com'];

/** Downloads at once: enough to overlap a few files' latency without holding many files in memory. */
const CONCURRENT_DOWNLOADS = 3;

/** Why a file could not be read, before or after its download. */
type Problem = keyof typeof copy.files.reasons;

/** Why a file could not be read, with what the log may add (an HTTP status, a timeout; never a URL). */
type Unread = { problem: Problem; detail?: string };

/** One file's result: its content once read, or why not, under the name a person knows it by. */
type Result = { name: string } & ({ content: Extract<FileContent, { attachment: Attachment }> } | Unread);

/**
 * Reads files attached to Slack messages for Claude: downloads `url_private_download` with the bot token
 * (`files:read`), looks stubs and history references (no download URL) up with `files.info`, and turns each
 * into an image, PDF or text attachment, or a note naming the file when it cannot be read.
 */
export class FileReader {
  private readonly trustedOrigins: ReadonlySet<string>;

  constructor(
    private readonly web: WebClient,
    private readonly options: FileReaderOptions,
  ) {
    this.trustedOrigins = new Set([...SLACK_FILE_ORIGINS, new URL(options.slackApiUrl ?? web.slackApiUrl).origin]);
  }

  /**
   * Reads `files`, most important first (the question's own, then the newest context): the first 40, each
   * within FILE_MAX_BYTES, while the request's limits (31 MB, 100 images and PDF pages) last, spent in that
   * order before anything is downloaded and again with the real bytes; all within the deadline. Never throws;
   * keyed by file id.
   */
  async read(files: readonly SlackFile[], signal?: AbortSignal): Promise<Map<string, FileOutcome>> {
    const unique = [...new Map(files.map((file) => [file.id, file])).values()];
    const deadline = AbortSignal.timeout(this.options.deadlineMs ?? FILES_DEADLINE_MS);
    const done = new AbortController();
    const stop = AbortSignal.any([deadline, done.signal, ...(signal ? [signal] : [])]);
    const stopped = aborted(stop);
    const budget = new RequestBudget();
    const limit = pLimit(CONCURRENT_DOWNLOADS);
    const results = new Map<string, Result>();
    let closed = false;
    // Each file spends the budget once the files before it have: the chain of their results, in order.
    let before: Promise<unknown> = Promise.resolve();
    const reads = unique.slice(0, MAX_FILES).map((file) => {
      const earlier = before;
      const read = limit(() => this.readOne(file, { budget, earlier, stop, stopped }))
        .catch((): Result => ({ name: fileNameOf(file), problem: 'failed' }))
        .then((result) => {
          // Past the deadline the answer has gone on without this file.
          if (result && !closed) results.set(file.id, result);
        });
      before = read;
      return read;
    });
    await Promise.race([Promise.all(reads), stopped]);
    done.abort();
    // Files read in time but waiting on a stalled earlier one now spend, in order: microtasks only, done by then.
    await new Promise((resolve) => setImmediate(resolve));
    closed = true;
    const late: Problem = deadline.aborted ? 'tookTooLong' : 'failed';
    const outcomes = new Map<string, FileOutcome>();
    for (const [i, file] of unique.entries()) {
      const result = results.get(file.id) ?? { name: fileNameOf(file), problem: i < MAX_FILES ? late : 'tooManyFiles' };
      outcomes.set(file.id, this.outcomeOf(file.id, result));
    }
    return outcomes;
  }

  /** What Claude and the user get for one file's result; a file not read is logged once, here. */
  private outcomeOf(id: string, result: Result): FileOutcome {
    if ('content' in result) {
      const { attachment, cut } = result.content;
      return cut ? { attachment, note: copy.files.cut(result.name, TEXT_MAX_CHARS) } : { attachment };
    }
    // The id, not the name: a file's name is the user's text and may hold anything.
    this.options.logger?.warn({ file: id, reason: result.problem, ...(result.detail ? { detail: result.detail } : {}) }, 'could not read an attached file');
    return { note: unreadNote(result.name, result.problem, this.options.maxBytes) };
  }

  /**
   * One file: looked up if need be, downloaded only when what it may cost fits the budget left (waiting for the
   * files before it to settle when it does not yet), read, then spent in order once the files before it are
   * (or the deadline passed). Undefined when the deadline or the caller cut it short.
   */
  private async readOne(
    listed: SlackFile,
    { budget, earlier, stop, stopped }: { budget: RequestBudget; earlier: Promise<unknown>; stop: AbortSignal; stopped: Promise<void> },
  ): Promise<Result | undefined> {
    const lookup = needsLookup(listed) ? await this.lookUp(listed) : { file: listed };
    if ('problem' in lookup) return { name: fileNameOf(listed), ...lookup };
    const found = lookup.file;
    const name = fileNameOf(found);
    const problem = problemBeforeDownload(found, this.options.maxBytes);
    if (problem) return { name, problem };
    const estimate = maxRequestBytes(found.size ?? this.options.maxBytes);
    if (!budget.fits(estimate)) {
      await Promise.race([earlier, stopped]);
      if (stop.aborted) return undefined;
      if (!budget.fits(estimate)) return { name, problem: 'requestFull' };
    }
    budget.reserve(estimate);
    let content: FileContent | Unread;
    let cut: boolean;
    try {
      content = await this.contentOf(found, stop);
      cut = stop.aborted;
      await Promise.race([earlier, stopped]);
    } finally {
      budget.release(estimate);
    }
    if ('problem' in content) return cut ? undefined : { name, ...content };
    const over = budget.spend(content.requestBytes, content.media);
    return over ? { name, problem: over } : { name, content };
  }

  /** One file's bytes made into content, or why not. */
  private async contentOf(file: SlackFile, signal: AbortSignal): Promise<FileContent | Unread> {
    const url = (file.url_private_download ?? file.url_private)!;
    const download = await downloadSlackFile(url, {
      token: this.options.botToken,
      trustedOrigins: this.trustedOrigins,
      maxBytes: this.options.maxBytes,
      timeoutMs: this.options.timeoutMs ?? DOWNLOAD_TIMEOUT_MS,
      htmlIsContent: isHtmlFile(file),
      signal,
    });
    if (download.kind !== 'ok') return unreadDownload(download);
    return fileContentOf(fileNameOf(file), download.bytes, signal);
  }

  /** The full file object from `files.info` (https://docs.slack.dev/reference/methods/files.info). */
  private async lookUp(file: SlackFile): Promise<{ file: SlackFile } | Unread> {
    try {
      const answer = await this.web.files.info({ file: file.id });
      const parsed = slackFileSchema.safeParse(answer.file);
      return parsed.success ? { file: parsed.data } : { problem: 'failed', detail: 'files.info: unexpected file object' };
    } catch (error) {
      const failure = classifySlackError(error);
      const gone = failure.kind === 'other' && (failure.error === 'file_not_found' || failure.error === 'file_deleted');
      return { problem: gone ? 'gone' : 'failed', detail: `files.info: ${failure.kind === 'other' ? failure.error : failure.kind}` };
    }
  }
}

/** Resolves when `signal` aborts. */
function aborted(signal: AbortSignal): Promise<void> {
  return signal.aborted ? Promise.resolve() : new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

/** A Slack Connect stub (`file_access: 'check_file_info'`) or a reference kept in history (id and name only). */
function needsLookup(file: SlackFile): boolean {
  return file.file_access === 'check_file_info' || (!file.url_private_download && !file.url_private);
}

/** What the file object alone says: deleted, hidden, stored elsewhere, or larger than FILE_MAX_BYTES. */
function problemBeforeDownload(file: SlackFile, maxBytes: number): Problem | undefined {
  // `tombstone`: deleted; `hidden_by_limit`: beyond a free workspace's history (file object `mode`).
  if (file.mode === 'tombstone' || file.mode === 'hidden_by_limit') return 'gone';
  if (file.mode === 'external' || file.is_external === true) return 'external';
  if (file.file_access === 'check_file_info' || (!file.url_private_download && !file.url_private)) return 'noAccess';
  if (file.size !== undefined && file.size > maxBytes) return 'tooLarge';
  return undefined;
}

/** An HTML file the user attached: Slack serves it as `text/html`, like its sign-in page. */
function isHtmlFile(file: SlackFile): boolean {
  return file.filetype === 'html' || file.mimetype === 'text/html';
}

/** Why a download gave no bytes, with its detail for the log. */
function unreadDownload(download: Exclude<Download, { kind: 'ok' }>): Unread {
  switch (download.kind) {
    case 'too_large':
      return { problem: 'tooLarge' };
    case 'html':
      return { problem: 'noAccess', detail: "Slack's sign-in page instead of the file" };
    case 'foreign_host':
      return { problem: 'external', detail: `hosted on ${download.host}` };
    case 'failed':
      return { problem: 'failed', detail: download.reason };
  }
}

/** "I couldn't read <name>: <reason>." */
function unreadNote(name: string, problem: Problem, maxBytes: number): string {
  const reason = copy.files.reasons[problem];
  return copy.files.unread(name, typeof reason === 'function' ? reason(megabytes(maxBytes)) : reason);
}

/** Bytes as whole megabytes (10^6, as FILE_MAX_BYTES's default of 20000000 is "20 MB"), rounded down. */
function megabytes(bytes: number): number {
  return Math.max(1, Math.floor(bytes / 1_000_000));
}
