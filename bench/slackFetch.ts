// `node --import tsx bench/slackFetch.ts [--rounds=N]`: which `fetch` sends a small Slack-like POST fastest over a
// kept-alive loopback connection (issue #14 §3). Each candidate runs in a fresh child process per round, the
// candidates interleaved round by round; the table gives the medians over rounds of each round's p50/p95.
// "call → arrived" is when the server had the request's headers, on a clock shared by the processes.
import { fork } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { preciseNow } from '../test/fakes/httpUtil.js';

/** The ways to send a request this bench compares, each importing only what it names. */
const CANDIDATES = {
  /** Today: Node's fetch once `@slack/bolt` has loaded undici 7, whose Agent became the global dispatcher. */
  'a: fetch after @slack/bolt': async () => {
    await import('@slack/bolt');
    return globalThis.fetch;
  },
  /** Node's fetch with an undici 7 Agent passed per request. */
  'b: fetch + undici 7 Agent': async () => {
    const { Agent } = await import('undici');
    const dispatcher = new Agent();
    return (url: string, init: RequestInit) => globalThis.fetch(url, { ...init, dispatcher } as unknown as RequestInit);
  },
  /** undici 7's own fetch over its own Agent (no Node-bundled undici in the path). */
  'c: undici 7 fetch + Agent': async () => {
    const { Agent, fetch } = await import('undici');
    const dispatcher = new Agent();
    return (url: string, init: RequestInit) => fetch(url, { ...init, dispatcher } as never) as unknown as Promise<Response>;
  },
  /** The bot's own: src/http/nodeFetch.ts (node:http(s) with a keep-alive Agent). */
  'd: createNodeFetch (node:http)': async () => (await import('../src/http/nodeFetch.js')).createNodeFetch('whole') as (url: string, init: RequestInit) => Promise<Response>,
  /** Node's fetch in a process that never loads undici 7: the reference. */
  'e: fetch, no undici 7 loaded': async () => globalThis.fetch,
} satisfies Record<string, () => Promise<(url: string, init: RequestInit) => Promise<Response>>>;
type Candidate = keyof typeof CANDIDATES;

/** Server answer delays compared (ms). */
const DELAYS_MS = [0, 50];
/** Requests per child: a warm-up at 0 ms (connections opened, code paths compiled), then the measured ones. */
const WARMUP = 500;
const MEASURED: Record<number, number> = { 0: 500, 50: 100 };
const BODY = 'channel=C123&thread_ts=1700000000.000100&text=Thinking%E2%80%A6&token=xoxb-bench';

interface ChildResult {
  /** Per request: call → Response resolved and body read, ms. */
  total: number[];
  /** Per request: call → the server had the request, ms. */
  arrived: number[];
  /** CPU time (user + system) of the child over the measured requests, µs per request. */
  cpuUsPerRequest: number;
}

