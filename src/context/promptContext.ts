import type { Attachment, Turn } from '../claude/turn.js';
import type { Prompt } from '../conversation.js';
import { copy } from '../copy.js';
import type { Exchange, HistoryStore } from '../history/historyStore.js';
import type { Logger } from '../logger.js';
import type { ConversationInfo, SlackDirectory } from '../slack/directory.js';
import type { FileOutcome, FileReader } from '../slack/fileReader.js';
import { fileNameOf, type SlackFile } from '../slack/slackFile.js';
import type { ThreadMessage, ThreadReader } from '../slack/threadReader.js';
import { systemPrompt } from './systemPrompt.js';
import { assembleTurns, type ContextMessage, type FilesForClaude, type SelectedContext } from './turns.js';

/** One Claude request's inputs, and the notes (Markdown, from copy) the answer's final message must carry. */
export interface PromptRequest {
  system: string;
  turns: Turn[];
  notes: string[];
  /** The question as plain text (what Claude got, and what history keeps). */
  question: string;
}

export interface PromptContextOptions {
  /** SYSTEM_PROMPT, or the built-in prompt. */
  systemPrompt: string;
  /** THREAD_CONTEXT=on: read the thread and tell Claude where it is; off: the bot's own exchanges only, as before. */
  threadContext: boolean;
  /** THREAD_CONTEXT_MAX_CHARS: the thread messages' budget. */
  maxChars: number;
}

export interface PromptContextDeps {
  history: HistoryStore;
  reader: ThreadReader;
  directory: SlackDirectory;
  files: FileReader;
  options: PromptContextOptions;
  /** Today's date comes from here (tests). */
  now?: () => Date;
}

/**
 * Builds what Claude gets for one prompt (the system prompt, the turns with their files, the notes) and
 * stores the exchange afterwards. The history load, the thread read and the name lookups run at once; the
 * files are read together after them, so the request-wide file limits are spent in order of importance: the
 * question's files, the newest context messages', then those earlier questions referenced.
 */
export class PromptContext {
  private readonly now: () => Date;

  constructor(private readonly deps: PromptContextDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  /**
   * The request for `prompt`: its Slack text becomes plain text here, after the placeholder, with the names
   * looked up alongside the history load and the thread read (each lookup, the channel's and the asker's for the
   * system prompt included, waited for at most LOOKUP_WAIT_MS). A thread that cannot be read never fails it
   * (one warning, and a note for a missing scope).
   */
  async build(prompt: Prompt, signal: AbortSignal, logger: Logger): Promise<PromptRequest> {
    const { history, reader, directory, options } = this.deps;
    const on = options.threadContext;
    // Only a question inside a thread has earlier messages. A resumed answer has no ts: which messages came
    // before its question is unknown, and its question's own message would come back as context.
    const inThread = on && prompt.ts !== undefined && prompt.ts !== prompt.threadTs;
    const loaded = history.load(prompt);
    // The question's names are asked for first: they matter most.
    const [questionText, exchanges, thread, conversation, asker] = await Promise.all([
      directory.plainText(prompt.text, signal),
      loaded,
      inThread ? reader.read({ channel: prompt.channel, threadTs: prompt.threadTs, before: prompt.ts! }, loaded.then((exchanges) => ({ maxChars: options.maxChars, exchanges })), signal) : undefined,
      on ? directory.conversation(prompt.channel) : undefined,
      on ? directory.userName(prompt.userId) : undefined,
    ]);
    const notes: string[] = [];
    if (thread && !thread.ok) {
      logger.warn({ reason: thread.reason, ...('error' in thread ? { error: thread.error } : {}) }, 'could not read the thread: answering without its earlier messages');
      if (thread.reason === 'missing_scope') notes.push(copy.notes.threadScope(thread.scope ?? historyScope(conversation)));
    }
    const context: SelectedContext<ThreadMessage> = thread?.ok ? thread : { kept: [], omitted: 0 };

    const questionFiles = prompt.files ?? [];
    const contextFiles = [...context.kept].reverse().flatMap((message) => message.files);
    const historyFiles = [...exchanges].reverse().flatMap((exchange) => (exchange.files ?? []).map((ref): SlackFile => ({ id: ref.id, name: ref.name })));
    const allFiles = [...questionFiles, ...contextFiles, ...historyFiles];
    const outcomes = allFiles.length ? await this.deps.files.read(uniqueById(allFiles), signal) : new Map<string, FileOutcome>();
    const claim = claimer(outcomes);

    // Claimed in the order the files were read, so a file on several messages goes with the most important.
    const question = claim(questionFiles);
    const kept = [...context.kept].reverse().map((message): ContextMessage => ({ ...message, ...claim(message.files) })).reverse();
    const past = [...exchanges].reverse().map((exchange) => ({ ...exchange, ...claim(exchange.files ?? []) })).reverse();
    for (const file of questionFiles) {
      const outcome = outcomes.get(file.id);
      if (outcome?.note) notes.push(outcome.note);
    }
    return {
      system: on ? systemPrompt(options.systemPrompt, { conversation, asker, today: this.now() }) : options.systemPrompt,
      turns: assembleTurns({ exchanges: past, context: { ...context, kept }, question: { text: questionText, attachments: question.attachments } }),
      notes,
      question: questionText,
    };
  }

  /** Stores `prompt`'s exchange: `question` (its plain text, PromptRequest.question), the answer, the question's ts and its files by reference (never bytes). Rejects when the store fails. */
  save(prompt: Prompt, question: string, answer: string): Promise<void> {
    const files = (prompt.files ?? []).map((file) => ({ id: file.id, name: fileNameOf(file) }));
    const exchange: Exchange = { question, answer, ...(prompt.ts ? { questionTs: prompt.ts } : {}), ...(files.length ? { files } : {}) };
    return this.deps.history.appendExchange(prompt, exchange);
  }
}

/** The scope that lets the bot read this kind of conversation's history, when Slack did not name it. */
function historyScope(conversation: ConversationInfo | undefined): string {
  if (conversation?.isIm) return 'im:history';
  if (conversation?.isMpim) return 'mpim:history';
  return 'channels:history';
}

/** `files` without repeats, first occurrence kept. */
function uniqueById(files: readonly SlackFile[]): SlackFile[] {
  const seen = new Set<string>();
  return files.filter((file) => !seen.has(file.id) && Boolean(seen.add(file.id)));
}

/**
 * Hands out each file's outcome once: the first holder to claim a file id gets its attachment (or, when it
 * was not read, its name as unread); later holders of the same id get nothing, so no file is sent twice.
 */
function claimer(outcomes: ReadonlyMap<string, FileOutcome>): (files: readonly Pick<SlackFile, 'id' | 'name' | 'title'>[]) => FilesForClaude & { attachments: Attachment[] } {
  const claimed = new Set<string>();
  return (files) => {
    const attachments: Attachment[] = [];
    const unreadFiles: string[] = [];
    for (const file of files) {
      if (claimed.has(file.id)) continue;
      claimed.add(file.id);
      const outcome = outcomes.get(file.id);
      if (outcome && 'attachment' in outcome) attachments.push(outcome.attachment);
      else unreadFiles.push(fileNameOf(file));
    }
    return { attachments, ...(unreadFiles.length ? { unreadFiles } : {}) };
  };
}
