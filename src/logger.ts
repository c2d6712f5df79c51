import { pino, type Logger as PinoLogger, type DestinationStream } from 'pino';
import { LogLevel, type Logger as BoltLogger } from '@slack/bolt';

export type Logger = PinoLogger;

/** Paths whose values never reach a log line, whatever a caller passes in. */
const SECRET_PATHS = ['token', 'apiKey', 'headers.authorization', 'headers.Authorization', '*.token', '*.apiKey'];

const CENSOR = '[redacted]';

/**
 * A pino logger with secrets redacted; `destination` lets tests capture lines in memory. `secrets` (the
 * configured tokens and keys, see `secretsOf`) are scrubbed from every finished line, wherever they hide:
 * an upstream error message that echoes a key is a string, not a field `redact` could name.
 */
export function createLogger(level: string, destination?: DestinationStream, secrets: readonly string[] = []): Logger {
  const scrub = scrubber(secrets);
  return pino({ level, redact: { paths: SECRET_PATHS, censor: CENSOR }, hooks: { streamWrite: scrub } }, destination);
}

/** Replaces every occurrence of each secret (raw, or as escaped inside a JSON string) with the censor. */
export function scrubber(secrets: readonly string[]): (text: string) => string {
  const forms = [...new Set(secrets.flatMap((secret) => [secret, JSON.stringify(secret).slice(1, -1), encodeURIComponent(secret)]))]
    .filter((form) => form.length > 0)
    // Longest first, so a secret that contains another is replaced whole.
    .sort((a, b) => b.length - a.length);
  if (forms.length === 0) return (text) => text;
  const pattern = new RegExp(forms.map((form) => form.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');
  return (text) => text.replace(pattern, CENSOR);
}

const boltToPino: Record<LogLevel, string> = {
  [LogLevel.DEBUG]: 'debug',
  [LogLevel.INFO]: 'info',
  [LogLevel.WARN]: 'warn',
  [LogLevel.ERROR]: 'error',
};

const pinoToBolt: Record<string, LogLevel> = Object.fromEntries(
  Object.entries(boltToPino).map(([boltLevel, pinoLevel]) => [pinoLevel, boltLevel as LogLevel]),
);

/**
 * Adapts pino to Bolt's Logger interface so Bolt's and the WebClient's lines share our format. A child
 * logger, so that a `setLevel` from Bolt cannot change the level of the bot's own lines.
 */
export function toBoltLogger(parent: Logger): BoltLogger {
  const logger = parent.child({});
  let name = 'bolt';
  const line = (level: 'debug' | 'info' | 'warn' | 'error') => (...parts: unknown[]) =>
    logger[level]({ component: name }, parts.map((part) => (part instanceof Error ? part.message : String(part))).join(' '));
  return {
    debug: line('debug'),
    info: line('info'),
    warn: line('warn'),
    error: line('error'),
    setLevel: (level: LogLevel) => {
      logger.level = boltToPino[level];
    },
    getLevel: () => pinoToBolt[logger.level] ?? LogLevel.INFO,
    setName: (newName: string) => {
      name = newName;
    },
  };
}
