/** An answer being streamed into its Slack placeholder, recorded so a crash cannot leave it unfinished. */
export interface InflightAnswer {
  teamId: string;
  channel: string;
  threadTs: string;
  /** The placeholder's ts. */
  replyTs: string;
  userId: string;
  question: string;
  startedAt: number;
  /** The id of the instance answering it. */
  owner: string;
}

/**
 * The answers in flight, so that after a crash (`kill -9`) the bot finishes every orphaned placeholder on
 * the next start. An answer is identified by its placeholder (channel, replyTs).
 */
export interface InflightRegistry {
  /** Records an answer (replacing an earlier record of the same placeholder). */
  add(answer: InflightAnswer): Promise<void>;
  /** Forgets the answer once its placeholder is finished; a no-op if it is not recorded. */
  remove(channel: string, replyTs: string): Promise<void>;
  /** Entries whose owning instance is no longer alive, handed over to `owner` atomically (each orphan is claimed by one instance only). */
  claimOrphans(owner: string): Promise<InflightAnswer[]>;
  /** Marks `owner` alive (heartbeat); a registry that has one process only may make this a no-op. */
  heartbeat(owner: string): Promise<void>;
  close(): Promise<void>;
}
