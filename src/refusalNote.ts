import type { StopDetails } from './claude/claudeStream.js';
import { copy } from './copy.js';
import { inertInline } from './slack/inertText.js';

/** Longest refusal explanation shown, in characters: past it, the category's phrase says enough. */
const EXPLANATION_MAX_CHARS = 200;
/** Longest unknown category name quoted. */
const CATEGORY_MAX_CHARS = 40;

/**
 * The note for a refused answer: why, in plain words, when Claude gave a category (stop_details of a
 * `refusal`, RefusalStopDetails in @anthropic-ai/sdk); its explanation only when short. Both are Claude's
 * text, so both are made inert plain text before the renderer escapes them.
 */
export function refusalNote(details: StopDetails | undefined): string {
  const category = details?.category;
  const reason = !category
    ? undefined
    : Object.hasOwn(copy.refusalReasons, category)
      ? copy.refusalReasons[category]
      : copy.otherRefusalReason(inertInline(category, CATEGORY_MAX_CHARS));
  const explanation = inertInline(details?.explanation ?? '', Infinity);
  return copy.notes.refusal(reason, Array.from(explanation).length <= EXPLANATION_MAX_CHARS ? explanation : undefined);
}
