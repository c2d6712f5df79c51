import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeAnthropic } from '../fakes/fakeAnthropic.js';
import { FakeSlack } from '../fakes/fakeSlack.js';
import { startTestBot, type TestBot } from '../harness.js';
import { openSqliteStores } from '../stores/helpers.js';

describe('thread history', () => {
  let t: TestBot;
  afterEach(() => t.stop());

  test('a follow-up in the same thread sends the earlier pair; another thread sends none', async () => {
    t = await startTestBot();
    t.claude.enqueue({ chunks: ['Caching ', 'stores responses.'] }, { chunks: ['ETags validate.'] }, { chunks: ['Hi.'] });
    const first = await t.mention({ text: '<@UBOT> explain HTTP caching' });
    await t.idle();
    await t.mention({ text: '<@UBOT> what about ETags?', thread_ts: first.ts });
    await t.idle();
    await t.mention({ text: '<@UBOT> unrelated' });
    await t.idle();

    expect(t.claude.requests[1]!.body.messages).toEqual([
      { role: 'user', content: 'explain HTTP caching' },
      { role: 'assistant', content: 'Caching stores responses.' },
      { role: 'user', content: 'what about ETags?' },
    ]);
    expect(t.claude.requests[2]!.body.messages).toEqual([{ role: 'user', content: 'unrelated' }]);
  });

  test('a failed answer stores nothing and the next request still alternates', async () => {
    t = await startTestBot();
    t.claude.enqueue(
      { httpError: { status: 401, type: 'authentication_error', message: 'invalid x-api-key' } },
      { chunks: ['Now it works.'] },
    );
    const first = await t.dm({ text: 'first try' });
    await t.idle();
    await t.dm({ text: 'second try', thread_ts: first.ts });
    await t.idle();
    expect(t.claude.requests[1]!.body.messages).toEqual([{ role: 'user', content: 'second try' }]);
  });

  test('history survives restarting the bot on the same sqlite file', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'history-')), 'nested', 'history.sqlite');
    const slack = await FakeSlack.start();
    const claude = await FakeAnthropic.start();
    try {
      const env = { HISTORY_STORE: 'sqlite', HISTORY_DB_PATH: path };
      t = await startTestBot(env, { slack, claude });
      claude.enqueue({ chunks: ['Answer one.'] }, { chunks: ['Answer two.'] });
      const first = await t.mention({ text: '<@UBOT> question one' });
      await t.idle();
      await t.stop();

      t = await startTestBot(env, { slack, claude });
      await t.mention({ text: '<@UBOT> question two', thread_ts: first.ts });
      await t.idle();
      expect(claude.requests[1]!.body.messages).toEqual([
        { role: 'user', content: 'question one' },
        { role: 'assistant', content: 'Answer one.' },
        { role: 'user', content: 'question two' },
      ]);
    } finally {
      await Promise.all([slack.close(), claude.close()]);
    }
  });
});

describe('SqliteHistoryStore', () => {
  const thread = { teamId: 'T1', channel: 'C1', threadTs: '1.1' };

  test('keeps whole pairs within HISTORY_MAX_MESSAGES, oldest dropped, across reopen', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'history-')), 'h.sqlite');
    const store = openSqliteStores(path, { HISTORY_MAX_MESSAGES: '5' });
    for (let i = 1; i <= 4; i++) await store.history.appendExchange(thread, { question: `q${i}`, answer: `a${i}` });
    await store.close();
    const reopened = openSqliteStores(path, { HISTORY_MAX_MESSAGES: '5' });
    expect(await reopened.history.load(thread)).toEqual([
      { question: 'q3', answer: 'a3' },
      { question: 'q4', answer: 'a4' },
    ]);
    expect(await reopened.history.load({ ...thread, threadTs: '2.2' })).toEqual([]);
    await reopened.close();
  });
});
