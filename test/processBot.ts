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

/** Fresh fake Slack and Anthropic servers for each test of the enclosing describe (for bots run as processes). */
export function useFakeServers(): { slack: () => FakeSlack; claude: () => FakeAnthropic } {
  let slack: FakeSlack;
  let claude: FakeAnthropic;
  beforeEach(async () => {
    [slack, claude] = await Promise.all([FakeSlack.start(), FakeAnthropic.start()]);
  });
  afterEach(() => Promise.all([slack.close(), claude.close()]));
  return { slack: () => slack, claude: () => claude };
}

/** Extra ways to start the process. */
export interface SpawnOptions {
  /** Node options before the entry point, e.g. `['--import', file]` to run a script inside the bot's process. */
  nodeArgs?: string[];
}

/** The entry point as a child process in an empty temporary directory, wired to the fakes. */
function spawnEntry(slack: FakeSlack, claude: FakeAnthropic, env: Record<string, string>, opts: SpawnOptions): ChildProcess {
  return spawn(process.execPath, ['--import', tsxLoader, ...(opts.nodeArgs ?? []), join(root, 'src/index.ts')], {
    cwd: mkdtempSync(join(tmpdir(), 'bot-process-')),
    env: {
      PATH: process.env.PATH,
      ...fakeWiring(slack, claude),
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** How a process that was expected to stop by itself ended. */
export interface FinishedProcess {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the entry point until it exits by itself (a start-up failure); kills it after `timeoutMs`. */
export function runBotToExit(slack: FakeSlack, claude: FakeAnthropic, env: Record<string, string>, timeoutMs = 30_000): Promise<FinishedProcess> {
  const child = spawnEntry(slack, claude, env, {});
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
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
  const child = spawnEntry(slack, claude, env, opts);
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
