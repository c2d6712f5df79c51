import 'dotenv/config';
import { createBot } from './app.js';
import { ConfigError, loadConfig, secretsOf } from './config.js';
import { createLogger } from './logger.js';
import { openStores } from './stores.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.LOG_LEVEL, undefined, secretsOf(config));
  const bot = createBot(config, { logger, stores: openStores(config, logger) });
  const port = await bot.start();
  logger.info({ mode: port === undefined ? 'socket' : 'http', port }, 'bot started');

  const shutdown = async (signal: NodeJS.Signals) => {
    logger.info({ signal, graceMs: config.SHUTDOWN_GRACE_MS }, 'shutting down');
    try {
      await bot.stop(config.SHUTDOWN_GRACE_MS);
      process.exit(0);
    } catch (error) {
      logger.error({ err: error }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

main().catch((error: unknown) => {
  // One line, naming the variable for configuration errors; never a stack with secrets in it.
  console.error(error instanceof ConfigError ? `Configuration error: ${error.message}` : `Start-up failed: ${String(error)}`);
  process.exit(1);
});
