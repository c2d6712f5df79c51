import type { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import { LuaScript } from '../redis/connection.js';
import { MemoryEditBudget, PAUSE_KEEP_SHARE, SAFETY_MARGIN, STREAM_CALLS_PER_MINUTE, type EditBudget, type PacedMethod, type SlackBudgets, type TakeResult } from './editBudget.js';

/**
 * MemoryEditBudget's token bucket as one Redis hash per workspace. The clock is Redis's own (TIME), so
 * instances whose clocks disagree still share one refill rate. A bucket left alone for a minute is full
 * again, so the key expires then (or a minute after a pause ends) and is recreated full.
 * ARGV: perMinute, 'take' | 'pause' | 'peek', reserve | ms, safety margin | share kept on pause. Returns { waitMs, remaining as a
 * string (it has decimals) }; a peek only reads (0 remaining while paused) and writes nothing.
 */
const BUCKET = new LuaScript(`
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local perMinute = tonumber(ARGV[1])
local rate = perMinute / 60000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'refilledAt', 'pausedUntil')
local tokens = tonumber(state[1]) or perMinute
local refilledAt = tonumber(state[2]) or now
local pausedUntil = tonumber(state[3]) or 0
if now > refilledAt then
  tokens = math.min(perMinute, tokens + (now - refilledAt) * rate)
  refilledAt = now
end
if ARGV[2] == 'peek' then
  return { 0, tostring(pausedUntil > now and 0 or tokens) }
end
local waitMs = 0
local remaining = nil
if ARGV[2] == 'pause' then
  -- As MemoryEditBudget: the bucket keeps a share of its edits and refills during the pause.
  pausedUntil = math.max(pausedUntil, now + tonumber(ARGV[3]))
  tokens = tokens * tonumber(ARGV[4])
elseif pausedUntil > now then
  waitMs = pausedUntil - now
  remaining = 0
else
  -- As MemoryEditBudget: a safety margin kept unspent, an epsilon against floating-point error.
  local needed = tonumber(ARGV[3]) + 1 + tonumber(ARGV[4])
  if tokens + 1e-9 >= needed then
    tokens = tokens - 1
  else
    waitMs = math.ceil((needed - tokens) / rate)
  end
end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'refilledAt', refilledAt, 'pausedUntil', pausedUntil)
redis.call('PEXPIRE', KEYS[1], math.max(pausedUntil - now, 0) + 60000)
return { waitMs, tostring(remaining or tokens) }
`);

/**
 * The workspace edit budget shared by every instance of the bot through Redis, atomic per call.
 * While Redis fails, each call falls back to this process's own MemoryEditBudget: edits keep flowing at
 * up to the full rate per instance (a 429 then pauses them) rather than stop until Redis is back.
 */
export class RedisEditBudget implements EditBudget {
  private readonly fallback: MemoryEditBudget;
  private usingFallback = false;

  constructor(
    private readonly redis: Redis,
    readonly perMinute: number,
    private readonly keyPrefix = 'claude-bot:',
    private readonly logger?: Logger,
    private readonly method: PacedMethod = 'chat.update',
  ) {
    this.fallback = new MemoryEditBudget(perMinute);
  }

  async tryTake(teamId: string, reserve: number): Promise<TakeResult> {
    try {
      const [waitMs, remaining] = (await BUCKET.run(this.redis, [this.key(teamId)], [this.perMinute, 'take', reserve, SAFETY_MARGIN])) as [number, string];
      this.usingFallback = false;
      return { waitMs, remaining: Number(remaining) };
    } catch (error) {
      this.noteFallback(error);
      return this.fallback.tryTake(teamId, reserve);
    }
  }

  async peek(teamId: string): Promise<number> {
    try {
      const [, remaining] = (await BUCKET.run(this.redis, [this.key(teamId)], [this.perMinute, 'peek'])) as [number, string];
      this.usingFallback = false;
      return Number(remaining);
    } catch (error) {
      this.noteFallback(error);
      return this.fallback.peek(teamId);
    }
  }

  async pause(teamId: string, ms: number): Promise<void> {
    try {
      await BUCKET.run(this.redis, [this.key(teamId)], [this.perMinute, 'pause', Math.ceil(ms), PAUSE_KEEP_SHARE]);
      this.usingFallback = false;
    } catch (error) {
      this.noteFallback(error);
      await this.fallback.pause(teamId, ms);
    }
  }

  /** One line per outage, not one per edit. */
  private noteFallback(error: unknown): void {
    if (this.usingFallback) return;
    this.usingFallback = true;
    this.logger?.warn({ err: error, method: this.method }, 'edit budget unavailable in Redis: this instance counts edits on its own until it is back');
  }

  private key(teamId: string): string {
    // chat.update keeps the key it always had, so instances of an older version share its bucket.
    return this.method === 'chat.update' ? `${this.keyPrefix}edit-budget:${teamId}` : `${this.keyPrefix}budget:${this.method}:${teamId}`;
  }
}

/** Every paced method's budget shared through Redis: chat.update at `editsPerMinute`, the streaming methods at their tiers. */
export function redisBudgets(redis: Redis, editsPerMinute: number, keyPrefix: string, logger: Logger): SlackBudgets {
  const budget = (method: PacedMethod, perMinute: number) => new RedisEditBudget(redis, perMinute, keyPrefix, logger, method);
  return {
    'chat.update': budget('chat.update', editsPerMinute),
    'chat.appendStream': budget('chat.appendStream', STREAM_CALLS_PER_MINUTE['chat.appendStream']),
    'chat.startStream': budget('chat.startStream', STREAM_CALLS_PER_MINUTE['chat.startStream']),
    'chat.stopStream': budget('chat.stopStream', STREAM_CALLS_PER_MINUTE['chat.stopStream']),
    'agents.sessions.setStatus': budget('agents.sessions.setStatus', STREAM_CALLS_PER_MINUTE['agents.sessions.setStatus']),
  };
}
