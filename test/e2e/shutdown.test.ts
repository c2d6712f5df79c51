import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deliverEvent, mentionEvent } from '../fakes/slackRequests.js';
import { firstReplyVersions, SIGNING_SECRET } from '../harness.js';
import { spawnBot, useFakeServers } from '../processBot.js';
import { openSqliteStores } from '../stores/helpers.js';

describe('graceful shutdown of the real process', () => {
  const fakes = useFakeServers();

  test('SIGTERM mid-stream: new events get 503, the answer is cut short with a note, history kept, exit 0', async () => {
    const [slack, claude] = [fakes.slack(), fakes.claude()];
    const dbPath = join(mkdtempSync(join(tmpdir(), 'shutdown-')), 'history.sqlite');
    const bot = await spawnBot(slack, claude, { HISTORY_DB_PATH: dbPath, SHUTDOWN_GRACE_MS: '1000', EDIT_INTERVAL_MS: '200' });
    claude.enqueue({ chunks: Array.from({ length: 100 }, (_, i) => `p${i} `), delayMs: 100 });
    const event = mentionEvent({ text: '<@UBOT> long question' });
    await deliverEvent(bot.url, SIGNING_SECRET, event);
    // The answer has grown twice (edits of the placeholder, or appends to the stream).
    await slack.waitFor(() => firstReplyVersions(slack).length >= 3, 10_000);

    bot.child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const late = await deliverEvent(bot.url, SIGNING_SECRET, mentionEvent({ text: '<@UBOT> too late' }));
    expect(late.status).toBe(503);

    // Exit code 0: the drain ended (the answer cut short once the 1-s grace period was over, its last edit made)
    // before the hard deadline 3 s later, which exits with 1.
    expect(await bot.exited).toBe(0);

    const final = firstReplyVersions(slack).at(-1)!;
    expect(final).toMatch(/^p0 p1 .*\n\n_\(Answer cut short by a restart of the bot\. Please ask again\.\)_$/s);
    expect(claude.requests).toHaveLength(1);

    const stores = openSqliteStores(dbPath);
    const exchanges = await stores.history.load({ teamId: 'T0001', channel: 'C123', threadTs: event.ts });
    await stores.close();
    expect(exchanges).toHaveLength(1);
    expect(exchanges[0]!.question).toBe('long question');
    expect(exchanges[0]!.answer).toMatch(/^p0 p1 /);
  }, 30_000);

  test('SIGTERM lets an answer that ends within the grace period finish normally', async () => {
    const [slack, claude] = [fakes.slack(), fakes.claude()];
    const dbPath = join(mkdtempSync(join(tmpdir(), 'shutdown-')), 'history.sqlite');
    const bot = await spawnBot(slack, claude, { HISTORY_DB_PATH: dbPath, SHUTDOWN_GRACE_MS: '5000' });
    claude.enqueue({ chunks: ['short ', 'and ', 'complete.'], delayMs: 300 });
    await deliverEvent(bot.url, SIGNING_SECRET, mentionEvent({ text: '<@UBOT> quick one' }));
    await claude.waitForRequests(1);
    bot.child.kill('SIGTERM');
    const code = await bot.exited;
    if (code !== 0) console.log(bot.output());
    expect(code).toBe(0);
    expect(firstReplyVersions(slack).at(-1)).toBe('short and complete.');
  }, 30_000);
});
