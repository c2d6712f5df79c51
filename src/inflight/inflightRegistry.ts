/** An answer being streamed into its Slack placeholder, recorded so a crash cannot leave it unfinished. */
export interface InflightAnswer {
  teamId: string;
  channel: string;
  threadTs: string;
  /**
   * The reply's first message (the placeholder); absent while the post is held for Claude's first words
   * (DESIGN.md §3 "Placeholder"): such an answer is answered again in a new message.
   */
  replyTs?: string;
  /** The metadata id the reply's first message is posted with (postOnce.ts): without `replyTs`, it finds that message. */
  postId?: string;
  /** The question's ts, when known: that message is looked for after it, not from the thread's start (a long thread). */
  questionTs?: string;
  userId: string;
  question: string;
  startedAt: number;
  /** The id of the instance answering it. */
  owner: string;
}

/**
 * The answers in flight, so that after a crash (`kill -9`) the bot finishes every orphaned placeholder on
 * the next start. An answer is identified by its channel and `recordTs`: its placeholder's ts, or, before the
 * placeholder is posted, its thread's (one answer runs per thread at a time, and a reply is never its
 * thread's parent, so the two never collide).
 */
export interface InflightRegistry {
  /**
   * Records an answer, replacing an earlier record of it: of the same placeholder, or, for an answer whose
   * placeholder is now posted, the record made before it was (atomically: the question is never recorded twice).
   */
  add(answer: InflightAnswer): Promise<void>;
  /** Forgets the answer recorded at `recordTs` once it is finished; a no-op if it is not recorded. */
  remove(channel: string, recordTs: string): Promise<void>;
  /** Entries whose owning instance is no longer alive, handed over to `owner` atomically (each orphan is claimed by one instance only). */
  claimOrphans(owner: string): Promise<InflightAnswer[]>;
  /** Marks `owner` alive (heartbeat); a registry that has one process only may make this a no-op. */
  heartbeat(owner: string): Promise<void>;
  close(): Promise<void>;
}

/** The ts that identifies an answer's record: its placeholder's, or its thread's while no placeholder is posted. */
export function recordTs(answer: Pick<InflightAnswer, 'threadTs' | 'replyTs'>): string {
  return answer.replyTs ?? answer.threadTs;
}
