// One way for the benchmark and the soak to start a silent bot in HTTP mode against the fakes.
import { pino } from 'pino';
import { createBot, type Bot } from '../src/app.js';
import { loadConfig, type Config } from '../src/config.js';
import { openStores } from '../src/stores.js';

export const SIGNING_SECRET = 'bench-signing-secret';

/** The configuration a bench bot runs with: `env` over the fakes' URLs, a free port and silent logs. */
export function benchConfig(urls: { slackApiUrl: string; claudeBaseUrl: string }, env: Record<string, string>): Config {
  return loadConfig({
    SLACK_BOT_TOKEN: 'xoxb-bench',
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    ANTHROPIC_API_KEY: 'sk-ant-bench',
    SLACK_API_URL: urls.slackApiUrl,
    ANTHROPIC_BASE_URL: urls.claudeBaseUrl,
    PORT: '0',
    LOG_LEVEL: 'silent',
    ...env,
  });
}

/** Starts the real bot on a free port with `env` on top of the fakes' URLs; `keyPrefix` namespaces Redis keys. */
export async function startBenchBot(
  urls: { slackApiUrl: string; claudeBaseUrl: string },
  env: Record<string, string>,
  keyPrefix?: string,
): Promise<{ bot: Bot; url: string }> {
  const config = benchConfig(urls, env);
  const logger = pino({ level: 'silent' });
  const bot = createBot(config, { logger, stores: await openStores(config, logger, keyPrefix) });
  const port = await bot.start();
  return { bot, url: `http://127.0.0.1:${port}` };
}
