import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';

/** The repository root: the deployment files live there. */
export const root = resolve(import.meta.dirname, '../..');

/** One Dockerfile instruction: its keyword in upper case and its arguments, continuation lines joined. */
export interface Instruction {
  keyword: string;
  args: string;
}

/**
 * The Dockerfile's instructions, in order: comments and the parser directive dropped, `\` continuations joined
 * (the default escape character; Dockerfile reference, "Format"). Enough for checks, not a full parser (no heredocs).
 */
export function dockerfileInstructions(text = readFileSync(join(root, 'Dockerfile'), 'utf8')): Instruction[] {
  const logical = text
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  return logical.map((line) => {
    const [, keyword = '', args = ''] = /^(\S+)\s*(.*)$/.exec(line)!;
    return { keyword: keyword.toUpperCase(), args };
  });
}

/** The argv of the Dockerfile's HEALTHCHECK (exec form: `CMD ["node", "-e", …]`), exactly as Docker runs it. */
export function healthcheckArgv(instructions = dockerfileInstructions()): string[] {
  const healthchecks = instructions.filter((i) => i.keyword === 'HEALTHCHECK');
  if (healthchecks.length !== 1) throw new Error(`expected one HEALTHCHECK, found ${healthchecks.length}`);
  const exec = /\bCMD\s+(\[.*\])\s*$/.exec(healthchecks[0]!.args);
  if (!exec) throw new Error('HEALTHCHECK is not in exec form (CMD [...])');
  return JSON.parse(exec[1]!) as string[];
}

/** How a command run to its end finished. */
export interface Finished {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `argv` (its `node` replaced by this Node) with only `env` and PATH, to its exit. */
export function run(argv: string[], env: Record<string, string>, cwd = root): Promise<Finished> {
  const [command, ...args] = argv;
  const file = command === 'node' ? process.execPath : command!;
  return new Promise((done) => {
    execFile(file, args, { cwd, env: { PATH: process.env.PATH, ...env } }, (error, stdout, stderr) => {
      // A non-zero exit puts its code in error.code; a signal or a failure to start leaves no number: -1.
      done({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

/** A loopback TCP port nothing listens on (it was free a moment ago). */
export async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise((done) => server.close(done));
  return port;
}
