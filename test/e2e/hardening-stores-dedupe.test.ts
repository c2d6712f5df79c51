import { FakeAnthropic } from '../fakes/fakeAnthropic.js';
import { FakeSlack } from '../fakes/fakeSlack.js';
import { deliverEvent, mentionEvent } from '../fakes/slackRequests.js';
import { SIGNING_SECRET, startTestBot, type TestBot } from '../harness.js';
import { tempDbPath } from '../stores/helpers.js';

describe('event de-duplication kept in the sqlite history file', () => {
  let slack: FakeSlack;
  let claude: FakeAnthropic;
  let bot: TestBot | undefined;
  beforeEach(async () => {
    [slack, claude] = await Promise.all([FakeSlack.start(), FakeAnthropic.start()]);
  });
  afterEach(async () => {
    await bot?.stop();
    bot = undefined;
    await Promise.all([slack.close(), claude.close()]);
  });

  test('a redelivery after a restart of the bot is not answered again', async () => {
    const env = { HISTORY_STORE: 'sqlite', HISTORY_DB_PATH: tempDbPath() };
    claude.defaultScript = { chunks: ['answered ', 'once'] };
    const event = mentionEvent({ text: '<@UBOT> are you there?' });

    bot = await startTestBot(env, { slack, claude });
    await deliverEvent(bot.url, SIGNING_SECRET, event, { eventId: 'EvRESTART' });
    await bot.idle();
    await bot.stop();

    bot = await startTestBot(env, { slack, claude });
    const redelivery = await deliverEvent(bot.url, SIGNING_SECRET, event, { eventId: 'EvRESTART', retryNum: 1 });
    expect(redelivery.status).toBe(200);
    await bot.idle();
    // A different event after the restart is still answered: the bot is not simply deaf.
    await bot.mention({ text: '<@UBOT> a new question' });
    await bot.idle();

    expect(claude.requests.map((request) => request.body.messages.at(-1))).toEqual([
      { role: 'user', content: 'are you there?' },
      { role: 'user', content: 'a new question' },
    ]);
    expect(slack.callsOf('chat.postMessage')).toHaveLength(2);
  });
});
