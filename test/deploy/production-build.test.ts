import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fakeWiring } from '../harness.js';
import { useFakeServers } from '../processBot.js';
import { root, run, type Finished } from './deployFiles.js';

/** Building, copying node_modules and pruning take a while on a busy machine: a safety net, not a bound. */
const PREPARE_MS = 600_000;

/** npm with the user's configuration (HOME: ~/.npmrc says where Node's headers and the cache are). */
const npm = (args: string[], cwd: string) => run(['npm', ...args], { HOME: process.env.HOME ?? '' }, cwd);

function expectSuccess(result: Finished): void {
  if (result.code !== 0) throw new Error(`exit ${result.code}:\n${result.stdout}\n${result.stderr}`);
}

/** Whether `specifier` can be imported from `dir` as the bot's own ESM imports would resolve it. */
async function importable(dir: string, specifier: string): Promise<boolean> {
  const probe = 'await import(process.argv[1]).then(() => process.exit(0), (e) => process.exit(e.code === "ERR_MODULE_NOT_FOUND" ? 3 : 1))';
  const { code } = await run(['node', '--input-type=module', '-e', probe, specifier], {}, dir);
  if (code !== 0 && code !== 3) throw new Error(`importing ${specifier} failed for another reason (exit ${code})`);
  return code === 0;
}

/**
 * The command `npm run start:prod` runs, started without npm in between (npm does not pass SIGTERM on: it dies and
 * leaves the bot running), in `dir` with only PATH and `env`; resolves with its port once it logs "bot started".
 */
async function startProd(dir: string, env: Record<string, string>): Promise<{ child: ChildProcess; port: number; exited: Promise<number | null> }> {
  const script = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts['start:prod']!;
  const [command, ...args] = script.split(/\s+/);
  expect(command).toBe('node');
  const child = spawn(process.execPath, args, { cwd: dir, env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  const port = await new Promise<number>((done, fail) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const started = output.split('\n').find((line) => line.includes('"bot started"'));
      if (started) done(JSON.parse(started).port as number);
    });
    void exited.then((code) => fail(new Error(`start:prod exited with ${code}:\n${output}`)));
  });
  return { child, port, exited };
}

describe('the production build runs from dist/ with production dependencies only', () => {
  const fakes = useFakeServers();
  let scratch: string;
  /** A fresh directory holding only package.json, package-lock.json, manifest.yml, dist/ and node_modules/. */
  let app: string;

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'bot-deploy-'));
    app = join(scratch, 'app');
    mkdirSync(app);
    for (const file of ['package.json', 'package-lock.json', 'manifest.yml']) copyFileSync(join(root, file), join(app, file));
    // `npm run build` itself, into the fresh directory: parallel runs never share an output.
    expectSuccess(await npm(['run', 'build', '--', '--outDir', join(app, 'dist')], root));
    // The installed tree (with better-sqlite3 compiled for this Node), then npm removes every dev dependency.
    // `npm ci --omit=dev --offline` would recompile better-sqlite3: minutes instead of seconds.
    cpSync(realpathSync(join(root, 'node_modules')), join(app, 'node_modules'), { recursive: true, verbatimSymlinks: true });
    expectSuccess(await npm(['prune', '--omit=dev', '--offline', '--no-audit', '--no-fund'], app));
  }, PREPARE_MS);
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  test('dev dependencies cannot be imported there; production ones can', async () => {
    for (const dev of ['tsx', 'typescript', 'jest']) expect(await importable(app, dev)).toBe(false);
    for (const prod of ['better-sqlite3', '@slack/bolt', 'prom-client']) expect(await importable(app, prod)).toBe(true);
  });

  test('the start:prod command starts on sqlite, answers GET /healthz with 200, and exits 0 on SIGTERM', async () => {
    // The default store (sqlite in ./data): the start fails unless better-sqlite3's compiled binary is there.
    const bot = await startProd(app, { ...fakeWiring(fakes.slack(), fakes.claude()), LOG_LEVEL: 'info', SHUTDOWN_GRACE_MS: '1000' });
    try {
      const health = await fetch(`http://127.0.0.1:${bot.port}/healthz`);
      expect(health.status).toBe(200);
      bot.child.kill('SIGTERM');
      expect(await bot.exited).toBe(0);
    } finally {
      bot.child.kill('SIGKILL');
    }
  });
});
