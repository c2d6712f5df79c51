import { pino, type Logger as PinoLogger, type DestinationStream } from 'pino';
import { LogLevel, type Logger as BoltLogger } from '@slack/bolt';

export type Logger = PinoLogger;

/** Paths whose values never reach a log line, whatever a caller passes in. */
const SECRET_PATHS = ['token', 'apiKey', 'headers.authorization', 'headers.Authorization', '*.token', '*.apiKey'];

/** A pino logger with secrets redacted; `destination` lets tests capture lines in memory. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino({ level, redact: { paths: SECRET_PATHS, censor: '[redacted]' } }, destination);
}

const boltToPino: Record<LogLevel, string> = {
  [LogLevel.DEBUG]: 'debug',
  [LogLevel.INFO]: 'info',
  [LogLevel.WARN]: 'warn',
  [LogLevel.ERROR]: 'error',
};

/** Adapts pino to Bolt's Logger interface so Bolt's and the WebClient's lines share our format. */
export function toBoltLogger(logger: Logger): BoltLogger {
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
    getLevel: () => (Object.entries(boltToPino).find(([, pinoLevel]) => pinoLevel === logger.level)?.[0] ?? LogLevel.INFO) as LogLevel,
    setName: (newName: string) => {
      name = newName;
    },
  };
}
