import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';

const MANIFEST = 'manifest.yml';

/** The part of a Slack app manifest the doctor reads (https://docs.slack.dev/reference/app-manifest: `oauth_config.scopes.bot`). */
const manifestSchema = z.object({ oauth_config: z.object({ scopes: z.object({ bot: z.array(z.string()).default([]) }) }) });

/**
 * Where manifest.yml is: in `cwd`, else next to the package.json above `moduleDir` (the project root, whether
 * the doctor runs from src/ through tsx or compiled from dist/); undefined when neither has one.
 */
export function findManifest(cwd: string, moduleDir: string): string | undefined {
  const candidates = [join(cwd, MANIFEST)];
  for (let dir = resolve(moduleDir); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) {
      candidates.push(join(dir, MANIFEST));
      break;
    }
    if (dirname(dir) === dir) break;
  }
  return candidates.find((path) => existsSync(path));
}

/** The bot scopes the manifest at `path` asks for. Throws an Error naming the file when it is not YAML or has no `oauth_config.scopes`. */
export function manifestBotScopes(path: string): string[] {
  let manifest: unknown;
  try {
    manifest = parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`${path} cannot be read as YAML: ${(error as Error).message.split('\n')[0]}`, { cause: error });
  }
  const result = manifestSchema.safeParse(manifest);
  if (!result.success) throw new Error(`${path} has no oauth_config.scopes.bot list of scope names`);
  return result.data.oauth_config.scopes.bot;
}
