import { TEXT_MAX_CHARS } from './fileContent.js';

/**
 * The Messages API's request limit (32 MB, https://platform.claude.com/docs/en/api/overview#request-size-limits)
 * less 1 MB for the rest of the request (system prompt, history, thread context), which the reader cannot see.
 */
export const ATTACHMENT_BUDGET_BYTES = 31_000_000;

/**
 * Images plus PDF pages per request: the API answers more with a 400 ("Too much media: 0 document pages +
 * 102 images > 100"); https://platform.claude.com/docs/en/build-with-claude/pdf-support gives 100 pages.
 */
export const MEDIA_BUDGET = 100;

/** The most bytes a cut text file takes as JSON: every UTF-16 unit a 6-byte `\u00XX`, the cut marker (< 200) and quotes. */
const TEXT_MAX_WIRE_BYTES = 6 * (TEXT_MAX_CHARS + 200) + 2;

/**
 * The most request bytes a file of `size` bytes can become, whatever its bytes turn out to be: a PDF's base64,
 * or a text's JSON escapes (a downscaled image only shrinks).
 */
export function maxRequestBytes(size: number): number {
  return Math.max(Math.ceil(size / 3) * 4, Math.min(6 * size + 2, TEXT_MAX_WIRE_BYTES));
}

/** Which request limit a file would break. */
export type Overspend = 'requestFull' | 'tooMuchMedia';

/**
 * One request's shares of Claude's limits for attached files: bytes and media, spent in order of importance.
 * Before a download, a file reserves what it may cost (so only what can fit is downloaded); once read, it
 * gives the reservation back and spends what it really costs, in order.
 */
export class RequestBudget {
  private bytesLeft = ATTACHMENT_BUDGET_BYTES;
  private mediaLeft = MEDIA_BUDGET;
  private reserved = 0;

  /** Whether `bytes` more fit beside what is spent and reserved. */
  fits(bytes: number): boolean {
    return bytes <= this.bytesLeft - this.reserved;
  }

  /** Holds `bytes` for a file being downloaded. */
  reserve(bytes: number): void {
    this.reserved += bytes;
  }

  /** Gives back what `reserve` held. */
  release(bytes: number): void {
    this.reserved -= bytes;
  }

  /** Spends a read file's real cost when it fits what is left; else says which limit it would break and spends nothing. */
  spend(requestBytes: number, media: number): Overspend | undefined {
    if (requestBytes > this.bytesLeft) return 'requestFull';
    if (media > this.mediaLeft) return 'tooMuchMedia';
    this.bytesLeft -= requestBytes;
    this.mediaLeft -= media;
    return undefined;
  }
}
