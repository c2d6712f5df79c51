import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadConfig } from '../../src/config.js';
import { findManifest, manifestBotScopes } from '../../src/doctor/manifest.js';
import { createLogger } from '../../src/logger.js';
import { openStores } from '../../src/stores.js';
import { MANIFEST_BOT_SCOPES } from '../fakes/fakeSlack.js';
import { API_KEY, BOT_TOKEN, fakeWiring, SIGNING_SECRET } from '../harness.js';
import { useFakeServers, type FinishedProcess } from '../processBot.js';
import { describeRedis, freePort, sharedRedis, SHARED_REDIS_URL } from '../redis/helpers.js';

const root = resolve(import.meta.dirname, '../..');
const tsxLoader = pathToFileURL(join(root, 'node_modules/tsx/dist/loader.mjs')).href;
const APP_TOKEN = 'xapp-1-doctor-app-token-SECRET';
const ROWS = ['configuration', 'Slack bot token', 'Slack scopes', 'Slack connection', 'Anthropic key and model', 'history store', 'native streaming'];

/** What one doctor run printed, row by row. */
interface DoctorRun extends FinishedProcess {
  /** The row of each check by name: its mark, its line and the `fix:` line under it, if any. */
  row(name: string): { mark: string; line: string; fix?: string };
}

/**
 * Runs `src/cli/doctor.ts` as `npm run doctor` does, in `cwd` (default: a fresh empty directory, so no .env
 * or manifest.yml of the repository's working copy is read there), wired to the fakes, with `env` over it.
 */
