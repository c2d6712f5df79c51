import type { ClaudeFailureKind } from './claude/claudeStream.js';

const THINKING = 'Thinking…';
const QUEUED = "Queued: I'm answering many questions right now. Yours starts as soon as one of them finishes.";

/** Every sentence the bot shows users, in one place. Markdown: the renderer turns it into Slack mrkdwn. */
export const copy = {
  thinking: `_${THINKING}_`,
  /** A reply's line while its answer waits for a process slot (MAX_CONCURRENT_ANSWERS): no counts or times, which would go stale. */
  queued: `_${QUEUED}_`,
  /** The status lines above as a native stream's thinking task shows them: plain text under the task's title. */
  taskDetails: { thinking: THINKING, queued: QUEUED },
  /** While Claude thinks (THINKING_DISPLAY=summary): its latest summarised sentence, already inert plain text. */
  thinkingSentence: (sentence: string) => `_Thinking: ${sentence}_`,
  /** While Claude thinks (THINKING_DISPLAY=status, or summary before the first sentence). */
  thinkingFor: (seconds: number) => `_Thinking… ${seconds} s_`,
  stillWriting: '_…still writing_',
  /** The title of the task a native stream shows while Claude thinks (its details: the latest sentence, or the seconds). */
  thinkingTask: 'Thinking',
  /** The button under an answer being written (edits transport); only the asker may press it. */
  stopButton: 'Stop',
  /** Ephemeral to someone who pressed Stop under another person's answer: mrkdwn as is, the asker's name a live mention. */
  notYourAnswer: (askerId: string) => `Only <@${askerId}> can stop this answer.`,
  usage: (command: string) =>
    `Ask me anything: mention me with your question, send me a DM, or use \`${command} your question\`.`,
  commandQuestion: (userId: string, question: string) => `<@${userId}> asked: ${question}`,
  notInChannel: (command: string) =>
    `I can't post in this channel yet. Invite me with \`/invite @Claude\` and try \`${command}\` again, or send me a DM.`,
  /**
   * Refusals of the access policy (ALLOWED_CHANNELS, ALLOW_DMS, ALLOW_EXTERNAL_USERS), shown to the asker alone:
   * mrkdwn as is, so `<#C…>` stay live links to the channels where the bot answers (a few of them, never DMs).
   */
  access: {
    notHere: (channels: readonly string[], dmsAllowed: boolean) =>
      `Sorry, I don't answer in this channel: the admins have limited me to some channels.${whereToAsk(channels, dmsAllowed)}`,
    dmsOff: (channels: readonly string[] | undefined) =>
      `Sorry, the admins have turned off direct messages with me. Please mention me in ${channels?.length ? listOf(channels) : 'a channel I am in'} instead.`,
    external: "Sorry, I only answer members of the organisation that added me to Slack, so I can't answer people from other organisations here.",
  },
  /** Above the suggested prompts of the Messages tab (Slack's own default reads "Try these prompts:"). */
  suggestedPromptsTitle: 'What can I help you with?',
  busyThread: 'I am still answering earlier messages in this thread. Please wait for those answers, then ask again.',
  retrying: '_(Response interrupted. Trying again…)_',
  resuming: '_(The bot restarted while answering this. Answering again…)_',
  unavailable: ":warning: I'm temporarily unavailable. Please try again in a minute.",
  empty: '_(Claude returned an empty answer. Please try rephrasing.)_',
  /** Ephemeral, when Slack refused the answer's first message: the question must not vanish silently. */
  notPosted: ":warning: Slack didn't let me post an answer to your question here. Please try again in a minute, or send me a DM.",
  notes: {
    truncated: (maxTokens: number) =>
      `_(Answer truncated: it reached the ${maxTokens}-token limit. Ask me to continue for the rest.)_`,
    /** `reason` completes "because …" (see refusalReasons); `explanation` is Claude's own, already inert plain text. */
    refusal: (reason?: string, explanation?: string) =>
      `_(Claude declined to answer this request${reason ? ` because ${reason}` : ''}.${explanation ? ` It said: “${explanation}”` : ''})_`,
    /** max_tokens reached while thinking, before any (or almost any) text. */
    thinkingUsedBudget: (maxTokens: number) =>
      `_(Claude spent its whole ${maxTokens}-token output budget thinking and had no room left to answer. Ask a narrower question, or ask an admin to raise \`CLAUDE_MAX_TOKENS\` or lower \`CLAUDE_EFFORT\`.)_`,
    contextFull: "_(Answer cut short: this thread no longer fits in Claude's context window. Start a new thread.)_",
    interrupted: '_(Response interrupted: the connection to Claude failed and retrying did not help. Please ask again.)_',
    stopped: '_(Stopped.)_',
    restart: '_(Answer cut short by a restart of the bot. Please ask again.)_',
    unsaved: "_(I couldn't save our previous exchange in this thread, so I may not remember it.)_",
    /** Thread context (issue #11 §2): the thread could not be read because the app lacks `scope`. */
    threadScope: (scope: string) =>
      `_(I couldn't read the earlier messages of this thread, so I answered from your message alone. An admin can add the \`${scope}\` scope to the app to fix this.)_`,
    /** Replaces a message of an earlier attempt that Slack would not delete. */
    staleContinuation: '_(Part of an earlier attempt, replaced by the answer above.)_',
    /** The last resort when Slack takes the answer in no form: the first message must not stay unfinished. */
    undeliverable: "_(I wrote an answer but Slack couldn't display it. Please ask again, perhaps for a shorter or simpler answer.)_",
  },
  /**
   * Why Claude declined, by stop_details.category (RefusalStopDetails in @anthropic-ai/sdk): completes
   * "Claude declined to answer this request because …". Any other category gets `otherRefusalReason`.
   */
  refusalReasons: {
    cyber: 'it could help cause cyber harm, such as malware or exploits (benign security work can trigger this too)',
    bio: 'it could help cause biological harm (benign life-sciences work can trigger this too)',
    frontier_llm: "it could help build competing AI models, which Anthropic's commercial terms restrict",
    reasoning_extraction: 'it asks Claude to reproduce its internal reasoning in the answer',
    general_harms: 'it touches an area judged potentially harmful (benign requests can trigger this too)',
  } as Readonly<Record<string, string>>,
  otherRefusalReason: (category: string) => `of a usage policy (category: ${category})`,
  /** Attached files (src/slack/fileReader.ts): why one was not read, or read only in part. */
  files: {
    /** `reason` completes "I couldn't read <file>: …" (see `files.reasons`). */
    unread: (name: string, reason: string) => `_(I couldn't read ${fileName(name)}: ${reason}.)_`,
    cut: (name: string, chars: number) =>
      `_(${fileName(name)} is long: I read only its first ${chars.toLocaleString('en-US')} characters.)_`,
    reasons: {
      tooLarge: (maxMb: number) => `it is larger than the ${maxMb} MB limit for attached files`,
      noAccess: "I don't have access to it",
      gone: 'it was deleted or is no longer available',
      external: 'it is stored outside Slack',
      unsupported: 'I can read images (PNG, JPEG, GIF, WebP), PDFs and text files, not this kind of file',
      empty: 'it is empty',
      damaged: 'it seems to be damaged',
      encrypted: 'it is password-protected',
      imageTooLarge: 'the image is too large for Claude, even scaled down',
      requestFull: 'with the files before it, it is more than Claude takes in one request (32 MB)',
      tooMuchMedia: 'with the images and PDFs before it, it is more than the 100 images and PDF pages Claude reads in one request',
      failed: 'downloading it from Slack failed',
      tookTooLong: 'it took too long to download',
      tooManyFiles: 'I read at most 40 files for one answer',
    },
  },
  feedback: {
    positive: 'Good answer',
    negative: 'Bad answer',
    thanks: 'Thanks for the feedback!',
  },
  stillWorking: "I'm still working on your earlier questions. This one will start as soon as one of them is done.",
  /** The reply to a question asked at or over a daily token limit (USER_/WORKSPACE_DAILY_TOKEN_LIMIT); no Claude call was made. */
  dailyLimit: {
    user: (resetsInMs: number) => `:hourglass: You've reached your daily limit for questions to Claude. ${resets(resetsInMs)}`,
    workspace: (resetsInMs: number) => `:hourglass: This workspace has reached its daily limit for questions to Claude. ${resets(resetsInMs)}`,
  },
  failures: {
    auth: ":warning: I couldn't reach Claude: the Anthropic API key was rejected. An admin needs to check the bot's configuration.",
    rate_limited: ':hourglass: Claude is receiving too many requests right now. Please try again in a minute.',
    overloaded: ':hourglass: Claude is overloaded right now. Please try again in a minute.',
    context_too_long:
      ":scroll: This thread is too long for Claude's context window. Please start a new thread (you can paste a summary).",
    bad_request: ':warning: Claude rejected the request. Please rephrase or start a new thread.',
    unreachable: ":warning: I couldn't reach Claude (network error). Please try again shortly.",
    unavailable: ':warning: Claude is temporarily unavailable. Please try again shortly.',
    interrupted: ':warning: The connection to Claude failed before the answer began. Please ask again.',
    slow_start: ':hourglass: Claude is too busy to start an answer right now. Please try again in a few minutes.',
    aborted: '_(Stopped before Claude answered.)_',
  } satisfies Record<ClaudeFailureKind, string>,
} as const;

