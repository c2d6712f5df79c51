import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { fakeWiring } from './harness.js';
import { FakeAnthropic } from './fakes/fakeAnthropic.js';
import { FakeSlack } from './fakes/fakeSlack.js';

const root = resolve(import.meta.dirname, '..');
/** tsx's loader by path: the child runs in a temporary directory (so no stray .env is read). */
const tsxLoader = pathToFileURL(join(root, 'node_modules/tsx/dist/loader.mjs')).href;

/** The real bot as a child process (`tsx src/index.ts`), wired to the fakes, in HTTP mode on a free port. */
export interface BotProcess {
  child: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<number | null>;
}

/** The fake Slack and Anthropic servers a bot process is wired to. */
export interface Fakes {
  slack: FakeSlack;
  claude: FakeAnthropic;
}

/** Fresh fake Slack and Anthropic servers for each test of the enclosing describe (for bots run as processes). */
export function useFakeServers(): { slack: () => FakeSlack; claude: () => FakeAnthropic; servers: () => Fakes } {
  let slack: FakeSlack;
  let claude: FakeAnthropic;
  beforeEach(async () => {
    [slack, claude] = await Promise.all([FakeSlack.start(), FakeAnthropic.start()]);
  });
  afterEach(() => Promise.all([slack.close(), claude.close()]));
  return { slack: () => slack, claude: () => claude, servers: () => ({ slack, claude }) };
}

/** Extra ways to start the process. */
export interface SpawnOptions {
  /** Node options before the entry point, e.g. `['--import', file]` to run a script inside the bot's process. */
  nodeArgs?: string[];
}

/**
 * The entry point as a child process in an empty temporary directory, with only PATH, the wiring to `fakes`
 * (if given) and `env` (which wins) in its environment.
 */
function spawnEntry(env: Record<string, string>, fakes: Fakes | undefined, opts: SpawnOptions): ChildProcess {
  return spawn(process.execPath, ['--import', tsxLoader, ...(opts.nodeArgs ?? []), join(root, 'src/index.ts')], {
    cwd: mkdtempSync(join(tmpdir(), 'bot-process-')),
    env: {
      PATH: process.env.PATH,
      ...(fakes ? fakeWiring(fakes.slack, fakes.claude) : {}),
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** How a process that was expected to stop by itself ended. */
export interface FinishedProcess {
  /** The exit code; null if a signal ended it (e.g. the kill after the time-out). */
  code: number | null;
  stdout: string;
  stderr: string;
}

/** How to run the entry point to its exit. */
export interface RunToExitOptions extends SpawnOptions {
  /** The fakes to wire the bot to; without them, `env` alone says where Slack and Claude are. */
  fakes?: Fakes;
}

/**
 * Runs the entry point with `env` until it exits by itself (a start-up failure) and all its output is read;
 * kills it after 20 s (below Jest's 30 s test time-out, so a hang still shows its output).
 */
export function runBotToExit(env: Record<string, string>, opts: RunToExitOptions = {}): Promise<FinishedProcess> {
  const child = spawnEntry(env, opts.fakes, opts);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  return new Promise((done) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    }),
  );
}

/** Starts the entry point with the fakes' URLs and `env`; resolves once it logs "bot started". */
export async function spawnBot(
  slack: FakeSlack,
  claude: FakeAnthropic,
  env: Record<string, string>,
  opts: SpawnOptions = {},
): Promise<BotProcess> {
  const child = spawnEntry(env, { slack, claude }, opts);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  const port = await new Promise<number>((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`bot did not start:\n${output}`)), 20_000);
    const look = () => {
      const started = output.split('\n').find((line) => line.includes('"bot started"'));
      if (!started) return;
      clearTimeout(timer);
      child.stdout!.off('data', look);
      done(JSON.parse(started).port as number);
    };
    child.stdout!.on('data', look);
    void exited.then((code) => fail(new Error(`bot exited with ${code}:\n${output}`)));
  });
  return { child, url: `http://127.0.0.1:${port}`, output: () => output, exited };
}
