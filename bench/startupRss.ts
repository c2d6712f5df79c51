// The compiled bot's resident memory once it serves and before its first answer (issue #14 §3: ≤ 135 MB).
// `node --import tsx bench/startupRss.ts` prints it; bench/run.ts imports `compiledStartupRss`.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { FakeAnthropic } from '../test/fakes/fakeAnthropic.js';
import { FakeSlack } from '../test/fakes/fakeSlack.js';

const root = resolve(import.meta.dirname, '..');
const entry = join(root, 'dist/index.js');

/** The newest modification time (ms) of any file under `dir`. */
function newestUnder(dir: string): number {
  return Math.max(
    ...readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((item) => item.isFile())
      .map((item) => statSync(join(item.parentPath, item.name)).mtimeMs),
  );
}

/** Runs `npm run build`'s compiler when dist/index.js is missing or older than src/ or the compiler settings. */
async function buildIfStale(): Promise<void> {
  const sources = Math.max(newestUnder(join(root, 'src')), ...['tsconfig.json', 'tsconfig.build.json'].map((file) => statSync(join(root, file)).mtimeMs));
  let built = 0;
  try {
    built = statSync(entry).mtimeMs;
  } catch {
    // Missing: build it.
  }
  if (built > sources) return;
  await new Promise<void>((done, fail) =>
    execFile(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: root }, (error, stdout) =>
      error ? fail(new Error(`build failed:\n${stdout}`)) : done(),
    ),
  );
}

/** VmRSS of a Linux process, MB (MiB, as the kernel counts kB). */
function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB/m);
  if (!line) throw new Error(`no VmRSS for process ${pid}`);
  return Number(line[1]) / 1024;
}

/**
 * Builds dist/ if stale, starts `node dist/index.js` (HTTP mode, the default sqlite store in a scratch directory,
 * only PATH and the wiring to loopback fakes in its environment), waits until GET /healthz answers 200, reads
 * its RSS, and stops it with SIGTERM. Throws with the bot's output if it does not start within 60 s.
 */
export async function compiledStartupRss(): Promise<{ rssMb: number }> {
  await buildIfStale();
  const [slack, claude] = await Promise.all([FakeSlack.start(), FakeAnthropic.start()]);
  const scratch = mkdtempSync(join(tmpdir(), 'bot-rss-'));
  const child = spawn(process.execPath, [entry], {
    cwd: scratch,
    env: {
      PATH: process.env.PATH,
      SLACK_BOT_TOKEN: 'xoxb-bench',
      SLACK_SIGNING_SECRET: 'bench-signing-secret',
      ANTHROPIC_API_KEY: 'sk-ant-bench',
      SLACK_API_URL: slack.apiUrl,
      ANTHROPIC_BASE_URL: claude.baseUrl,
      PORT: '0',
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  try {
    const port = await new Promise<number>((done, fail) => {
      const timer = setTimeout(() => fail(new Error(`the compiled bot did not start within 60 s:\n${output}`)), 60_000);
      child.stdout.on('data', () => {
        const started = output.split('\n').find((line) => line.includes('"bot started"'));
        if (!started) return;
        clearTimeout(timer);
        done(JSON.parse(started).port as number);
      });
      void exited.then((code) => fail(new Error(`the compiled bot exited with ${code}:\n${output}`)));
    });
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    if (health.status !== 200) throw new Error(`GET /healthz answered ${health.status}`);
    return { rssMb: rssMb(child.pid!) };
  } finally {
    child.kill('SIGTERM');
    await exited;
    await Promise.all([slack.close(), claude.close()]);
    rmSync(scratch, { recursive: true, force: true });
  }
}

if (process.argv[1] === import.meta.filename) {
  const { rssMb } = await compiledStartupRss();
  console.log(`compiled bot RSS before its first answer: ${rssMb.toFixed(1)} MB (target ≤ 135)`);
}
