import { existsSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadConfig } from '../../src/config.js';
import { openStores } from '../../src/stores.js';
import { describeRedis, memoryLogger, RedisServer, testPrefix } from '../redis/helpers.js';
import { openSqliteStores, tempDbPath } from './helpers.js';

const thread = { teamId: 'T1', channel: 'C1', threadTs: '1.1' };
const baseEnv = { SLACK_BOT_TOKEN: 'xoxb-t', SLACK_SIGNING_SECRET: 'signing-secret', ANTHROPIC_API_KEY: 'k' };

/** Polls `check` every 100 ms until it resolves true; rejects after `timeoutMs`. */
async function eventually(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('still false');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('Stores.ready()', () => {
  test('memory: always ready', async () => {
    const stores = await openStores(loadConfig({ ...baseEnv, HISTORY_STORE: 'memory' }), memoryLogger().logger);
    expect(await stores.ready()).toBe(true);
    await stores.close();
  });

  test('sqlite: ready while the file can be written; not ready once its bytes are overwritten while the bot runs', async () => {
    const path = tempDbPath();
    const stores = openSqliteStores(path);
    try {
      await stores.history.appendExchange(thread, { question: 'q', answer: 'a' });
      expect(await stores.ready()).toBe(true);

      for (const file of [path, `${path}-wal`]) {
        if (existsSync(file)) writeFileSync(file, Buffer.alloc(statSync(file).size, 'garbage '));
      }
      // A readiness answer is reused for a second (a flood of probes costs one check): the change shows within it.
      await eventually(async () => !(await stores.ready()));
      expect(await stores.ready()).toBe(false);
    } finally {
      await stores.close();
    }
  });

  test('sqlite: not ready once the file is deleted under the bot', async () => {
    const path = tempDbPath();
    const stores = openSqliteStores(path);
    try {
      expect(await stores.ready()).toBe(true);
      rmSync(path);
      await eventually(async () => !(await stores.ready()));
    } finally {
      await stores.close();
    }
  });
});

describeRedis('Stores.ready() on Redis', () => {
  test('ready while Redis answers, not while it is stopped, ready again once it is back', async () => {
    const redis = await RedisServer.start();
    const stores = await openStores(loadConfig({ ...baseEnv, HISTORY_STORE: 'redis', REDIS_URL: redis.url }), memoryLogger().logger, testPrefix());
    try {
      expect(await stores.ready()).toBe(true);
      await redis.kill();
      await eventually(async () => !(await stores.ready()));
      await redis.restart();
      await eventually(() => stores.ready());
    } finally {
      await stores.close();
      await redis.kill();
    }
  }, 30_000);
});
