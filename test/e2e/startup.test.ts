import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = resolve(import.meta.dirname, '../..');
/** tsx's loader by path: the child runs in a temporary directory (so no stray .env is read). */
const tsxLoader = pathToFileURL(join(root, 'node_modules/tsx/dist/loader.mjs')).href;

/** Runs the real entry point in an empty directory (so no .env is read) with only `env`. */
function start(env: Record<string, string>) {
  return spawnSync(process.execPath, ['--import', tsxLoader, join(root, 'src/index.ts')], {
    cwd: mkdtempSync(join(tmpdir(), 'bot-start-')),
    env: { PATH: process.env.PATH, ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });
}

describe('start-up configuration errors', () => {
  test.each([
    ['SLACK_BOT_TOKEN', { ANTHROPIC_API_KEY: 'sk-ant-x', SLACK_SIGNING_SECRET: 's' }],
    ['ANTHROPIC_API_KEY', { SLACK_BOT_TOKEN: 'xoxb-secret-token', SLACK_SIGNING_SECRET: 's' }],
  ])('a missing %s exits non-zero with one line naming it', (variable, env) => {
    const result = start(env);
    expect(result.status).not.toBe(0);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(variable);
    expect(result.stderr).not.toContain('xoxb-secret-token');
  });

  test('a malformed value names the variable and what is expected, not the value', () => {
    const result = start({ SLACK_BOT_TOKEN: 'xoxp-user-token-secret', ANTHROPIC_API_KEY: 'k', SLACK_SIGNING_SECRET: 's' });
    expect(result.status).not.toBe(0);
    expect(result.stderr.trim()).toBe('Configuration error: SLACK_BOT_TOKEN must be a bot token starting with xoxb-');
  });
});
