import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chownSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadConfig } from '../../src/config.js';
import type { Logger } from '../../src/logger.js';
import { openStores, type Stores } from '../../src/stores.js';
import { memoryLogger } from '../redis/helpers.js';

/** A path for a history file in a fresh temporary directory (`nested` adds directories the bot must create). */
export function tempDbPath(...nested: string[]): string {
  return join(mkdtempSync(join(tmpdir(), 'stores-')), ...nested, 'history.sqlite');
}

/** Opens the stores on the sqlite file at `path` exactly as the bot does, in this process. */
export function openSqliteStores(path: string, env: Record<string, string> = {}, logger: Logger = memoryLogger().logger): Stores {
  const config = loadConfig({
    SLACK_BOT_TOKEN: 'xoxb-test',
    SLACK_SIGNING_SECRET: 'secret',
    ANTHROPIC_API_KEY: 'sk-ant-test',
    HISTORY_STORE: 'sqlite',
    HISTORY_DB_PATH: path,
    ...env,
  });
  return openStores(config, logger);
}

const root = resolve(import.meta.dirname, '../..');
/** tsx's loader by path: the child runs in a temporary directory (so no stray .env is read). */
const tsxLoader = pathToFileURL(join(root, 'node_modules/tsx/dist/loader.mjs')).href;

/**
 * Runs the real entry point (as user `uid` if given) with only `env`, for a start-up expected to fail:
 * resolves with its exit code and output once it exits (killed after 20 s if it does not).
 */
export async function runBotToExit(env: Record<string, string>, uid?: number): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const cwd = mkdtempSync(join(tmpdir(), 'bot-start-'));
  if (uid !== undefined) chownSync(cwd, uid, uid);
  const child = spawn(process.execPath, ['--import', tsxLoader, join(root, 'src/index.ts')], {
    cwd,
    uid,
    gid: uid,
    // tsx keeps its cache in the temporary directory: one the user may write.
    env: { PATH: process.env.PATH, ...(uid === undefined ? {} : { TMPDIR: cwd }), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const [status] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { status, stdout, stderr };
}
