import { z } from 'zod';

const DEFAULT_SYSTEM_PROMPT =
  'You are Claude, answering in a Slack thread. Be concise and direct. Use Markdown sparingly: short ' +
  'paragraphs, bullet lists and fenced code blocks. Earlier messages of the thread are the conversation so far.';

/** The largest delay Node's timers take (2^31−1 ms); beyond it setTimeout fires after 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A decimal integer in [min, max]. Only digits are accepted: `1e10`, `0x10`, `1.5` and ` 5` are refused,
 * because Number() would read them as something the operator did not mean.
 */
const digits = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d{1,16}$/)
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));
const integer = (min: number, max: number, fallback: number, unit = '') =>
  digits(min, max).default(fallback).describe(`a decimal integer from ${min} to ${max}${unit}`);
/** An optional cap: unset means unlimited. */
const optionalInteger = (min: number, max: number, unit = '') =>
  digits(min, max).optional().describe(`a decimal integer from ${min} to ${max}${unit}`);
const ms = (min: number, max: number, fallback: number) => integer(min, max, fallback, ' (milliseconds)');
/** `url` parsed, or undefined where the WHATWG parser refuses it (`http://`): refinements must never throw. */
const parsed = (url: string): URL | undefined => (URL.canParse(url) ? new URL(url) : undefined);
/** True when every %-escape in the URL's user and password decodes (secretsOf and the clients decode them). */
const decodableCredentials = ({ username, password }: URL): boolean => {
  try {
    decodeURIComponent(username);
    decodeURIComponent(password);
    return true;
  } catch {
    return false;
  }
};
/**
 * An http(s) base URL: a host, and no credentials, query or fragment. Credentials (`user:password@`) are
 * refused because fetch, which both SDKs send requests with, cannot build a request from such a URL; a query
 * or fragment because the SDKs append method paths to the base, which would land inside it.
 */
const httpUrl = z
  .url({ protocol: /^https?$/ })
  .refine((url) => {
    const base = parsed(url);
    return base !== undefined && base.hostname !== '' && !base.username && !base.password && !/[?#]/.test(url);
  })
  .optional()
  .describe('an http(s) URL without user:password@, ?query or #fragment, and with a host, such as https://example.com/');
/**
 * The Messages tab's suggested prompts when SUGGESTED_PROMPTS is unset; manifest.yml's `agent_view` lists the
 * same. A click sends `message` as the user's own message, so each one is a whole question.
 */
export const DEFAULT_SUGGESTED_PROMPTS: readonly SuggestedPrompt[] = [
  { title: 'Explain a concept', message: 'Explain how public-key cryptography works, in a few short paragraphs with one example.' },
  { title: 'Draft a message', message: 'Help me write a short, friendly message telling my team that our release moves to next week.' },
  { title: 'Brainstorm ideas', message: 'Suggest five ideas for a 30-minute team activity we can do over video.' },
  { title: 'Write some code', message: 'Write a TypeScript function that tells whether a string is a palindrome, and explain it briefly.' },
];
/** A JSON value parsed in the schema, so a syntax error is reported like any other bad value. */
const json = (text: string, ctx: z.RefinementCtx): unknown => {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    ctx.addIssue({ code: 'custom', message: 'not JSON' });
    return z.NEVER;
  }
};
/**
 * Slack shows at most 4 suggested prompts (assistant.threads.setSuggestedPrompts; manifest `agent_view.suggested_prompts`
 * maxItems 4). Slack documents no length for a prompt's title or message: a title is a short label, bounded
 * like a Block Kit button's text (75); a message is sent as a Slack message, bounded by what one message holds
 * in practice (4,000, DESIGN.md §5).
 */
const suggestedPrompt = z.strictObject({ title: z.string().trim().min(1).max(75), message: z.string().trim().min(1).max(4000) });
const suggestedPrompts = z
  .string()
  .transform(json)
  .pipe(z.array(suggestedPrompt).min(1).max(4))
  .default(() => [...DEFAULT_SUGGESTED_PROMPTS])
  .describe('a JSON list of 1 to 4 {"title", "message"} objects (title up to 75 characters, message up to 4000, neither blank)');

/** `true` or `false`, nothing else: `yes`, `1` or `TRUE` are refused rather than guessed at. */
const flag = (fallback: boolean) =>
  z
    .enum(['true', 'false'])
    .transform((value) => value === 'true')
    .default(fallback)
    .describe('true or false');
