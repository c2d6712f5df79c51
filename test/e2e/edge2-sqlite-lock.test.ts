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

/** Milliseconds until `answer` settles, and what it gave. */
async function timed<T>(answer: Promise<T>): Promise<{ ms: number; value: T }> {
  const started = Date.now();
  const value = await answer;
  return { ms: Date.now() - started, value };
}

/** Readiness probes the test sends at once while the file is locked. */
const PROBES = 10;
/**
 * How long the old code froze the process with them: each probe opened a connection that waited 2 s for the
 * lock, synchronously, one after another. The bound below is half of that, not a stopwatch on a fast answer.
 */
const OLD_FREEZE_MS = PROBES * 2_000;

describe('an outside write lock on the sqlite file (through the real process)', () => {
  const fakes = useFakeServers();

  test('readiness probes never freeze the process: /healthz and an event answer meanwhile, /readyz says 503, then 200 once the lock goes', async () => {
    const path = tempDbPath();
    const slack = fakes.slack();
    const bot = await spawnBot(slack, fakes.claude(), { HISTORY_DB_PATH: path });
    let locker: ChildProcess | undefined;
    try {
      locker = await lockFile(path);
      const probes = Promise.all(Array.from({ length: PROBES }, () => fetch(`${bot.url}/readyz`).then((response) => response.status)));
      await new Promise((done) => setTimeout(done, 50));
      // Behind the probes: /healthz, and an event (Slack waits 3 s for its acknowledgement).
      const event = mentionEvent();
      const [healthz, ack] = await Promise.all([
        timed(fetch(`${bot.url}/healthz`)),
        timed(deliverEvent(bot.url, SIGNING_SECRET, event).then((response) => response.status)),
      ]);
      expect(await probes).toEqual(Array(PROBES).fill(503));
      expect(ack.value).toBe(200);
      expect(healthz.ms).toBeLessThan(OLD_FREEZE_MS / 2);
      expect(ack.ms).toBeLessThan(OLD_FREEZE_MS / 2);
      // The question is answered while the file is still locked: nothing waits for the lock.
      await slack.waitFor(() => slack.callsOf('chat.postMessage').some((call) => call.params.thread_ts === event.ts));

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
