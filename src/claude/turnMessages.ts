import type { ContentBlockParam, MessageParam } from '@anthropic-ai/sdk/resources/messages';
import type { Attachment, Turn } from './turn.js';

/** What Claude reads as the question when a user sent files and no words: a text block must not be empty. */
export const FILES_ONLY_TEXT = '(The user sent only these files.)';

/**
 * A turn as the Messages API takes it: plain text as a string; a turn with attachments as content blocks,
 * attachments first and the text last (the vision and PDF guides: documents and images before the question).
 */
export function messageOf(turn: Turn): MessageParam {
  const attachments = turn.attachments ?? [];
  if (attachments.length === 0) return { role: turn.role, content: turn.content };
  const text = turn.content.trim() ? turn.content : FILES_ONLY_TEXT;
  return { role: turn.role, content: [...attachments.map(blockOf), { type: 'text', text }] };
}

/** One attachment as an `image` or `document` block (ImageBlockParam, DocumentBlockParam). */
function blockOf(attachment: Attachment): ContentBlockParam {
  switch (attachment.type) {
    case 'image':
      return { type: 'image', source: { type: 'base64', media_type: attachment.mediaType, data: attachment.data } };
    case 'pdf':
      return { type: 'document', title: attachment.name, source: { type: 'base64', media_type: 'application/pdf', data: attachment.data } };
    case 'text':
      return { type: 'document', title: attachment.name, source: { type: 'text', media_type: 'text/plain', data: attachment.text } };
  }
}
