import { FakeSocketMode } from '../fakes/fakeSocketMode.js';
import { FakeSlack } from '../fakes/fakeSlack.js';
import { mentionEvent } from '../fakes/slackRequests.js';
import { startTestBot, versionsOf } from '../harness.js';

describe('Socket Mode (SLACK_APP_TOKEN set)', () => {
  test('connects with the app token, acks the envelope, answers in the thread, disconnects on stop', async () => {
    const socket = await FakeSocketMode.start();
    const slack = await FakeSlack.start();
    slack.socketModeUrl = socket.url;
    const t = await startTestBot({ SLACK_APP_TOKEN: 'xapp-test-app-token', SLACK_SIGNING_SECRET: '' }, { slack });
    try {
      await socket.waitForConnection();
      expect(slack.callsOf('apps.connections.open')[0]!.token).toBe('xapp-test-app-token');
      t.claude.enqueue({ chunks: ['Over ', 'the ', 'socket.'], delayMs: 50 });
      const event = mentionEvent({ text: '<@UBOT> via socket' });
      const envelopeId = socket.sendEvent(event);
      await t.idle();
      expect(socket.acks).toContain(envelopeId);
      const reply = t.slack.callsOf('chat.postMessage')[0]!;
      expect(reply.params.thread_ts).toBe(event.ts);
      expect(versionsOf(t.slack, reply.response.ts as string).at(-1)).toBe('Over the socket.');
    } finally {
      await t.stop();
      await slack.waitFor(() => socket.connections === 0);
      await Promise.all([socket.close(), slack.close()]);
    }
  });
});