function runDoctor(env: Record<string, string>, { fakes, cwd }: { fakes: ReturnType<typeof useFakeServers>; cwd?: string }): Promise<DoctorRun> {
  const dir = cwd ?? mkdtempSync(join(tmpdir(), 'doctor-'));
  const child = spawn(process.execPath, ['--import', tsxLoader, join(root, 'src/cli/doctor.ts')], {
    cwd: dir,
    env: { PATH: process.env.PATH, ...fakeWiring(fakes.slack(), fakes.claude()), SLACK_STREAMING: 'auto', HISTORY_DB_PATH: join(dir, 'data/history.sqlite'), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((done) =>
    child.once('close', (code) => {
      const lines = stdout.split('\n');
      const row = (name: string) => {
        const index = lines.findIndex((line) => new RegExp(`^\\S+ ${name} `).test(line));
        if (index < 0) throw new Error(`no "${name}" row in:\n${stdout}${stderr}`);
        const line = lines[index]!;
        const fix = /^\s+fix: (.*)$/.exec(lines[index + 1] ?? '')?.[1];
        return { mark: line.split(' ')[0]!, line, ...(fix ? { fix } : {}) };
      };
      done({ code, stdout, stderr, row });
    }),
  );
}

/** Every row is there, in order, and none shows a secret. */
function expectWellFormed(run: DoctorRun, secrets: string[] = [BOT_TOKEN, API_KEY, SIGNING_SECRET]): void {
  for (const name of ROWS) run.row(name);
  for (const secret of secrets) {
    expect(run.stdout).not.toContain(secret);
    expect(run.stderr).not.toContain(secret);
  }
}

/** The marks of all rows, by name. */
function marks(run: DoctorRun): Record<string, string> {
  return Object.fromEntries(ROWS.map((name) => [name, run.row(name).mark]));
}

/** A manifest.yml in a fresh directory, asking for `scopes`; returns the directory. */
function dirWithManifest(scopes: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'doctor-manifest-'));
  writeFileSync(join(dir, 'manifest.yml'), `oauth_config:\n  scopes:\n    bot:\n${scopes.map((scope) => `      - ${scope}\n`).join('')}`);
  return dir;
}

describe('npm run doctor against the fakes', () => {
  const fakes = useFakeServers();

  test("the fake Slack grants by default exactly the bot scopes the repository's manifest.yml asks for", () => {
    const manifest = findManifest(mkdtempSync(join(tmpdir(), 'doctor-')), join(root, 'src/doctor'));
    expect(manifest).toBe(join(root, 'manifest.yml'));
    expect([...manifestBotScopes(manifest!)].sort()).toEqual([...MANIFEST_BOT_SCOPES].sort());
  });

  test('passes with every scope granted: exit 0, every row ✅, naming the workspace, bot user and model', async () => {
    const run = await runDoctor({}, { fakes });
    expectWellFormed(run);
    expect(run.code).toBe(0);
    expect(Object.values(marks(run))).toEqual(ROWS.map(() => '✅'));
    expect(run.row('Slack bot token').line).toContain('Test Team (T0001), bot user @claude (UBOT)');
    expect(run.row('Slack scopes').line).toContain(`all ${MANIFEST_BOT_SCOPES.length} bot scopes`);
    expect(run.row('Anthropic key and model').line).toContain('claude-sonnet-5-5 is active');
    expect(run.row('history store').line).toContain('does not exist yet');
    expect(fakes.claude().modelRequests).toEqual(['claude-sonnet-5-5']);
    expect(fakes.slack().callsOf('auth.test').map((call) => call.token)).toEqual([BOT_TOKEN]);
  });

  test('a scope manifest.yml asks for and Slack did not grant fails, naming the scope and the fix', async () => {
    fakes.slack().grantedScopes = MANIFEST_BOT_SCOPES.filter((scope) => scope !== 'files:read');
    const run = await runDoctor({}, { fakes });
    expectWellFormed(run);
    expect(run.code).toBe(1);
    const scopes = run.row('Slack scopes');
    expect(scopes.mark).toBe('❌');
    expect(scopes.line).toContain('missing files:read');
    expect(scopes.fix).toBe('add them under OAuth & Permissions (or update the manifest) and reinstall the app');
    // Only that row fails.
    expect(Object.entries(marks(run)).filter(([, mark]) => mark !== '✅')).toEqual([['Slack scopes', '❌']]);
  });

  test('manifest.yml in the working directory wins over the project root; extra granted scopes are fine', async () => {
    const cwd = dirWithManifest(['chat:write', 'assistant:write', 'reactions:write']);
    const run = await runDoctor({}, { fakes, cwd });
    expectWellFormed(run);
    expect(run.code).toBe(1);
    expect(run.row('Slack scopes').line).toContain('missing reactions:write (asked for in manifest.yml');
  });

  test('native streaming: without assistant:write, auto warns (exit 0) and native fails naming the scope', async () => {
    const cwd = dirWithManifest(['chat:write']);
    fakes.slack().grantedScopes = ['chat:write', 'commands'];
    const auto = await runDoctor({ SLACK_STREAMING: 'auto' }, { fakes, cwd });
    expectWellFormed(auto);
    expect(auto.row('native streaming')).toMatchObject({ mark: '⚠️', line: expect.stringContaining('assistant:write not granted') });
    expect(auto.code).toBe(0);

    const native = await runDoctor({ SLACK_STREAMING: 'native' }, { fakes, cwd });
    expect(native.row('native streaming')).toMatchObject({ mark: '❌', fix: expect.stringContaining('add assistant:write') });
    expect(native.code).toBe(1);
  });

  test('a retired model fails with the fix naming a current model; its retirement date is shown', async () => {
    fakes.claude().models['claude-sonnet-4-5'] = { lifecycle: 'retired', retiresAt: '2026-11-30T00:00:00Z' };
    const run = await runDoctor({ CLAUDE_MODEL: 'claude-sonnet-4-5' }, { fakes });
    expectWellFormed(run);
    expect(run.code).toBe(1);
    expect(run.row('Anthropic key and model')).toEqual({
      mark: '❌',
      line: expect.stringContaining('claude-sonnet-4-5 is retired since 2026-11-30'),
      fix: 'set CLAUDE_MODEL to a current model such as claude-sonnet-5-5',
    });
  });

  test('an unknown model fails with the same fix; a deprecated one warns with its date and passes', async () => {
    const unknown = await runDoctor({ CLAUDE_MODEL: 'claude-nonexistent-1' }, { fakes });
    expect(unknown.code).toBe(1);
    expect(unknown.row('Anthropic key and model')).toMatchObject({ mark: '❌', fix: 'set CLAUDE_MODEL to a current model such as claude-sonnet-5-5' });

    fakes.claude().models['claude-sonnet-5'] = { lifecycle: 'deprecated', retiresAt: '2027-03-01T00:00:00Z' };
    const deprecated = await runDoctor({ CLAUDE_MODEL: 'claude-sonnet-5' }, { fakes });
    expect(deprecated.code).toBe(0);
    expect(deprecated.row('Anthropic key and model')).toMatchObject({ mark: '⚠️', line: expect.stringContaining('deprecated and retires on 2027-03-01') });
  });

  test('a bot token Slack refuses fails with the reason and the fix; the checks that need it are skipped', async () => {
    fakes.slack().failNext('auth.test', { error: 'invalid_auth' });
    const run = await runDoctor({}, { fakes });
    expectWellFormed(run);
    expect(run.code).toBe(1);
    expect(run.row('Slack bot token')).toEqual({
      mark: '❌',
      line: expect.stringContaining('SLACK_BOT_TOKEN was refused by Slack: invalid_auth'),
      fix: expect.stringContaining('Bot User OAuth Token'),
    });
    expect(run.row('Slack scopes').mark).toBe('➖');
    expect(run.row('native streaming').mark).toBe('➖');
    expect(run.row('Anthropic key and model').mark).toBe('✅');
  });

  test('a refused Anthropic key fails, and its echo in the error never reaches the output', async () => {
    const apiKey = 'sk-ant-doctor-echoed-key-SECRET';
    fakes.claude().models['claude-sonnet-5-5'] = { httpError: { status: 401, type: 'authentication_error', message: `invalid x-api-key: ${apiKey}` } };
    const run = await runDoctor({ ANTHROPIC_API_KEY: apiKey }, { fakes });
    expectWellFormed(run, [apiKey, BOT_TOKEN, SIGNING_SECRET]);
    expect(run.code).toBe(1);
    expect(run.row('Anthropic key and model')).toEqual({
      mark: '❌',
      line: expect.stringContaining('ANTHROPIC_API_KEY was refused: 401 authentication_error: invalid x-api-key: [redacted]'),
      fix: expect.stringContaining('set ANTHROPIC_API_KEY to a valid key'),
    });
  });

  test('an upstream error echoing the key in another encoding, or terminal escapes, is not printed as sent', async () => {
    const apiKey = 'sk-ant-doctor-encoded-key-SECRET';
    const encoded = Buffer.from(`Bearer ${apiKey}`).toString('base64');
    fakes.claude().models['claude-sonnet-5-5'] = { httpError: { status: 401, type: 'authentication_error', message: `bad header ${encoded} \u001b[2J\u001b]0;owned\u0007` } };
    const run = await runDoctor({ ANTHROPIC_API_KEY: apiKey }, { fakes });
    expect(run.code).toBe(1);
    expect(run.stdout).not.toContain(encoded.slice(0, 24));
    expect(run.stdout).not.toContain('\u001b');
    expect(run.row('Anthropic key and model').line).toContain('bad header […]');
  });

  test('an invalid configuration fails on one line naming the variable; every other check is skipped and nothing is called', async () => {
    const badToken = 'xoxp-user-token-not-a-bot-SECRET';
    const run = await runDoctor({ SLACK_BOT_TOKEN: badToken }, { fakes });
    expectWellFormed(run, [badToken, API_KEY, SIGNING_SECRET]);
    expect(run.code).toBe(1);
    expect(run.row('configuration')).toEqual({
      mark: '❌',
      line: expect.stringContaining('SLACK_BOT_TOKEN must be a bot token starting with xoxb-'),
      fix: expect.any(String),
    });
    expect(ROWS.slice(1).map((name) => run.row(name).line)).toEqual(ROWS.slice(1).map((name) => expect.stringMatching(new RegExp(`^➖ ${name} +skipped: needs a valid configuration$`))));
    expect(fakes.slack().calls).toEqual([]);
    expect(fakes.claude().modelRequests).toEqual([]);
  });

  test('Socket Mode: the app token opens a connection URL; a refused one fails naming SLACK_APP_TOKEN; neither token is printed', async () => {
    const slack = fakes.slack();
    slack.socketModeUrl = 'ws://127.0.0.1:1/never-opened';
    const good = await runDoctor({ SLACK_APP_TOKEN: APP_TOKEN }, { fakes });
    expectWellFormed(good, [APP_TOKEN, BOT_TOKEN, API_KEY, SIGNING_SECRET]);
    expect(good.code).toBe(0);
    expect(good.row('Slack connection').line).toContain('Socket Mode: SLACK_APP_TOKEN can open connections');
    expect(slack.callsOf('apps.connections.open').map((call) => call.token)).toEqual([APP_TOKEN]);

    slack.socketModeUrl = undefined;
    const refused = await runDoctor({ SLACK_APP_TOKEN: APP_TOKEN }, { fakes });
    expectWellFormed(refused, [APP_TOKEN, BOT_TOKEN, API_KEY, SIGNING_SECRET]);
    expect(refused.code).toBe(1);
    expect(refused.row('Slack connection')).toMatchObject({
      mark: '❌',
      line: expect.stringContaining('SLACK_APP_TOKEN was refused by Slack: not_allowed_token_type'),
      fix: expect.stringContaining('connections:write'),
    });
  });

  test('sqlite: a file that is not a sqlite database fails, untouched', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'doctor-'));
    const path = join(cwd, 'notes.txt');
    const text = 'these are not the rows you are looking for';
    writeFileSync(path, text);
    const run = await runDoctor({ HISTORY_DB_PATH: path }, { fakes, cwd });
    expect(run.code).toBe(1);
    expect(run.row('history store')).toMatchObject({ mark: '❌', line: expect.stringContaining('is not a sqlite database') });
    expect(readFileSync(path, 'utf8')).toBe(text);
  });

  test("sqlite while the bot holds the file: passes, names the holder, and the bot's lease stays its own", async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'doctor-'));
    mkdirSync(join(cwd, 'data'));
    const path = join(cwd, 'data/history.sqlite');
    const config = loadConfig({ ...fakeWiring(fakes.slack(), fakes.claude()), HISTORY_STORE: 'sqlite', HISTORY_DB_PATH: path });
    const stores = await openStores(config, createLogger('silent'));
    try {
      const run = await runDoctor({ HISTORY_DB_PATH: path }, { fakes, cwd });
      expect(run.code).toBe(0);
      expect(run.row('history store')).toMatchObject({ mark: '✅', line: expect.stringContaining(`held by pid ${process.pid}`) });
      // ready() renews the heartbeat of this process's lease: false had the doctor taken the file over.
      expect(await stores.ready()).toBe(true);
    } finally {
      await stores.close();
    }
  });
});

