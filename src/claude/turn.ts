/**
 * What Claude reads besides text: a file attached to a user turn, already checked against the Messages API's
 * limits (images png/jpeg/gif/webp ≤ 5 MB, PDFs within the request's 32 MB and 100 pages; see
 * https://platform.claude.com/docs/en/build-with-claude/vision and …/pdf-support). `name` is the file's name
 * as the user sees it in Slack. No SDK types here: Slack code builds these, Claude code turns them into blocks.
 */
export type Attachment =
  | { type: 'image'; name: string; mediaType: 'image/png' | 'image/jpeg' | 'image/gif' | 'image/webp'; /** base64 */ data: string }
  | { type: 'pdf'; name: string; /** base64 */ data: string }
  | { type: 'text'; name: string; text: string };

/** One turn of the conversation as Claude sees it; a user turn may carry attachments (sent before its text). */
export interface Turn {
  role: 'user' | 'assistant';
  content: string;
  attachments?: readonly Attachment[];
}
