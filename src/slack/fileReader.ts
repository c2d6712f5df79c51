import type { WebClient } from '@slack/web-api';
import type { Attachment } from '../claude/turn.js';
import type { SlackFile } from './slackFile.js';

/** What became of one file: something Claude can read, or a note (Markdown, from copy) saying why not. */
export type FileOutcome = { attachment: Attachment } | { note: string };

/**
 * Reads files attached to Slack messages for Claude: downloads `url_private_download` with the bot token
 * (`files:read`), looks stubs and history references (no download URL) up with `files.info`, and turns each
 * into an image, PDF or text attachment, or a note naming the file when it cannot be read.
 *
 * SKELETON: the issue-11 files work replaces this stub.
 */
export class FileReader {
  constructor(
    private readonly web: WebClient,
    private readonly options: { botToken: string; maxBytes: number },
  ) {}

  /**
   * Reads `files`, most important first (the question's own, then the newest context): per-file limits
   * (FILE_MAX_BYTES) and the request's limits (32 MB, 100 PDF pages) are spent in that order. Never throws;
   * keyed by file id.
   */
  async read(files: readonly SlackFile[], signal?: AbortSignal): Promise<Map<string, FileOutcome>> {
    void this.web;
    void this.options;
    void signal;
    return new Map(files.map((file) => [file.id, { note: `_(I couldn't read ${file.name ?? file.id}.)_` }]));
  }
}
