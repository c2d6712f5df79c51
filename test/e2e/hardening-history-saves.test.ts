import type { Exchange, HistoryStore, ThreadKey } from '../../src/history/historyStore.js';
import { MemoryHistoryStore } from '../../src/history/memoryHistoryStore.js';
import { replyCalls, startTestBot, versionsOf, type TestBot } from '../harness.js';

/** A working store whose saves fail, while `failure` is set, the way a full disk makes sqlite fail. */
class FlakyHistoryStore implements HistoryStore {
  failure: Error | undefined;
  private readonly inner = new MemoryHistoryStore(40, 90 * 24 * 60 * 60 * 1000);

  load(thread: ThreadKey) {
    return this.inner.load(thread);
  }

  async appendExchange(thread: ThreadKey, exchange: Exchange) {
    if (this.failure) throw this.failure;
    await this.inner.appendExchange(thread, exchange);
  }

  close() {
    return this.inner.close();
  }
}

function diskFull(): Error {
  return Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
}

describe('history that cannot be saved', () => {
  let t: TestBot;
  let store: FlakyHistoryStore;
  beforeEach(async () => {
    store = new FlakyHistoryStore();
    t = await startTestBot({}, { history: store });
    t.claude.defaultScript = { chunks: ['An ', 'answer.'] };
  });
  afterEach(() => t.stop());

  /** Asks in the thread of `threadTs` (a new thread when omitted); returns the thread's ts and the final text shown. */
  async function ask(threadTs?: string): Promise<{ threadTs: string; final: string }> {
    const event = await t.mention({ text: '<@UBOT> question', ...(threadTs ? { thread_ts: threadTs } : {}) });
    await t.idle();
    const thread = event.thread_ts ?? event.ts;
    const reply = replyCalls(t.slack, thread).at(-1)!;
    return { threadTs: thread, final: versionsOf(t.slack, reply.response.ts as string).at(-1)! };
  }

  const saveErrors = () =>
    t.logs
      .flatMap((chunk) => chunk.split('\n').filter(Boolean))
      .map((line) => JSON.parse(line) as { level: number; msg: string })
      .filter((line) => line.level >= 50 && /save history/.test(line.msg));

  test('answers still show, one error line per failure kind, and the next answer in the thread says the exchange was lost', async () => {
    store.failure = diskFull();
    const a = await ask();
    const b = await ask();
    expect(a.final).toBe('An answer.');
    expect(b.final).toBe('An answer.');
    expect(saveErrors()).toHaveLength(1);

    const followUp = await ask(a.threadTs);
    expect(followUp.final).toMatch(/^An answer\.\n\n_\(I couldn't save our previous exchange in this thread/);
    expect(saveErrors()).toHaveLength(1);

    // Saves work again: the thread's next answer still says its previous exchange was lost, then no more.
    store.failure = undefined;
    expect((await ask(a.threadTs)).final).toMatch(/couldn't save our previous exchange/);
    expect(t.logs.join('')).toMatch(/history saves work again/);
    expect((await ask(a.threadTs)).final).toBe('An answer.');

    // A new failure after the recovery is reported again.
    store.failure = diskFull();
    await ask();
    expect(saveErrors()).toHaveLength(2);
  });
});
