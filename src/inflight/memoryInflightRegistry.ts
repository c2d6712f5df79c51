import { recordTs, type InflightAnswer, type InflightRegistry } from './inflightRegistry.js';

/** Answers in flight in this process only: nothing survives a restart, so orphans are only other owners' entries. */
export class MemoryInflightRegistry implements InflightRegistry {
  private readonly answers = new Map<string, InflightAnswer>();

  async add(answer: InflightAnswer): Promise<void> {
    this.answers.delete(placeholderId(answer.channel, answer.threadTs));
    this.answers.set(placeholderId(answer.channel, recordTs(answer)), { ...answer });
  }

  async remove(channel: string, ts: string): Promise<void> {
    this.answers.delete(placeholderId(channel, ts));
  }

  async claimOrphans(owner: string): Promise<InflightAnswer[]> {
    const claimed: InflightAnswer[] = [];
    for (const answer of this.answers.values()) {
      if (answer.owner === owner) continue;
      answer.owner = owner;
      claimed.push({ ...answer });
    }
    return claimed;
  }

  async heartbeat(_owner: string): Promise<void> {}

  async close(): Promise<void> {}
}

/** A stable string for an answer's record (channel and `recordTs`), usable as a map key or hash field. */
export function placeholderId(channel: string, ts: string): string {
  return `${channel}:${ts}`;
}
