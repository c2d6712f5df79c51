import type { Attachment, Turn } from '../claude/turn.js';
import { compareTs } from '../slack/slackTs.js';

/** What Claude gets of files: the ones read, attached to the turn holding their message, and the names of those not read. */
export interface FilesForClaude {
  attachments?: readonly Attachment[];
  unreadFiles?: readonly string[];
}

/** A thread message someone else posted, as context. */
export interface ContextMessage extends FilesForClaude {
  ts: string;
  /** `@Display Name` or an app's name. */
  speaker: string;
  text: string;
}

/** An exchange from history: the bot's question and its answer (Claude's Markdown). */
export interface PastExchange extends FilesForClaude {
  question: string;
  answer: string;
  /** Absent for exchanges stored before question ts were kept (and for resumed answers). */
  questionTs?: string;
}

/** The question being answered. */
export interface Question {
  text: string;
  attachments?: readonly Attachment[];
}

/** The thread messages that fit the budget, and how many older ones did not. */
export interface SelectedContext<M> {
  kept: M[];
  omitted: number;
  /** The ts of the newest omitted message: where the omission line goes. */
  omittedUpTo?: string;
}

/** Thread messages converted at a time (one round of name lookups): see selectContext. */
export const CONVERT_BATCH = 20;

/**
 * Picks the thread messages Claude gets as context: those that are not already a question of `exchanges`
 * (the bot saw them as questions: the history holds them), newest first while their lines (see contextLine)
 * fit `maxChars` characters, a line and its newline each counting. `convert` turns raw messages into context
 * messages (one each, in order) CONVERT_BATCH at a time, newest first, and is not called past the first batch holding a message
 * that does not fit, so a long thread costs what the budget holds, not its length. Returns them oldest first.
 */
export async function selectContext<R extends { ts: string }, M extends ContextMessage>(
  messages: readonly R[],
  exchanges: readonly Pick<PastExchange, 'questionTs'>[],
  maxChars: number,
  convert: (batch: R[]) => Promise<M[]>,
): Promise<SelectedContext<M>> {
  const asked = new Set(exchanges.flatMap((exchange) => (exchange.questionTs ? [exchange.questionTs] : [])));
  const fresh = messages.filter((message) => !asked.has(message.ts));
  const kept: M[] = [];
  let used = 0;
  let next = fresh.length;
  fill: while (next > 0) {
    const batch = fresh.slice(Math.max(0, next - CONVERT_BATCH), next).reverse();
    for (const message of await convert(batch)) {
      const size = contextLine(message).length + 1;
      if (used + size > maxChars) break fill;
      used += size;
      kept.push(message);
      next -= 1;
    }
  }
  const omittedUpTo = next > 0 ? fresh[next - 1]!.ts : undefined;
  return { kept: kept.reverse(), omitted: next, ...(omittedUpTo ? { omittedUpTo } : {}) };
}

/**
 * One thread message as Claude reads it: its speaker (on one line), then its text and the names of its unread
 * files, made safe for the frame (frameSafe): whatever someone posted, each message is one entry that starts
 * with its real speaker.
 */
export function contextLine({ speaker, text, unreadFiles }: Pick<ContextMessage, 'speaker' | 'text' | 'unreadFiles'>): string {
  return frameSafe(`${speaker.replace(/\s+/g, ' ').trim()}: ${withUnread(text, unreadFiles)}`);
}

/** The frame's tags as a message could spell them: any case, spaces inside the brackets. */
const FRAME_TAG = /<\s*(\/?)\s*thread_messages\s*>/gi;

/**
 * Text that cannot break out of the frame or pass as another entry: the frame's tags are defused
 * (`‹/thread_messages›`), so only the bot's own close the frame, and every line after the first is indented
 * (FRAME_INDENT), so a posted line such as `@Ada: I approve` reads as part of its message, never as Ada's.
 */
function frameSafe(text: string): string {
  return text.replace(FRAME_TAG, '‹$1thread_messages›').replace(/\n/g, `\n${FRAME_INDENT}`);
}

/** What starts a message's further lines inside the frame. */
const FRAME_INDENT = '  ';

/** Opens the context: what it is, and how to tell its entries apart (FRAME_INDENT, the app marker of threadReader.ts). */
const FRAME_HEADER =
  'Messages posted in this thread before the question, oldest first. Each starts with its speaker (`@name:` a person, `name (app):` an app); its further lines are indented:';

/** Tells Claude that older thread messages were left out. */
export function omissionLine(count: number): string {
  return `[${count} earlier message${count === 1 ? '' : 's'} of this thread omitted]`;
}

/**
 * The turns Claude gets: the stored exchanges and the selected thread messages interleaved by ts, then the
 * question. Messages become user-role context in the turn of the first question posted after them (an exchange
 * without `questionTs` is placed where its predecessor was, so one from before ts were kept counts as older
 * than any message). Turns therefore start with a user turn and alternate. A user turn without context is
 * exactly its question's text; with context, the messages (with speakers) come first, framed apart from it.
 */
export function assembleTurns(input: {
  exchanges: readonly PastExchange[];
  context: SelectedContext<ContextMessage>;
  question: Question;
}): Turn[] {
  const { exchanges, context, question } = input;
  const pending: Entry[] = [
    ...(context.omittedUpTo ? [{ ts: context.omittedUpTo, line: omissionLine(context.omitted) }] : []),
    ...context.kept.map((message) => ({ ts: message.ts, line: contextLine(message), attachments: message.attachments })),
  ];
  /** The context entries posted before `ts` (all that remain when undefined), taken off `pending`. */
  const takeBefore = (ts: string | undefined): Entry[] => {
    const count = ts === undefined ? pending.length : pending.findIndex((entry) => compareTs(entry.ts, ts) >= 0);
    return pending.splice(0, count === -1 ? pending.length : count);
  };
  const turns: Turn[] = [];
  let floor: string | undefined;
  for (const exchange of exchanges) {
    floor = exchange.questionTs ?? floor;
    const before = floor === undefined ? [] : takeBefore(floor);
    turns.push(userTurn(before, withUnread(exchange.question, exchange.unreadFiles), exchange.attachments));
    turns.push({ role: 'assistant', content: exchange.answer });
  }
  turns.push(userTurn(takeBefore(undefined), question.text, question.attachments));
  return turns;
}

/** A context line in time order, with the files its message brought. */
interface Entry {
  ts: string;
  line: string;
  attachments?: readonly Attachment[];
}

/** A user turn: the question alone, or the context framed before it; context attachments before the question's. */
function userTurn(context: Entry[], question: string, questionAttachments: readonly Attachment[] = []): Turn {
  const attachments = [...context.flatMap((entry) => entry.attachments ?? []), ...questionAttachments];
  const content =
    context.length === 0
      ? question
      : [
          FRAME_HEADER,
          '<thread_messages>',
          ...context.map((entry) => entry.line),
          '</thread_messages>',
          '',
          'The question to answer:',
          question,
        ].join('\n');
  return { role: 'user', content, ...(attachments.length ? { attachments } : {}) };
}

/** `text` with a short bracketed mention of each file Claude does not get. */
function withUnread(text: string, unreadFiles: readonly string[] = []): string {
  return [text, ...unreadFiles.map((name) => `[attached file not read: ${name}]`)].filter(Boolean).join(' ');
}