async function child(candidate: Candidate, url: string, delayMs: number): Promise<void> {
  const send = await CANDIDATES[candidate]();
  const one = async (delay: number) => {
    const calledAt = preciseNow();
    const response = await send(`${url}/api/chat.postMessage?delay=${delay}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: 'Bearer xoxb-bench' },
      body: BODY,
      redirect: 'error',
      signal: AbortSignal.timeout(10_000),
    });
    const body = JSON.parse(await response.text()) as { arrived: number };
    return { total: preciseNow() - calledAt, arrived: body.arrived - calledAt };
  };
  for (let i = 0; i < WARMUP; i++) await one(0);
  const result: ChildResult = { total: [], arrived: [], cpuUsPerRequest: 0 };
  const cpu = process.cpuUsage();
  const n = MEASURED[delayMs]!;
  for (let i = 0; i < n; i++) {
    const { total, arrived } = await one(delayMs);
    result.total.push(total);
    result.arrived.push(arrived);
  }
  const used = process.cpuUsage(cpu);
  result.cpuUsPerRequest = (used.user + used.system) / n;
  process.send!(result);
  process.disconnect();
}

/** A Slack-like endpoint: answers `{ok:true, arrived}` after `?delay=` ms, keeping connections alive. */
function startServer(): Promise<{ url: string; close: () => void; sockets: () => number }> {
  let sockets = 0;
  const server = createServer({ keepAliveTimeout: 60_000 }, (request: IncomingMessage, response: ServerResponse) => {
    const arrived = preciseNow();
    const delay = Number(new URL(request.url!, 'http://x').searchParams.get('delay'));
    request.resume();
    request.on('end', () => {
      const answer = () => {
        response.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8' });
        response.end(JSON.stringify({ ok: true, arrived }));
      };
      if (delay > 0) setTimeout(answer, delay);
      else answer();
    });
  });
  server.on('connection', () => sockets++);
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        close: () => server.close(),
        sockets: () => sockets,
      }),
    ),
  );
}

function runChild(candidate: Candidate, url: string, delayMs: number): Promise<ChildResult> {
  const proc = fork(import.meta.filename, ['--child', candidate, url, String(delayMs)], { execArgv: ['--import', 'tsx'] });
  return new Promise((resolve, reject) => {
    proc.once('message', (result) => resolve(result as ChildResult));
    proc.once('exit', (code) => reject(new Error(`${candidate} exited with ${code} before reporting`)));
  });
}

const quantile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
};
const median = (values: number[]) => quantile(values, 0.5);

async function parent(): Promise<void> {
  const rounds = Number(process.argv.find((arg) => arg.startsWith('--rounds='))?.slice('--rounds='.length) ?? 5);
  const server = await startServer();
  const names = Object.keys(CANDIDATES) as Candidate[];
  /** Per candidate and delay: one entry per round. */
  const perRound = new Map<string, { p50: number; p95: number; arrivedP50: number; arrivedP95: number; cpu: number; connections: number }[]>();
  for (let round = 0; round < rounds; round++) {
    // Rotate the order each round so no candidate always runs first (or right after a noisy one).
    const order = names.map((_, i) => names[(i + round) % names.length]!);
    for (const delayMs of DELAYS_MS) {
      for (const candidate of order) {
        const socketsBefore = server.sockets();
        const result = await runChild(candidate, server.url, delayMs);
        const connections = server.sockets() - socketsBefore;
        const key = `${candidate}|${delayMs}`;
        perRound.set(key, [
          ...(perRound.get(key) ?? []),
          {
            p50: median(result.total),
            p95: quantile(result.total, 0.95),
            arrivedP50: median(result.arrived),
            arrivedP95: quantile(result.arrived, 0.95),
            cpu: result.cpuUsPerRequest,
            connections,
          },
        ]);
      }
    }
    process.stderr.write(`round ${round + 1}/${rounds}\n`);
  }
  server.close();
  const f = (value: number) => value.toFixed(2);
  console.log(`Medians over ${rounds} rounds (${WARMUP} warm-up requests, then ${MEASURED[0]} at 0 ms / ${MEASURED[50]} at 50 ms per round), one kept-alive connection.\n`);
  console.log('| candidate | server delay | call → response p50 / p95 (ms) | call → arrived p50 / p95 (ms) | CPU per request (µs) | connections |');
  console.log('|---|---|---|---|---|---|');
  for (const delayMs of DELAYS_MS) {
    for (const candidate of names) {
      const rows = perRound.get(`${candidate}|${delayMs}`)!;
      const m = (pick: (row: (typeof rows)[number]) => number) => f(median(rows.map(pick)));
      console.log(`| ${candidate} | ${delayMs} ms | ${m((r) => r.p50)} / ${m((r) => r.p95)} | ${m((r) => r.arrivedP50)} / ${m((r) => r.arrivedP95)} | ${m((r) => r.cpu)} | ${m((r) => r.connections)} |`);
    }
  }
}

if (process.argv[2] === '--child') await child(process.argv[3] as Candidate, process.argv[4]!, Number(process.argv[5]));
else await parent();
