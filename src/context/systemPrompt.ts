import type { ConversationInfo } from '../slack/directory.js';

/** What Claude is told about where it is: workspace-neutral facts only (Slack's guidance for AI apps). */
export interface PlaceFacts {
  /** The conversation, when Slack told (conversations.info). */
  conversation?: ConversationInfo;
  /** The asker's display name, when Slack told (users.info). */
  asker?: string;
  today: Date;
}

/**
 * The system prompt: `base` (SYSTEM_PROMPT or the built-in one), then that Claude is in Slack, where (the
 * channel's name, or a direct / group direct message), who asks, and today's date (UTC). Nothing else from
 * the workspace; a fact Slack did not give is left out.
 */
export function systemPrompt(base: string, { conversation, asker, today }: PlaceFacts): string {
  const facts = [`You are in Slack, ${placeOf(conversation)}.`];
  if (asker) facts.push(`The person asking is @${asker.replace(/^@/, '')}.`);
  facts.push(`Today is ${today.toISOString().slice(0, 10)} (UTC).`);
  return `${base}\n\n${facts.join(' ')}`;
}

/** Where the conversation is, in words. */
function placeOf(conversation: ConversationInfo | undefined): string {
  if (conversation?.isIm) return 'in a direct message';
  if (conversation?.isMpim) return 'in a group direct message';
  if (conversation?.name) return `in the channel #${conversation.name}`;
  return 'in a conversation';
}
