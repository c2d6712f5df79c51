import type { WebClient } from '@slack/web-api';
import pLimit from 'p-limit';
import type { Attachment } from '../claude/turn.js';
import { copy } from '../copy.js';
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
  /** The longest one download may take; 60 s by default. */
  timeoutMs?: number;
}

/**
 * The Messages API's request limit (32 MB, https://platform.claude.com/docs/en/api/overview#request-size-limits)
 * less 1 MB for the rest of the request (system prompt, history, thread context), which this reader cannot see.
 */
const ATTACHMENT_BUDGET_BYTES = 31_000_000;

/** PDF pages per request (https://platform.claude.com/docs/en/build-with-claude/pdf-support). */
const PDF_PAGE_BUDGET = 100;

/** Where Slack serves files (`url_private_download`) for commercial Slack and GovSlack. */
const SLACK_FILE_ORIGINS = ['https://files.slack.com', 'https://files.slack-gov.com'];

/** Downloads at once: enough to overlap a few files' latency without holding many files in memory. */
const CONCURRENT_DOWNLOADS = 3;

/** Why a file could not be read, before or after its download. */
type Problem = keyof typeof copy.files.reasons;

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
   * Reads `files`, most important first (the question's own, then the newest context): per-file limits
   * (FILE_MAX_BYTES) and the request's limits (32 MB, 100 PDF pages) are spent in that order. Never throws;
   * keyed by file id.
   */
  async read(files: readonly SlackFile[], signal?: AbortSignal): Promise<Map<string, FileOutcome>> {
    const limit = pLimit(CONCURRENT_DOWNLOADS);
    const unique = [...new Map(files.map((file) => [file.id, file])).values()];
    const contents = await Promise.all(unique.map((file) => limit(() => this.contentOf(file, signal))));
    let bytesLeft = ATTACHMENT_BUDGET_BYTES;
    let pagesLeft = PDF_PAGE_BUDGET;
    const outcomes = new Map<string, FileOutcome>();
    for (const [i, { name, content }] of contents.entries()) {
      const id = unique[i]!.id;
      if ('problem' in content) {
        outcomes.set(id, { note: unreadNote(name, content.problem, this.options.maxBytes) });
      } else if (content.requestBytes > bytesLeft) {
        outcomes.set(id, { note: unreadNote(name, 'requestFull', this.options.maxBytes) });
      } else if (content.pages > pagesLeft) {
        outcomes.set(id, { note: unreadNote(name, 'tooManyPages', this.options.maxBytes) });
      } else {
        bytesLeft -= content.requestBytes;
        pagesLeft -= content.pages;
        const { attachment } = content;
        outcomes.set(id, content.cut ? { attachment, note: copy.files.cut(name, TEXT_MAX_CHARS) } : { attachment });
      }
    }
    return outcomes;
  }

  /** One file's content or problem, with the name to report it under (files.info may tell a stub's name). */
  private async contentOf(listed: SlackFile, signal?: AbortSignal): Promise<{ name: string; content: FileContent | { problem: Problem } }> {
    const lookup = needsLookup(listed) ? await this.lookUp(listed) : { file: listed };
    if ('problem' in lookup) return { name: fileNameOf(listed), content: lookup };
    const found = lookup.file;
    const name = fileNameOf(found);
    const problem = problemBeforeDownload(found, this.options.maxBytes);
    if (problem) return { name, content: { problem } };
    const url = (found.url_private_download ?? found.url_private)!;
    const download = await downloadSlackFile(url, {
      token: this.options.botToken,
      trustedOrigins: this.trustedOrigins,
      maxBytes: this.options.maxBytes,
      timeoutMs: this.options.timeoutMs ?? 60_000,
      htmlIsContent: isHtmlFile(found),
      signal,
    });
    if (download.kind !== 'ok') return { name, content: { problem: problemOfDownload(download) } };
    return { name, content: await fileContentOf(name, download.bytes) };
  }

  /** The full file object from `files.info` (https://docs.slack.dev/reference/methods/files.info). */
  private async lookUp(file: SlackFile): Promise<{ file: SlackFile } | { problem: Problem }> {
    try {
      const answer = await this.web.files.info({ file: file.id });
      const parsed = slackFileSchema.safeParse(answer.file);
      return parsed.success ? { file: parsed.data } : { problem: 'failed' };
    } catch (error) {
      const failure = classifySlackError(error);
      const gone = failure.kind === 'other' && (failure.error === 'file_not_found' || failure.error === 'file_deleted');
      return { problem: gone ? 'gone' : 'failed' };
    }
  }
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

function problemOfDownload(download: Exclude<Download, { kind: 'ok' }>): Problem {
  switch (download.kind) {
    case 'too_large':
      return 'tooLarge';
    case 'html':
      return 'noAccess';
    case 'foreign_host':
      return 'external';
    case 'failed':
      return 'failed';
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
