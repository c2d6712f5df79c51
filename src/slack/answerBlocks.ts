import type { types } from '@slack/bolt';
import { copy } from '../copy.js';
import { toMrkdwn } from './render.js';
import { splitAll } from './split.js';

/** The action_id of the 👍/👎 buttons under a final answer; the feedback listener matches it. */
export const FEEDBACK_ACTION_ID = 'answer_feedback';

/** The values a feedback click carries. */
export type FeedbackValue = 'positive' | 'negative';

/** Slack refuses a section's text above 3,000 characters (Block Kit reference, section block `text`). */
const SECTION_TEXT_LIMIT = 3000;

/** The `context_actions` block with the 👍/👎 `feedback_buttons` (Block Kit reference, feedback buttons element). */
export function feedbackBlock(): types.ContextActionsBlock {
  return {
    type: 'context_actions',
    elements: [
      {
        type: 'feedback_buttons',
        action_id: FEEDBACK_ACTION_ID,
        positive_button: { text: { type: 'plain_text', text: copy.feedback.positive }, value: 'positive' satisfies FeedbackValue },
        negative_button: { text: { type: 'plain_text', text: copy.feedback.negative }, value: 'negative' satisfies FeedbackValue },
      },
    ],
  };
}

/**
 * The blocks of a final answer's last message: its Markdown rendered as mrkdwn `section` blocks of at most
 * 3,000 characters (split by split.ts, code fences closed in each), then the feedback buttons. Slack shows
 * `blocks` instead of `text` when a message has both, so the answer must be in the blocks too; the message's
 * `text` stays as the notification fallback. Undefined when the Markdown renders to nothing: buttons alone
 * would hide the text.
 */
export function finalAnswerBlocks(markdown: string): types.KnownBlock[] | undefined {
  const sections = splitAll(markdown, SECTION_TEXT_LIMIT)
    .map((part) => toMrkdwn(part))
    .filter((text) => text.trim() !== '')
    .map((text): types.SectionBlock => ({ type: 'section', text: { type: 'mrkdwn', text } }));
  return sections.length > 0 ? [...sections, feedbackBlock()] : undefined;
}
