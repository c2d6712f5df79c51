import 'dotenv/config';
import { createBot } from './app.js';
import { ConfigError, loadConfig, secretsOf } from './config.js';
import { createLogger, scrubber } from './logger.js';
import { openStores } from './stores.js';

/**
 * Time past SHUTDOWN_GRACE_MS for the last edits ("cut short by a restart") before the process exits
 * anyway, so it always exits within SHUTDOWN_GRACE_MS + 5 s whatever Slack does (fails, hangs).
 */
const FINAL_EDITS_MS = 3_000;

/** Replaces configured secrets in start-up error lines; identity until the configuration is read. */
let scrub = (text: string) => text;

async function main(): Promise<void> {
  const config = loadConfig();
  const secrets = secretsOf(config);
  scrub = scrubber(secrets);
  const logger = createLogger(config.LOG_LEVEL, undefined, secrets);

  const stores = await openStores(config, logger);
  await stores.verify();
  const bot = createBot(config, { logger, stores });
  let stopping = false;
  /** The one way out once started: drain for the grace period, then exit, by a hard deadline at the latest. */
  const shutdown = (reason: string, exitCode: number) => {
    if (stopping) return;
    stopping = true;
    logger.info({ reason, graceMs: config.SHUTDOWN_GRACE_MS }, 'shutting down');
    setTimeout(() => {
      logger.error({ graceMs: config.SHUTDOWN_GRACE_MS }, 'shutdown deadline passed; exiting with answers unfinished');
      process.exit(1);
    }, config.SHUTDOWN_GRACE_MS + FINAL_EDITS_MS);
    bot.stop(config.SHUTDOWN_GRACE_MS).then(
      () => process.exit(exitCode),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  // A stray rejection is one failed operation (its answer already ended with a note): log it, keep serving.
  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled promise rejection; still serving'));
  // After an uncaught exception the process state is unknown: stop taking events and drain, exit non-zero.
  process.on('uncaughtException', (error) => {
    logger.fatal({ err: error }, 'uncaught exception; shutting down');
    shutdown('uncaughtException', 1);
  });
  process.once('SIGTERM', (signal) => shutdown(signal, 0));
  process.once('SIGINT', (signal) => shutdown(signal, 0));

  const port = await bot.start();
  logger.info({ mode: port === undefined ? 'socket' : 'http', port }, 'bot started');
}

main().catch((error: unknown) => {
  // One line, naming the variable where we know it; never a stack, never a secret.
  const line = error instanceof ConfigError ? `Configuration error: ${error.message}` : `Start-up failed: ${error instanceof Error ? error.message : String(error)}`;
  console.error(scrub(line.replace(/\s+/g, ' ')));
  process.exit(1);
});