/** USD per million tokens of one model (Anthropic's pricing page); the cache prices default from `input` (see prices.ts). */
const modelPrice = z.strictObject({
  input: z.number().nonnegative().finite(),
  output: z.number().nonnegative().finite(),
  cache_write: z.number().nonnegative().finite().optional(),
  cache_read: z.number().nonnegative().finite().optional(),
});
const claudePrices = z
  .string()
  .transform(json)
  .pipe(z.record(z.string().regex(/^[A-Za-z0-9][\w.:@/-]*$/), modelPrice))
  .optional()
  .describe(
    'a JSON object of model id → {"input", "output", "cache_write"?, "cache_read"?} in USD per million tokens, such as {"claude-sonnet-5-5":{"input":2,"output":10}}',
  );
/** Slack conversation ids: C… public, G… private (older), D… direct messages. */
const channelIds = z
  .string()
  .transform((text) => text.split(',').map((id) => id.trim()).filter(Boolean))
  .pipe(z.array(z.string().regex(/^[CGD][A-Z0-9]{2,}$/)).min(1))
  .optional()
  .describe('a comma-separated list of channel ids such as C0123ABCD,G0456EFGH');

/** Secrets and ids: blank or padded values are typos, never what was meant. */
const word = (description: string) => z.string().regex(/^\S+$/).describe(description);

const variables = {
  SLACK_BOT_TOKEN: z.string().regex(/^xoxb-\S+$/).describe('a bot token starting with xoxb-'),
  SLACK_APP_TOKEN: z.string().regex(/^xapp-\S+$/).optional().describe('an app-level token starting with xapp-'),
  // Slack's signing secrets are 32 hex characters; a short one is a typo, and too short to scrub from logs.
  SLACK_SIGNING_SECRET: z
    .string()
    .regex(/^\S{8,}$/)
    .optional()
    .describe('a signing secret of at least 8 characters without spaces (Basic Information → Signing Secret)'),
  PORT: integer(0, 65535, 3000, ' (a TCP port)'),
  SLACK_API_URL: httpUrl,
  ANTHROPIC_API_KEY: word('an Anthropic API key without spaces'),
  ANTHROPIC_BASE_URL: httpUrl,
  CLAUDE_MODEL: z.string().regex(/^[A-Za-z0-9][\w.:@/-]*$/).default('claude-sonnet-5-5').describe('a model id such as claude-sonnet-5-5'),
  // The largest output any current Claude model allows is 128k tokens; thinking and text share it.
  CLAUDE_MAX_TOKENS: integer(1, 128_000, 16_000),
  // Sent as output_config.effort (Messages API, `OutputConfig.effort`).
  CLAUDE_EFFORT: z.enum(['low', 'medium', 'high', 'xhigh', 'max']).default('medium').describe('one of low, medium, high, xhigh, max'),
  THINKING_DISPLAY: z.enum(['summary', 'status', 'off']).default('summary').describe('one of summary, status, off'),
  SYSTEM_PROMPT: z.string().default(DEFAULT_SYSTEM_PROMPT),
  SLASH_COMMAND: z
    .string()
    .regex(/^\/[a-z0-9_-]+$/)
    .default('/ask')
    .describe('a slash command such as /ask'),
  EDIT_INTERVAL_MS: ms(1, 60_000, 1000),
  SLACK_EDITS_PER_MINUTE: integer(1, 10_000, 50),
  // Each retry re-sends the whole thread to Claude: more than a few only multiplies cost and waiting.
  STREAM_RETRIES: integer(0, 5, 1),
  STREAM_IDLE_TIMEOUT_MS: ms(1, 3_600_000, 60_000),
  SHUTDOWN_GRACE_MS: ms(0, 3_600_000, 20_000),
  CLAUDE_FIRST_TOKEN_TIMEOUT_MS: ms(1, 3_600_000, 60_000),
  USER_MAX_CONCURRENT: integer(1, 1000, 3),
  MAX_CONCURRENT_ANSWERS: integer(1, 100_000, 100),
  HISTORY_TTL_DAYS: integer(1, 36_500, 90, ' (days)'),
  THREAD_CONTEXT: z.enum(['on', 'off']).default('on').describe('one of on, off'),
  THREAD_CONTEXT_MAX_CHARS: integer(0, 1_000_000, 40_000, ' (characters)'),
  FEEDBACK_BUTTONS: z.enum(['on', 'off']).default('on').describe('one of on, off'),
  SLACK_STREAMING: z.enum(['auto', 'native', 'edits']).default('auto').describe('one of auto, native, edits'),
  // Claude takes requests of at most 32 MB; a larger file could never be sent.
  FILE_MAX_BYTES: integer(1, 32_000_000, 20_000_000, ' (bytes)'),
  SUGGESTED_PROMPTS: suggestedPrompts,
  // Socket Mode has no HTTP server of its own: /metrics listens only when METRICS_PORT is set (HTTP mode: also on PORT).
  METRICS_PORT: optionalInteger(0, 65535, ' (a TCP port)'),
  METRICS_HOST: z.string().regex(/^\S+$/).default('127.0.0.1').describe('a host name or IP address to listen on, such as 127.0.0.1 or 0.0.0.0'),
  CLAUDE_PRICES: claudePrices,
  USER_DAILY_TOKEN_LIMIT: optionalInteger(1, 1e15, ' (tokens)'),
  WORKSPACE_DAILY_TOKEN_LIMIT: optionalInteger(1, 1e15, ' (tokens)'),
  ALLOWED_CHANNELS: channelIds,
  ALLOW_DMS: flag(true),
  ALLOW_EXTERNAL_USERS: flag(false),
  HISTORY_STORE: z.enum(['sqlite', 'redis', 'memory']).default('sqlite').describe('one of sqlite, redis, memory'),
  HISTORY_DB_PATH: z.string().regex(/\S/).default('./data/history.sqlite').describe('a file path'),
  REDIS_URL: z
    .url({ protocol: /^rediss?$/ })
    .refine((url) => {
      const redis = parsed(url);
      return redis !== undefined && redis.hostname !== '' && /^\/?\d{0,5}$/.test(redis.pathname) && decodableCredentials(redis);
    })
    .optional()
    .describe('a redis:// URL with a host, such as redis://127.0.0.1:6379/0 (the database, if any, a number; %-escapes in the password valid)'),
  HISTORY_MAX_MESSAGES: integer(2, 10_000, 40),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info')
    .describe('one of fatal, error, warn, info, debug, trace, silent'),
};

