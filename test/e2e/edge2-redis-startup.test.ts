import { Redis } from 'ioredis';
import { startTestBot } from '../harness.js';
import { runBotToExit, spawnBot, useFakeServers } from '../processBot.js';
import { describeRedis, freePort, RedisServer, SHARED_REDIS_URL, testPrefix, waitFor } from '../redis/helpers.js';

describeRedis('bad Redis settings stop start-up (through the real process)', () => {
  const fakes = useFakeServers();
  let server: RedisServer | undefined;
  afterEach(async () => {
    await server?.kill();
    server = undefined;
  });

  /** A private redis-server that asks for `password` (the shared one is never changed). */
  async function passwordServer(password: string): Promise<RedisServer> {
    server = await RedisServer.start();
    const admin = new Redis(server.url, { maxRetriesPerRequest: 1 });
    await admin.config('SET', 'requirepass', password);
    admin.disconnect();
    return server;
  }

  const expectRefusal = (result: { code: number | null; stdout: string; stderr: string }, reason: RegExp) => {
    expect(result.code).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^Configuration error: REDIS_URL was refused by Redis: /);
    expect(lines[0]).toMatch(reason);
    expect(result.stdout).not.toContain('"bot started"');
  };

  test('a wrong password: one line naming REDIS_URL, exit 1 (it used to start and answer "temporarily unavailable")', async () => {
    const redis = await passwordServer('the-right-password');
    const result = await runBotToExit(
      { HISTORY_STORE: 'redis', REDIS_URL: `redis://:Hunter2WrongPass@127.0.0.1:${redis.port}` },
      { fakes: fakes.servers() },
    );
    expectRefusal(result, /WRONGPASS/);
    expect(result.stdout + result.stderr).not.toContain('Hunter2WrongPass');
  });

  test('no password where Redis wants one: one line naming REDIS_URL, exit 1', async () => {
    const redis = await passwordServer('the-right-password');
    expectRefusal(await runBotToExit({ HISTORY_STORE: 'redis', REDIS_URL: redis.url }, { fakes: fakes.servers() }), /NOAUTH/);
  });

  test('a database Redis does not have (/99 of 16): one line naming REDIS_URL, exit 1, never writing to database 0', async () => {
    const result = await runBotToExit({ HISTORY_STORE: 'redis', REDIS_URL: `${SHARED_REDIS_URL}/99` }, { fakes: fakes.servers() });
    expectRefusal(result, /DB index is out of range/);
  });

  test('an unreachable Redis still starts, with one warning: the connection recovers by itself when Redis is back', async () => {
    const bot = await spawnBot(fakes.slack(), fakes.claude(), { HISTORY_STORE: 'redis', REDIS_URL: `redis://127.0.0.1:${await freePort()}` });
    try {
      const warnings = bot.output().split('\n').filter((line) => line.includes('unreachable at start-up'));
      expect(warnings).toHaveLength(1);
      expect(JSON.parse(warnings[0]!)).toMatchObject({ level: 40 });
      expect((await fetch(`${bot.url}/readyz`)).status).toBe(503);
    } finally {
      bot.child.kill('SIGTERM');
      await bot.exited;
    }
  });
});

describeRedis('a Redis outage while idle', () => {
  test('"could not check for unfinished answers" is logged once per outage, and its end once', async () => {
    const redis = await RedisServer.start();
    const t = await startTestBot({ HISTORY_STORE: 'redis', REDIS_URL: redis.url }, { keyPrefix: testPrefix() });
    const count = (text: string) => t.logs.filter((line) => line.includes(text)).length;
    try {
      await redis.kill();
      // Recovery checks every 5 s: three rounds of the outage used to log three lines, each with a stack.
      await new Promise((resolve) => setTimeout(resolve, 13_000));
      expect(count('could not check for unfinished answers')).toBe(1);
      const line = JSON.parse(t.logs.find((text) => text.includes('could not check for unfinished answers'))!) as Record<string, unknown>;
      expect(line.err).toBeUndefined();
      await redis.restart();
      await waitFor(() => count('checking for unfinished answers again') === 1, 15_000);
    } finally {
      await t.stop();
      await redis.kill();
    }
  }, 40_000);
});
