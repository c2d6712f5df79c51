import type { Config } from '../config.js';
import { skipped, type CheckRow } from './checkRow.js';

const NAME = 'native streaming';

/**
 * Scopes each transport needs (DESIGN.md §6): edits post and chat.update with `chat:write`; native streams
 * (chat.startStream/appendStream/stopStream) need `chat:write` too, and agent sessions
 * (agents.sessions.setStatus, the Messages tab's prompts) `assistant:write`.
 */
const NEEDS = { edits: ['chat:write'], native: ['chat:write', 'assistant:write'] } as const;

/**
 * What SLACK_STREAMING means for this token's granted scopes (undefined: Slack did not list them). Whether the
 * workspace has Slack's Agents feature shows only when an answer starts a stream; `auto` and `native` fall
 * back to chat.update edits where Slack refuses (src/slack/nativeStream.ts StreamingSupport).
 */
export function checkStreaming(mode: Config['SLACK_STREAMING'], granted: readonly string[] | undefined): CheckRow {
  if (!granted) return skipped(NAME, 'needs the scopes granted to the bot token (see the Slack rows)');
  const missing = (scopes: readonly string[]) => scopes.filter((scope) => !granted.includes(scope));
  const missingEdits = missing(NEEDS.edits);
  if (missingEdits.length > 0) {
    return { name: NAME, status: 'fail', detail: `${mode}: no answer can be posted without ${missingEdits.join(', ')}`, fix: addScopes(missingEdits) };
  }
  if (mode === 'edits') return { name: NAME, status: 'pass', detail: 'edits: a posted message, edited with chat.update as Claude writes' };
  const missingNative = missing(NEEDS.native);
  if (missingNative.length === 0) {
    return {
      name: NAME,
      status: 'pass',
      detail: `${mode}: native streams where the workspace has Slack's Agents feature, else chat.update edits (${NEEDS.native.join(', ')} granted)`,
    };
  }
  const detail = `${mode}: ${missingNative.join(', ')} not granted, so agent sessions fail and native streams may be refused`;
  return mode === 'native'
    ? { name: NAME, status: 'fail', detail, fix: `${addScopes(missingNative)}, or set SLACK_STREAMING=edits` }
    : { name: NAME, status: 'warn', detail: `${detail} (answers then use chat.update edits)` };
}

/** The fix for missing scopes. */
function addScopes(scopes: readonly string[]): string {
  return `add ${scopes.join(', ')} under OAuth & Permissions (or in the manifest) and reinstall the app`;
}
