import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { connect, createServer } from 'node:net';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { createLogger, type Logger } from '../../src/logger.js';

/** The machine's shared Redis; tests never stop or break it (see RedisServer for that). */
export const SHARED_REDIS_URL = 'redis://127.0.0.1:6379';

/** `describe`, or a loud `describe.skip` when SKIP_REDIS_TESTS=1 (no Redis on this machine). */
export function describeRedis(name: string, body: () => void): void {
  if (process.env.SKIP_REDIS_TESTS === '1') {
    console.warn(`!!! SKIPPED "${name}": SKIP_REDIS_TESTS=1, so there is no Redis server to test against !!!`);
    describe.skip(name, body);
  } else {
    describe(name, body);
  }
}

/** A key prefix no other test uses. */
export function testPrefix(): string {
  return `test:${randomUUID()}:`;
}

/** A plain connection to the shared Redis, for tests to set up and inspect keys. */
export function sharedRedis(): Redis {
  return new Redis(SHARED_REDIS_URL, { maxRetriesPerRequest: 1 });
}

/** Deletes every key under `prefix`. */
export async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    if (keys.length) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}

/** Two connections to the shared Redis and a fresh key prefix per test, as the Redis suites use them. */
export interface RedisPair {
  /** The first connection; the one the keys are inspected and deleted through. */
  a: () => Redis;
  /** A second connection, standing for another instance. */
  b: () => Redis;
  /** This test's key prefix (see testPrefix). */
  prefix: () => string;
}

/**
 * Registers, in the describe block it is called in, the hooks every Redis suite needs: two
 * `sharedRedis()` connections for the block, a fresh `testPrefix()` before each test, the keys
 * under it deleted after each test, the connections quit after the block. `cleanUp` runs after
 * each test before its keys are deleted (to close what the test opened, restore mocks, …).
 */
export function useRedisPair(options: { cleanUp?: () => unknown } = {}): RedisPair {
  let a: Redis | undefined;
  let b: Redis | undefined;
  let prefix: string | undefined;
  const ready = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`useRedisPair: ${what} is only there inside a test of its describe block`);
    return value;
  };

  beforeAll(() => {
    a = sharedRedis();
    b = sharedRedis();
  });
  beforeEach(() => {
    prefix = testPrefix();
  });
  afterEach(async () => {
    await options.cleanUp?.();
    await deleteKeys(ready(a, 'a'), ready(prefix, 'prefix'));
  });
  afterAll(() => Promise.all([a?.quit(), b?.quit()]));

  return { a: () => ready(a, 'a'), b: () => ready(b, 'b'), prefix: () => ready(prefix, 'prefix') };
}

/** One pino line, parsed. */
export interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** A logger whose lines tests can read. */
export function memoryLogger(level = 'debug'): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  return { logger: createLogger(level, sink), lines };
}

/** Resolves once `check` returns (or resolves to) true, polling every 10 ms; rejects after `timeoutMs`. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out waiting for a condition');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A free TCP port on 127.0.0.1 (free when asked; nothing holds it afterwards). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return address.port;
}

/** A `redis-server` child process of the test's own, which it may kill and restart on the same port. */
export class RedisServer {
  private child: ChildProcess | undefined;

  private constructor(readonly port: number) {}

  /** Starts a server on `port` (default: a free one). */
  static async start(port?: number): Promise<RedisServer> {
    const server = new RedisServer(port ?? (await freePort()));
    await server.restart();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts the server (again) on its port and resolves once it answers. */
  async restart(): Promise<void> {
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
    this.child = child;
    const deadline = Date.now() + 5_000;
    while (!(await answersPing(this.port))) {
      if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
      if (Date.now() > deadline) throw new Error('redis-server did not answer within 5 s');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Kills the server outright (SIGKILL, like a crash) and resolves once it is gone. */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }
}

/** True when a Redis server on `port` answers PING. */
async function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.setTimeout(500);
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('+PONG'));
    });
    socket.on('error', () => resolve(false));
    socket.on('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}
