import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { CONFIG_VARIABLES, loadConfig } from '../../src/config.js';
import { dockerfileInstructions, root } from './deployFiles.js';

/** The part of a compose service these checks read (Compose Specification, "services"). */
interface Service {
  build?: string | { context: string };
  image?: string;
  container_name?: string;
  environment?: Record<string, string | number | boolean | null> | string[];
  env_file?: string | (string | { path: string })[];
  ports?: (string | number | { target: number; published?: string | number })[];
  expose?: (string | number)[];
  deploy?: { replicas?: number };
  restart?: string;
  healthcheck?: { test?: string | string[]; disable?: boolean };
  stop_grace_period?: string;
  depends_on?: string[] | Record<string, { condition?: string }>;
}

/** A compose duration (`1m30s`, `500ms`; Compose Specification, "Specifying durations") in milliseconds. */
function durationMs(text: string): number {
  const units: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(us|ms|s|m|h)/g)];
  if (parts.map((part) => part[0]).join('') !== text) throw new Error(`not a compose duration: ${text}`);
  return parts.reduce((total, [, value, unit]) => total + Number(value) * units[unit!]!, 0);
}

/** A service's environment as name → value (the list form `NAME=value` too). */
function environmentOf(service: Service): Record<string, string> {
  const env = service.environment ?? {};
  const entries = Array.isArray(env) ? env.map((line) => line.split(/=(.*)/s, 2) as [string, string]) : Object.entries(env);
  return Object.fromEntries(entries.map(([name, value]) => [name, value === null || value === undefined ? '' : String(value)]));
}

/** The container port of a `ports` entry (`"127.0.0.1:3000:3000"`, `"3000"`, `{ target: 3000 }`) and whether a host port is fixed. */
function portEntry(entry: string | number | { target: number; published?: string | number }): { target: number; fixedHostPort: boolean } {
  if (typeof entry === 'object') return { target: entry.target, fixedHostPort: entry.published !== undefined };
  const parts = String(entry).split('/')[0]!.split(':');
  return { target: Number(parts.at(-1)), fixedHostPort: parts.length > 1 };
}

describe('compose.yaml', () => {
  const compose = parse(readFileSync(join(root, 'compose.yaml'), 'utf8')) as { services: Record<string, Service> };
  const { bot, redis } = compose.services;
  const env = environmentOf(bot!);
  /** The configuration the bot would run with: .env's secrets (placeholders here, HTTP mode) under compose's values. */
  const config = loadConfig({
    SLACK_BOT_TOKEN: 'xoxb-placeholder',
    SLACK_SIGNING_SECRET: 'placeholder-secret',
    ANTHROPIC_API_KEY: 'sk-ant-placeholder',
    ...env,
  });

  test('has the services bot, built from the Dockerfile, and redis', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['bot', 'redis']);
    const context = typeof bot!.build === 'string' ? bot!.build : bot!.build?.context;
    expect(context).toBe('.');
    expect(redis!.image).toMatch(/^redis:/);
    expect(bot!.env_file).toBeDefined();
  });

  test("the bot's environment names only configuration variables, with valid values", () => {
    expect(Object.keys(env).length).toBeGreaterThan(0);
    expect(Object.keys(env).filter((name) => !CONFIG_VARIABLES.includes(name))).toEqual([]);
    expect(config).toBeDefined();
  });

  test('the store is the redis service, which publishes no port', () => {
    expect(config.HISTORY_STORE).toBe('redis');
    expect(new URL(config.REDIS_URL!).hostname).toBe('redis');
    expect(redis!.ports ?? []).toEqual([]);
    expect(bot!.depends_on).toHaveProperty('redis');
  });

  test('ports agree with PORT and METRICS_PORT, and metrics listen beyond loopback', () => {
    const containerPorts = [...(bot!.expose ?? []).map(Number), ...(bot!.ports ?? []).map((entry) => portEntry(entry).target)];
    expect(containerPorts).toContain(config.PORT);
    expect(config.METRICS_PORT).toBeDefined();
    expect(containerPorts).toContain(config.METRICS_PORT);
    expect(containerPorts.every((port) => port === config.PORT || port === config.METRICS_PORT)).toBe(true);
    // A scraper in another container reaches the metrics port only if the bot listens on the container's network.
    expect(config.METRICS_HOST).not.toMatch(/^(127\.|localhost$|::1$)/);
  });

  test('two replicas can run: shared store, no container name, no fixed host port', () => {
    expect(bot!.deploy?.replicas).toBeGreaterThanOrEqual(2);
    expect(bot!.container_name).toBeUndefined();
    expect((bot!.ports ?? []).filter((entry) => portEntry(entry).fixedHostPort)).toEqual([]);
  });

  test('the bot has a health check, a restart policy and more stop time than the drain takes', () => {
    expect(bot!.healthcheck?.disable).not.toBe(true);
    // Without its own test the service uses the image's HEALTHCHECK.
    if (bot!.healthcheck?.test === undefined) {
      expect(dockerfileInstructions().some((i) => i.keyword === 'HEALTHCHECK' && !/^NONE$/i.test(i.args))).toBe(true);
    }
    expect(bot!.restart).toMatch(/^(always|unless-stopped|on-failure)/);
    // The process exits at most 3 s after SHUTDOWN_GRACE_MS (src/index.ts); Docker kills at stop_grace_period.
    expect(durationMs(bot!.stop_grace_period ?? '10s')).toBeGreaterThan(config.SHUTDOWN_GRACE_MS + 3_000);
  });
});
