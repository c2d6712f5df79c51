import type { InflightAnswer, InflightRegistry } from './inflightRegistry.js';

/** Answers in flight in this process only: nothing survives a restart, so orphans are only other owners' entries. */
export class MemoryInflightRegistry implements InflightRegistry {
  private readonly answers = new Map<string, InflightAnswer>();

  async add(answer: InflightAnswer): Promise<void> {
    this.answers.set(placeholderId(answer.channel, answer.replyTs), { ...answer });
  }

  async remove(channel: string, replyTs: string): Promise<void> {
    this.answers.delete(placeholderId(channel, replyTs));
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

/** A stable string for a placeholder message, usable as a map key or hash field. */
export function placeholderId(channel: string, replyTs: string): string {
  return `${channel}:${replyTs}`;
}
