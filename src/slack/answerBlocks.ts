import type { types } from '@slack/bolt';
import { copy } from '../copy.js';
import { toMrkdwn } from './render.js';
import { splitAll, type AnswerLayout } from './split.js';

/** The action_id of the 👍/👎 buttons under a final answer; the feedback listener matches it. */
export const FEEDBACK_ACTION_ID = 'answer_feedback';

/** The action_id of the Stop button under an answer being written (edits transport); the stop listener matches it. */
export const STOP_ACTION_ID = 'answer_stop';

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

/** The `actions` block with the Stop button (Block Kit reference, button element). */
export function stopBlock(): types.ActionsBlock {
  return {
    type: 'actions',
    elements: [{ type: 'button', action_id: STOP_ACTION_ID, text: { type: 'plain_text', text: copy.stopButton }, value: 'stop' }],
  };
}

/** answerBlocks' options (see there). */
export interface AnswerBlocksOptions {
  streaming?: boolean;
  after?: string;
  layout?: AnswerLayout;
}

/**
 * The blocks of a message of the answer that carries buttons: its Markdown rendered as mrkdwn `section` blocks
 * of at most 3,000 characters (split by split.ts, code fences closed in each; `streaming` renders the last as
 * an answer still being written), then `after` (a line such as "…still writing", already mrkdwn), then the
 * buttons. Slack shows `blocks` instead of `text` when a message has both, so the answer must be in the
 * blocks too; the message's `text` stays as the notification fallback. Undefined when nothing renders: buttons
 * alone would hide the text. A `layout` (the answer's, see splitAll) keeps the sections already finished.
 */
export function answerBlocks(markdown: string, buttons: types.KnownBlock, { streaming = false, after = '', layout }: AnswerBlocksOptions = {}): types.KnownBlock[] | undefined {
  const parts = splitAll(markdown, SECTION_TEXT_LIMIT, layout);
  const texts = parts.map((part, index) => toMrkdwn(part, { streaming: streaming && index === parts.length - 1, cache: layout?.render }));
  const sections = [...texts, after]
    .filter((text) => text.trim() !== '')
    .map((text): types.SectionBlock => ({ type: 'section', text: { type: 'mrkdwn', text } }));
  return sections.length > 0 ? [...sections, buttons] : undefined;
}

/** A final answer's last message: the answer, then the feedback buttons (see answerBlocks). */
export function finalAnswerBlocks(markdown: string, layout?: AnswerLayout): types.KnownBlock[] | undefined {
  return answerBlocks(markdown, feedbackBlock(), { layout });
}
