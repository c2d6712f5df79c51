import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/** A decoded JSON value; `any` so tests can reach into recorded payloads without casts. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

/** Reads a request body to the end as UTF-8 text. */
export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Starts `server` on a free loopback port and resolves with that port. */
export function listenOnLoopback(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      const address = server.address();
      if (address === null || typeof address === 'string') {
        reject(new Error('server has no TCP address'));
        return;
      }
      resolve(address.port);
    });
  });
}

/** Stops `server`, destroying open connections (keep-alive or mid-response) so nothing lingers. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close((err) => (err ? reject(err) : resolve()));
    server.closeAllConnections();
  });
}

/** Timers that can all be cancelled at once, so a closed fake leaves no pending timer behind. */
export class DelayPool {
  private readonly pending = new Map<NodeJS.Timeout, (elapsed: boolean) => void>();

  /** Resolves true after `ms`, or false at once if the pool is (or gets) cancelled. */
  wait(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(timer);
        resolve(true);
      }, ms);
      this.pending.set(timer, resolve);
    });
  }

  /** Cancels every pending wait, resolving each with false. */
  cancelAll(): void {
    for (const [timer, resolve] of this.pending) {
      clearTimeout(timer);
      resolve(false);
    }
    this.pending.clear();
  }
}

/** Polls `predicate` every 10 ms; rejects after `timeoutMs` with `describe()` in the message. */
export async function pollUntil(
  predicate: () => boolean,
  timeoutMs: number,
  describe: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() >= deadline) {
      throw new Error(`condition not met within ${timeoutMs} ms; ${describe()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Wall-clock milliseconds with sub-millisecond precision, comparable across processes on one machine. */
export function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}

let lastTsMicros = 0;

/**
 * A Slack message ts as Slack gives them: the time in seconds and microseconds, later than every ts given out
 * before in this process (by the fake Slack or by a test's event), so ts order is the order of creation.
 */
export function nextSlackTs(): string {
  lastTsMicros = Math.max(lastTsMicros + 1, Math.round(preciseNow() * 1000));
  return `${Math.floor(lastTsMicros / 1_000_000)}.${String(lastTsMicros % 1_000_000).padStart(6, '0')}`;
}

/** A host that is not Slack, on loopback: records the headers of every request it gets (to prove no token reached it). */
export class ForeignHost {
  readonly seen: IncomingHttpHeaders[] = [];
  private constructor(
    private readonly server: Server,
    /** A file URL on this host. */
    readonly url: string,
  ) {}

  static async start(): Promise<ForeignHost> {
    const server = createServer();
    const host = new ForeignHost(server, `http://127.0.0.1:${await listenOnLoopback(server)}/file.txt`);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      host.seen.push(req.headers);
      res.writeHead(200, { 'content-type': 'text/plain' }).end('from elsewhere');
    });
    return host;
  }

  /** The requests that carried an `Authorization` header. */
  get authorized(): IncomingHttpHeaders[] {
    return this.seen.filter((headers) => headers.authorization !== undefined);
  }

  close(): Promise<void> {
    return closeServer(this.server);
  }
}
