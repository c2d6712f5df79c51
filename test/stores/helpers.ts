import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import type { Logger } from '../../src/logger.js';
import { openLocalStores, type Stores } from '../../src/stores.js';
import { memoryLogger } from '../redis/helpers.js';

/** A path for a history file in a fresh temporary directory (`nested` adds directories the bot must create). */
export function tempDbPath(...nested: string[]): string {
  return join(mkdtempSync(join(tmpdir(), 'stores-')), ...nested, 'history.sqlite');
}

/** Opens the stores on the sqlite file at `path` exactly as the bot does, in this process. */
export function openSqliteStores(path: string, env: Record<string, string> = {}, logger: Logger = memoryLogger().logger): Stores {
  const config = loadConfig({
    SLACK_BOT_TOKEN: 'xoxb-test',
    SLACK_SIGNING_SECRET: 'signing-secret',
    ANTHROPIC_API_KEY: 'sk-ant-test',
    HISTORY_STORE: 'sqlite',
    HISTORY_DB_PATH: path,
    ...env,
  });
  return openLocalStores(config, logger);
}

/**
 * Opens sqlite stores for the tests of the enclosing describe and closes every one after each test
 * (closing stores a test already closed is harmless). `open(path)` is openSqliteStores with the defaults.
 */
export function useSqliteStores(): { open: (path: string) => Stores } {
  let opened: Stores[] = [];
  afterEach(async () => {
    await Promise.all(opened.map((stores) => stores.close()));
    opened = [];
  });
  return {
    open: (path) => {
      const stores = openSqliteStores(path);
      opened.push(stores);
      return stores;
    },
  };
}
