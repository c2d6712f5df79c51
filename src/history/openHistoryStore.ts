import type { Config } from '../config.js';
import type { HistoryStore } from './historyStore.js';
import { MemoryHistoryStore } from './memoryHistoryStore.js';
import { SqliteHistoryStore } from './sqliteHistoryStore.js';

/** Opens the history store HISTORY_STORE names. */
export async function openHistoryStore(config: Config): Promise<HistoryStore> {
  switch (config.HISTORY_STORE) {
    case 'memory':
      return new MemoryHistoryStore(config.HISTORY_MAX_MESSAGES);
    case 'sqlite':
      return new SqliteHistoryStore(config.HISTORY_DB_PATH, config.HISTORY_MAX_MESSAGES);
    case 'redis':
      throw new Error('HISTORY_STORE=redis is not available yet');
  }
}
