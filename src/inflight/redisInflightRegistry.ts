import type { Redis } from 'ioredis';
import { LuaScript, reachRedis, runTransaction } from '../redis/connection.js';
import { recordTs, type InflightAnswer, type InflightRegistry } from './inflightRegistry.js';
import { placeholderId } from './memoryInflightRegistry.js';

/** An instance that has not sent a heartbeat for this long is dead (the bot sends one every 5 s). */
export const HEARTBEAT_TTL_MS = 15_000;

/**
 * Hands every entry whose owner has no heartbeat key to ARGV[2], and returns those entries.
 * KEYS: answers hash, owners hash. ARGV: heartbeat key prefix, new owner.
 * The heartbeat keys are not declared in KEYS: fine on one Redis server, not on a cluster.
 */
const CLAIM_ORPHANS = new LuaScript(`
local claimed = {}
local owners = redis.call('HGETALL', KEYS[2])
for i = 1, #owners, 2 do
  local owner = owners[i + 1]
  if owner ~= ARGV[2] and redis.call('EXISTS', ARGV[1] .. owner) == 0 then
    redis.call('HSET', KEYS[2], owners[i], ARGV[2])
    local answer = redis.call('HGET', KEYS[1], owners[i])
    if answer then claimed[#claimed + 1] = answer end
  end
end
return claimed
`);

/**
 * Answers in flight in Redis, shared by every instance: one hash of entries (JSON) and one of their
 * owners, plus a heartbeat key per live instance that expires `heartbeatTtlMs` after its last heartbeat.
 * Rejects with StoreUnavailableError while Redis is unreachable.
 */
export class RedisInflightRegistry implements InflightRegistry {
  private readonly answersKey: string;
  private readonly ownersKey: string;
  private readonly instancePrefix: string;

  constructor(
    private readonly redis: Redis,
    keyPrefix = 'claude-bot:',
    private readonly heartbeatTtlMs = HEARTBEAT_TTL_MS,
  ) {
    this.answersKey = `${keyPrefix}inflight`;
    this.ownersKey = `${keyPrefix}inflight:owners`;
    this.instancePrefix = `${keyPrefix}instance:`;
  }

  /** Also marks the owner alive, so an answer is never an orphan at birth (before the owner's first heartbeat). */
  async add(answer: InflightAnswer): Promise<void> {
    const field = placeholderId(answer.channel, recordTs(answer));
    const held = placeholderId(answer.channel, answer.threadTs);
    await runTransaction(
      this.redis
        .multi()
        .hdel(this.answersKey, held)
        .hdel(this.ownersKey, held)
        .hset(this.answersKey, field, JSON.stringify(answer))
        .hset(this.ownersKey, field, answer.owner)
        .set(this.instancePrefix + answer.owner, '1', 'PX', this.heartbeatTtlMs),
    );
  }

  async remove(channel: string, ts: string): Promise<void> {
    const field = placeholderId(channel, ts);
    await runTransaction(this.redis.multi().hdel(this.answersKey, field).hdel(this.ownersKey, field));
  }

  async claimOrphans(owner: string): Promise<InflightAnswer[]> {
    const claimed = (await reachRedis(
      CLAIM_ORPHANS.run(this.redis, [this.answersKey, this.ownersKey], [this.instancePrefix, owner]),
    )) as string[];
    return claimed.map((json) => ({ ...(JSON.parse(json) as InflightAnswer), owner }));
  }

  async heartbeat(owner: string): Promise<void> {
    await reachRedis(this.redis.set(this.instancePrefix + owner, '1', 'PX', this.heartbeatTtlMs));
  }

  /** The connection is shared: its owner quits it. */
  async close(): Promise<void> {}
}
