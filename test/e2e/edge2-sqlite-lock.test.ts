import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { deliverEvent, mentionEvent } from '../fakes/slackRequests.js';
import { SIGNING_SECRET } from '../harness.js';
import { spawnBot, useFakeServers } from '../processBot.js';
import { waitFor } from '../redis/helpers.js';
import { tempDbPath } from '../stores/helpers.js';

const root = resolve(import.meta.dirname, '../..');

/** Another process (a sqlite3 shell, a backup tool) holding the file's write lock until it is killed. */
async function lockFile(path: string): Promise<ChildProcess> {
  const script = `
    const Database = require('better-sqlite3');
    const db = new Database(${JSON.stringify(path)});
    db.exec('BEGIN IMMEDIATE');
    db.prepare('INSERT INTO file_owner SELECT * FROM file_owner WHERE 0').run();
    console.log('locked');
    setInterval(() => {}, 1000);
  `;
  const child = spawn(process.execPath, ['-e', script], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  await once(child.stdout!, 'data');
  return child;
}

/** Milliseconds until `url` answers, whatever the status. */
async function timeToAnswer(url: string): Promise<number> {
  const started = Date.now();
  await fetch(url);
  return Date.now() - started;
}

describe('an outside write lock on the sqlite file (through the real process)', () => {
  const fakes = useFakeServers();

  test('readiness probes never freeze the process: /healthz answers at once, /readyz says 503, then 200 once the lock goes', async () => {
    const path = tempDbPath();
    const bot = await spawnBot(fakes.slack(), fakes.claude(), { HISTORY_DB_PATH: path });
    let locker: ChildProcess | undefined;
    try {
      locker = await lockFile(path);
      // Each probe used to open a connection that waited 2 s for the lock, synchronously, one after another.
      const probes = Promise.all(Array.from({ length: 10 }, () => fetch(`${bot.url}/readyz`).then((response) => response.status)));
      await new Promise((done) => setTimeout(done, 50));
      const healthz = await timeToAnswer(`${bot.url}/healthz`);
      expect(await probes).toEqual(Array(10).fill(503));
      // Generous: the old code took about 20 s here.
      expect(healthz).toBeLessThan(3_000);
      // An event during the lock is still acknowledged promptly (Slack waits 3 s).
      const started = Date.now();
      expect((await deliverEvent(bot.url, SIGNING_SECRET, mentionEvent())).status).toBe(200);
      expect(Date.now() - started).toBeLessThan(3_000);

      locker.kill('SIGKILL');
      await once(locker, 'exit');
      locker = undefined;
      await waitFor(async () => (await fetch(`${bot.url}/readyz`)).status === 200, 10_000);
    } finally {
      locker?.kill('SIGKILL');
      bot.child.kill('SIGTERM');
      await bot.exited;
    }
  }, 40_000);
});
