import { fileTypeFromBuffer } from 'file-type';
import type { Attachment } from '../claude/turn.js';
import { pdfPages } from './pdfPages.js';

/**
 * The Messages API's largest image: 5 MB of base64 (its 400 reads "image exceeds 5 MB maximum: … bytes >
 * 5242880 bytes"). https://platform.claude.com/docs/en/build-with-claude/vision
 */
export const IMAGE_MAX_BASE64 = 5 * 1024 * 1024;

/**
 * The long edge past which the API downscales an image anyway (vision docs: "1568 pixels"): sending it
 * larger only costs bytes and upload time, so larger images are downscaled here first.
 */
export const IMAGE_MAX_EDGE = 1568;

/**
 * The most characters of one text file Claude gets: about 25,000 tokens, so two or three logs, the thread
 * context (THREAD_CONTEXT_MAX_CHARS, 40,000 by default) and the history still fit well inside the context
 * window with room for the answer. A longer file is cut, keeping its start, with a note.
 */
export const TEXT_MAX_CHARS = 100_000;

/**
 * What the bytes of one file became: an attachment with what it costs the request (its bytes on the wire, and
 * media: 1 for an image, its pages for a PDF), or why not.
 */
export type FileContent =
  | { attachment: Attachment; requestBytes: number; media: number; cut?: boolean }
  | { problem: 'unsupported' | 'empty' | 'damaged' | 'encrypted' | 'imageTooLarge' };

type ImageType = Extract<Attachment, { type: 'image' }>['mediaType'];
const IMAGE_TYPES: ReadonlySet<string> = new Set<ImageType>(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);

/**
 * Turns a file's bytes into what Claude can read, by the bytes themselves (file-type's magic numbers), never
 * by the name or Slack's mimetype: a wrong `media_type` is a 400 that would fail the whole answer.
 */
export async function fileContentOf(name: string, bytes: Buffer, signal?: AbortSignal): Promise<FileContent> {
  if (bytes.length === 0) return { problem: 'empty' };
  const mime = (await fileTypeFromBuffer(bytes))?.mime;
  if (isImageType(mime)) return imageContent(name, bytes, mime);
  if (mime === 'application/pdf') return pdfContent(name, bytes, signal);
  return textContent(name, bytes);
}

function isImageType(mime: string | undefined): mime is ImageType {
  return mime !== undefined && IMAGE_TYPES.has(mime);
}

/** An image as it is when small enough, else downscaled (sharp); without sharp a too-large image is skipped. */
async function imageContent(name: string, bytes: Buffer, mediaType: ImageType): Promise<FileContent> {
  const sharp = await loadSharp();
  if (!sharp) return bytes.length <= maxRawBytes(IMAGE_MAX_BASE64) ? image(name, mediaType, bytes) : { problem: 'imageTooLarge' };
  try {
    // An animated GIF or WebP: Claude reads one frame, and sharp takes the first by default.
    const { width = 0, height = 0 } = await sharp(bytes).metadata();
    if (Math.max(width, height) <= IMAGE_MAX_EDGE && bytes.length <= maxRawBytes(IMAGE_MAX_BASE64)) return image(name, mediaType, bytes);
    const resized = sharp(bytes).rotate().resize({ width: IMAGE_MAX_EDGE, height: IMAGE_MAX_EDGE, fit: 'inside', withoutEnlargement: true });
    // PNG keeps screenshots' text sharp; JPEG is the fallback for photos whose PNG would still be too large.
    const png = await resized.clone().png({ compressionLevel: 9 }).toBuffer();
    if (png.length <= maxRawBytes(IMAGE_MAX_BASE64)) return image(name, 'image/png', png);
    const jpeg = await resized.flatten({ background: '#ffffff' }).jpeg({ quality: 80 }).toBuffer();
    return jpeg.length <= maxRawBytes(IMAGE_MAX_BASE64) ? image(name, 'image/jpeg', jpeg) : { problem: 'imageTooLarge' };
  } catch {
    return { problem: 'damaged' };
  }
}

function image(name: string, mediaType: ImageType, bytes: Buffer): FileContent {
  const data = bytes.toString('base64');
  return { attachment: { type: 'image', name, mediaType, data }, requestBytes: data.length, media: 1 };
}

/** A PDF with its page count (a PDF pdf-lib cannot parse or count would be a 400 from Claude). */
async function pdfContent(name: string, bytes: Buffer, signal?: AbortSignal): Promise<FileContent> {
  // Claude cannot open an encrypted PDF (https://platform.claude.com/docs/en/build-with-claude/pdf-support).
  const parsed = await pdfPages(bytes, { signal });
  if ('problem' in parsed) return parsed;
  const data = bytes.toString('base64');
  return { attachment: { type: 'pdf', name, data }, requestBytes: data.length, media: parsed.pages };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Valid UTF-8 without NUL bytes is text (code, logs, CSV, JSON, YAML…); anything else is unsupported. */
function textContent(name: string, bytes: Buffer): FileContent {
  if (bytes.includes(0)) return { problem: 'unsupported' };
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return { problem: 'unsupported' };
  }
  const cut = text.length > TEXT_MAX_CHARS;
  // Claude is told too, so it does not take the cut for the end of the file.
  if (cut) text = `${cutAt(text, TEXT_MAX_CHARS)}\n${textCutMarker(text.length)}`;
  return { attachment: { type: 'text', name, text }, requestBytes: textWireBytes(text), media: 0, ...(cut ? { cut } : {}) };
}

/**
 * The bytes `text` takes in the request: it travels as a JSON string, where a control character (a log's ESC
 * colour codes) becomes a 6-byte `\u00XX` and `"` or `\` two bytes, so its UTF-8 length would undercount.
 */
export function textWireBytes(text: string): number {
  return Buffer.byteLength(JSON.stringify(text));
}

/** The line ending a cut text file, for Claude: how much of it there was. */
export function textCutMarker(totalChars: number): string {
  return `[The file is cut here: these are the first ${TEXT_MAX_CHARS} of its ${totalChars} characters.]`;
}

/** The first `max` UTF-16 units of `text`, never splitting a surrogate pair. */
function cutAt(text: string, max: number): string {
  const code = text.charCodeAt(max - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? max - 1 : max);
}

/** The most raw bytes whose base64 fits in `base64Bytes`. */
function maxRawBytes(base64Bytes: number): number {
  return Math.floor(base64Bytes / 4) * 3;
}

type Sharp = typeof import('sharp');
let sharpModule: Promise<Sharp | undefined> | undefined;

/**
 * sharp, loaded on first use: its native binary comes from the npm registry (@img/sharp-<platform>) and may
 * be missing on an unusual platform, which must cost only the downscaling, not the bot's start.
 */
function loadSharp(): Promise<Sharp | undefined> {
  sharpModule ??= import('sharp').then(
    (module) => module.default,
    () => undefined,
  );
  return sharpModule;
}
