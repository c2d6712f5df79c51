import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { Logger } from '../logger.js';

/**
 * A user's Stop for the answer running in a thread: `anyone` when Slack already decided who may stop (its own
 * Stop); `messageTs`, the messages the Stop was pressed on (empty: whatever answer runs in the thread).
 */
export interface StopRequest {
  teamId: string;
  channel: string;
  threadTs: string;
  userId: string;
  anyone: boolean;
  messageTs: string[];
}

/**
 * Carries a Stop to the instance running the answer: Slack delivers the click or the `agent_session_stopped`
 * event to any instance, but only the one streaming the answer can cancel it. Each instance handles every
 * request (the ones not running that thread's answer find nothing to stop).
 */
export interface StopRelay {
  /** Hands `request` to every instance's handler, this one's included. */
  publish(request: StopRequest): Promise<void>;
  /** Sets this instance's handler. */
  subscribe(handler: (request: StopRequest) => void): void;
  close(): Promise<void>;
}

/** One process: a Stop reaches this process's answers only. */
export class LocalStopRelay implements StopRelay {
  private handler: ((request: StopRequest) => void) | undefined;

  async publish(request: StopRequest): Promise<void> {
    this.handler?.(request);
  }

  subscribe(handler: (request: StopRequest) => void): void {
    this.handler = handler;
  }

  async close(): Promise<void> {}
}

const stopRequest = z.object({
  teamId: z.string(),
  channel: z.string(),
  threadTs: z.string(),
  userId: z.string(),
  anyone: z.boolean(),
  messageTs: z.array(z.string()),
});

/**
 * Stops through Redis pub/sub, so a Stop reaches whichever instance runs the answer. A subscribed connection
 * takes no other commands, hence its own (a duplicate of the stores' connection). A Stop published while
 * Redis is down is handled by this instance alone (better than nothing: it may be the one running it).
 */
export class RedisStopRelay implements StopRelay {
  private readonly channel: string;
  private readonly subscriber: Redis;
  private handler: ((request: StopRequest) => void) | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly logger: Logger,
    keyPrefix: string,
  ) {
    this.channel = `${keyPrefix}stop`;
    // Subscribing may happen before the first connection is up: let it wait for it.
    this.subscriber = redis.duplicate({ enableOfflineQueue: true });
    this.subscriber.on('message', (channel: string, message: string) => {
      if (channel !== this.channel) return;
      const parsed = stopRequest.safeParse(safeJson(message));
      if (parsed.success) this.handler?.(parsed.data);
      else this.logger.warn({ channel }, 'ignoring a malformed Stop from Redis');
    });
    // Errors and reconnects are logged by the stores' connection it duplicates; this one only must not throw.
    this.subscriber.on('error', () => undefined);
    this.subscriber.subscribe(this.channel).catch((error: unknown) => this.logger.warn({ err: error }, 'could not subscribe to Stops in Redis; Stops reach this instance only'));
  }

  async publish(request: StopRequest): Promise<void> {
    try {
      await this.redis.publish(this.channel, JSON.stringify(request));
    } catch (error) {
      this.logger.warn({ err: error }, 'could not publish a Stop through Redis; handling it here only');
      this.handler?.(request);
    }
  }

  subscribe(handler: (request: StopRequest) => void): void {
    this.handler = handler;
  }

  async close(): Promise<void> {
    this.subscriber.disconnect();
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