/** Every variable name the configuration reads (DESIGN.md §2), e.g. to check a deployment file's environment. */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(variables);

const schema = z
  .object(variables)
  .superRefine((env, ctx) => {
    if (!env.SLACK_APP_TOKEN && !env.SLACK_SIGNING_SECRET) {
      ctx.addIssue({
        code: 'custom',
        path: ['SLACK_SIGNING_SECRET'],
        message: 'is required in HTTP mode (set it, or set SLACK_APP_TOKEN for Socket Mode)',
        params: { sentence: true },
      });
    }
    if (env.HISTORY_STORE === 'redis' && !env.REDIS_URL) {
      ctx.addIssue({ code: 'custom', path: ['REDIS_URL'], message: 'is required when HISTORY_STORE=redis', params: { sentence: true } });
    }
  });

export type Config = z.infer<typeof schema>;

/** One suggested prompt of the Messages tab: the label Slack shows and the message a click sends. */
export interface SuggestedPrompt {
  title: string;
  message: string;
}

/** What the reply shows while Claude thinks (THINKING_DISPLAY): its latest summarised sentence, a clock, or nothing. */
export type ThinkingDisplay = Config['THINKING_DISPLAY'];

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
  // Rules across variables (superRefine) say their own sentence; a single variable's rules say what it must be.
  if (issue.code === 'custom' && issue.params?.sentence) throw new ConfigError(`${variable} ${issue.message}`);
  if (present[variable] === undefined) throw new ConfigError(`${variable} is required`);
  const field: z.ZodType | undefined = variables[variable as keyof typeof variables];
  const description = field?.description ?? (field instanceof z.ZodOptional ? (field.unwrap() as z.ZodType).description : undefined);
  throw new ConfigError(`${variable} must be ${description ?? issue.message}`);
}

/**
 * Every configured secret, for the log scrubber: tokens, keys, and the credentials inside URLs. Values
 * shorter than 4 characters are left out (scrubbing them would mangle ordinary text).
 */
export function secretsOf(config: Config): string[] {
  // Only REDIS_URL may carry credentials (the http(s) URLs refuse them).
  const redis = config.REDIS_URL ? new URL(config.REDIS_URL) : undefined;
  const urlCredentials = redis ? [redis.username, redis.password].map(decodeURIComponent) : [];
  return [config.SLACK_BOT_TOKEN, config.SLACK_APP_TOKEN, config.SLACK_SIGNING_SECRET, config.ANTHROPIC_API_KEY, ...urlCredentials].filter(
    (secret): secret is string => secret !== undefined && secret.length >= 4,
  );
}
