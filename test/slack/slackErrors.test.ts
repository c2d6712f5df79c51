import { classifySlackError } from '../../src/slack/slackErrors.js';
import { FakeSlack, slackClient } from '../fakes/fakeSlack.js';

describe('classifySlackError', () => {
  let slack: FakeSlack;
  beforeEach(async () => {
    slack = await FakeSlack.start();
  });
  afterEach(() => slack.close());

  async function failureOf(failure: Parameters<FakeSlack['failNext']>[1]) {
    slack.failNext('chat.stopStream', failure);
    const error = await slackClient(slack)
      .chat.stopStream({ channel: 'C1', ts: '1.1' })
      .then(() => undefined, (caught: unknown) => caught);
    return classifySlackError(error);
  }

  test("a 429's Retry-After is the pause, in ms", async () => {
    expect(await failureOf({ status: 429, retryAfter: 7 })).toEqual({ kind: 'rate_limited', retryAfterMs: 7_000 });
  });

  test('a Retry-After of an hour pauses a minute at most: a final must not wait an hour on one header', async () => {
    expect(await failureOf({ status: 429, retryAfter: 3600 })).toEqual({ kind: 'rate_limited', retryAfterMs: 60_000 });
  });
});