/** When a daily limit resets: "It resets at 00:00 UTC, in 5 h 12 min." (minutes rounded up, so never "in 0 min"). */
function resets(ms: number): string {
  const minutes = Math.max(1, Math.ceil(ms / 60_000));
  const hours = Math.floor(minutes / 60);
  const span = [hours > 0 ? `${hours} h` : '', minutes % 60 > 0 ? `${minutes % 60} min` : ''].filter(Boolean).join(' ');
  return `It resets at 00:00 UTC, in ${span}.`;
}

/** A file's name as inline code, so Markdown in it stays literal (a backtick would end the span). */
function fileName(name: string): string {
  return `\`${name.replace(/`/g, "'")}\``;
}

/** " Please ask me in <#C1> or <#C2>, or in a DM." (nothing when there is nowhere to send the asker). */
function whereToAsk(channels: readonly string[], dmsAllowed: boolean): string {
  if (!channels.length) return dmsAllowed ? ' Please ask me in a DM instead.' : '';
  return ` Please ask me in ${listOf(channels)}${dmsAllowed ? ', or in a DM' : ''}.`;
}

/** Channels named in one refusal: a short sentence, however long ALLOWED_CHANNELS is. */
const MAX_CHANNELS_NAMED = 5;

/** `<#C1>`, `<#C1> or <#C2>`, `<#C1>, <#C2> or <#C3>`, past MAX_CHANNELS_NAMED `<#C1>, …, <#C5> or another of my channels`. */
function listOf(channels: readonly string[]): string {
  const links = channels.slice(0, MAX_CHANNELS_NAMED).map((id) => `<#${id}>`);
  if (channels.length > MAX_CHANNELS_NAMED) links.push('another of my channels');
  return links.length < 2 ? links.join('') : `${links.slice(0, -1).join(', ')} or ${links.at(-1)}`;
}