describeRedis('npm run doctor with HISTORY_STORE=redis', () => {
  const fakes = useFakeServers();

  test('a reachable Redis passes with its version, and the probe key is gone afterwards', async () => {
    const run = await runDoctor({ HISTORY_STORE: 'redis', REDIS_URL: SHARED_REDIS_URL }, { fakes });
    expectWellFormed(run);
    expect(run.code).toBe(0);
    expect(run.row('history store')).toMatchObject({ mark: '✅', line: expect.stringMatching(/Redis \d+\.\d+\.\d+ at 127\.0\.0\.1:6379 \(database 0\)/) });
    const redis = sharedRedis();
    try {
      expect(await redis.keys('claude-bot:doctor:*')).toEqual([]);
    } finally {
      redis.disconnect();
    }
  });

  test('nothing listening on the port fails, naming host and port but not the password', async () => {
    const port = await freePort();
    const run = await runDoctor({ HISTORY_STORE: 'redis', REDIS_URL: `redis://:redis-pass-SECRET@127.0.0.1:${port}` }, { fakes });
    expectWellFormed(run, ['redis-pass-SECRET', BOT_TOKEN, API_KEY]);
    expect(run.code).toBe(1);
    expect(run.row('history store')).toMatchObject({ mark: '❌', line: expect.stringContaining(`could not reach Redis at 127.0.0.1:${port}`), fix: expect.any(String) });
  });

  test('a Redis, a Slack and an Anthropic that accept and never answer each fail with a timeout; doctor still exits', async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((socket) => sockets.push(socket));
    await new Promise<void>((done) => silent.listen(0, '127.0.0.1', done));
    const port = (silent.address() as { port: number }).port;
    fakes.slack().methodLatencyMs.set('auth.test', 60_000);
    fakes.claude().models['claude-sonnet-5-5'] = { hang: true };
    try {
      const run = await runDoctor({ HISTORY_STORE: 'redis', REDIS_URL: `redis://127.0.0.1:${port}` }, { fakes });
      expectWellFormed(run);
      expect(run.code).toBe(1);
      expect(run.row('history store')).toMatchObject({ mark: '❌', line: expect.stringContaining(`no answer from Redis at 127.0.0.1:${port}`) });
      expect(run.row('Slack bot token')).toMatchObject({ mark: '❌', fix: expect.stringContaining('check that this host reaches Slack') });
      expect(run.row('Anthropic key and model')).toMatchObject({ mark: '❌', line: expect.stringContaining('no answer from the Anthropic API') });
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });
});
