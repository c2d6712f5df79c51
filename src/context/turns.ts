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

/**
 * Picks the thread messages Claude gets as context: those that are not already a question of `exchanges`
 * (the bot saw them as questions: the history holds them), newest first while their lines (`speaker: text`,
 * see contextLine) fit `maxChars` characters, a line and its newline each counting. Returns them oldest first.
 */
export function selectContext<M extends ContextMessage>(
  messages: readonly M[],
  exchanges: readonly Pick<PastExchange, 'questionTs'>[],
  maxChars: number,
): SelectedContext<M> {
  const asked = new Set(exchanges.flatMap((exchange) => (exchange.questionTs ? [exchange.questionTs] : [])));
  const fresh = messages.filter((message) => !asked.has(message.ts));
  let used = 0;
  let first = fresh.length;
  while (first > 0) {
    const size = contextLine(fresh[first - 1]!).length + 1;
    if (used + size > maxChars) break;
    used += size;
    first -= 1;
  }
  const omittedUpTo = first > 0 ? fresh[first - 1]!.ts : undefined;
  return { kept: fresh.slice(first), omitted: first, ...(omittedUpTo ? { omittedUpTo } : {}) };
}

/** One thread message as Claude reads it: its speaker, then its text. */
export function contextLine({ speaker, text }: Pick<ContextMessage, 'speaker' | 'text'>): string {
  return `${speaker}: ${text}`;
}

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
    ...context.kept.map((message) => ({ ts: message.ts, line: withUnread(contextLine(message), message.unreadFiles), attachments: message.attachments })),
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
          'Messages posted in this thread before the question, oldest first:',
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
