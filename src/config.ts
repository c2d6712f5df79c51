import { z } from 'zod';

const DEFAULT_SYSTEM_PROMPT =
  'You are Claude, answering in a Slack thread. Be concise and direct. Use Markdown sparingly: short ' +
  'paragraphs, bullet lists and fenced code blocks. Earlier messages of the thread are the conversation so far.';

const integer = (min: number, fallback: number) =>
  z.coerce.number().int().min(min).default(fallback).describe(`an integer of at least ${min}`);
const optionalUrl = z.url().optional().describe('a URL such as https://example.com/');

const variables = {
  SLACK_BOT_TOKEN: z.string().startsWith('xoxb-').describe('a bot token starting with xoxb-'),
  SLACK_APP_TOKEN: z.string().startsWith('xapp-').optional().describe('an app-level token starting with xapp-'),
  SLACK_SIGNING_SECRET: z.string().optional(),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000).describe('a TCP port number'),
  SLACK_API_URL: optionalUrl,
  ANTHROPIC_API_KEY: z.string().describe('an Anthropic API key'),
  ANTHROPIC_BASE_URL: optionalUrl,
  CLAUDE_MODEL: z.string().default('claude-sonnet-5-5'),
  CLAUDE_MAX_TOKENS: integer(1, 2048),
  SYSTEM_PROMPT: z.string().default(DEFAULT_SYSTEM_PROMPT),
  SLASH_COMMAND: z
    .string()
    .regex(/^\/[a-z0-9_-]+$/)
    .default('/ask')
    .describe('a slash command such as /ask'),
  EDIT_INTERVAL_MS: integer(1, 1000),
  SLACK_EDITS_PER_MINUTE: integer(1, 50),
  STREAM_RETRIES: integer(0, 1),
  STREAM_IDLE_TIMEOUT_MS: integer(1, 60_000),
  SHUTDOWN_GRACE_MS: integer(0, 20_000),
  HISTORY_STORE: z.enum(['sqlite', 'redis', 'memory']).default('sqlite').describe('one of sqlite, redis, memory'),
  HISTORY_DB_PATH: z.string().default('./data/history.sqlite'),
  REDIS_URL: z.string().regex(/^rediss?:\/\//).optional().describe('a redis:// URL'),
  HISTORY_MAX_MESSAGES: integer(2, 40),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info')
    .describe('one of fatal, error, warn, info, debug, trace, silent'),
};

const schema = z
  .object(variables)
  .superRefine((env, ctx) => {
    if (!env.SLACK_APP_TOKEN && !env.SLACK_SIGNING_SECRET) {
      ctx.addIssue({
        code: 'custom',
        path: ['SLACK_SIGNING_SECRET'],
        message: 'required in HTTP mode (set it, or set SLACK_APP_TOKEN for Socket Mode)',
      });
    }
    if (env.HISTORY_STORE === 'redis' && !env.REDIS_URL) {
      ctx.addIssue({ code: 'custom', path: ['REDIS_URL'], message: 'required when HISTORY_STORE=redis' });
    }
  });

export type Config = z.infer<typeof schema>;

/** A start-up configuration problem; its message is one line naming the variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Reads DESIGN.md §2's variables from `env` (empty strings count as unset); throws ConfigError naming the first bad one. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const result = schema.safeParse(present);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const variable = String(issue.path[0] ?? 'configuration');
  // Names the variable and what is expected, never the value: it may be a secret.
  if (issue.code === 'custom') throw new ConfigError(`${variable} is ${issue.message}`);
  if (present[variable] === undefined) throw new ConfigError(`${variable} is required`);
  const description = variables[variable as keyof typeof variables]?.description;
  throw new ConfigError(`${variable} must be ${description ?? issue.message}`);
}
