// The Messages tab of an agent_view app (issue #12 §3): opening it pins the suggested prompts above the composer.
import { readFile } from 'node:fs/promises';
import { DEFAULT_SUGGESTED_PROMPTS } from '../../src/config.js';
import type { SlackFailure } from '../fakes/fakeSlack.js';
import { appHomeOpenedEvent, deliverEvent } from '../fakes/slackRequests.js';
import { BOT_TOKEN, SIGNING_SECRET, startTestBot, type TestBot } from '../harness.js';

const METHOD = 'assistant.threads.setSuggestedPrompts';

async function openTab(t: TestBot, tab: 'messages' | 'home', overrides: { user?: string; channel?: string } = {}): Promise<void> {
  const response = await deliverEvent(t.url, SIGNING_SECRET, appHomeOpenedEvent({ tab, ...overrides }));
  expect(response.status).toBe(200);
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 300));

describe('Messages tab suggested prompts', () => {
  let t: TestBot;
  afterEach(() => t.stop());

  const configured = [
    { title: 'Summarise a doc', message: 'Summarise the attached document in five bullet points.' },
    { title: 'Plan a trip', message: 'Plan a two-day trip to Lisbon for a family of four.' },
  ];

  test("opening the Messages tab sets the configured prompts in that user's DM, without a thread_ts", async () => {
    t = await startTestBot({ SUGGESTED_PROMPTS: JSON.stringify(configured) });
    await openTab(t, 'messages', { user: 'U777', channel: 'D777' });
    await t.slack.waitFor(() => t.slack.callsOf(METHOD).length === 1);
    const call = t.slack.callsOf(METHOD)[0]!;
    expect(call.token).toBe(BOT_TOKEN);
    expect(call.params).toMatchObject({ channel_id: 'D777', prompts: configured });
    expect(typeof call.params.title).toBe('string');
    // Slack's docs: a thread_ts makes an agent_view app's call silently fail.
    expect(call.params).not.toHaveProperty('thread_ts');
  });

  test('without SUGGESTED_PROMPTS the built-in prompts are set', async () => {
    t = await startTestBot();
    await openTab(t, 'messages');
    await t.slack.waitFor(() => t.slack.callsOf(METHOD).length === 1);
    expect(t.slack.callsOf(METHOD)[0]!.params).toMatchObject({ channel_id: 'D123', prompts: DEFAULT_SUGGESTED_PROMPTS });
  });

  test('opening the Home tab sets nothing', async () => {
    t = await startTestBot();
    await openTab(t, 'home');
    await settle();
    expect(t.slack.callsOf(METHOD)).toHaveLength(0);
    // The same delivery path sets them for the Messages tab, so the silence above is not an accident of wiring.
    await openTab(t, 'messages');
    await t.slack.waitFor(() => t.slack.callsOf(METHOD).length === 1);
  });

  test.each<[string, SlackFailure]>([
    ['missing_scope', { error: 'missing_scope', needed: 'assistant:write' }],
    ['feature_disabled', { error: 'feature_disabled' }],
    ['HTTP 429', { status: 429, retryAfter: 30 }],
  ])('a refusal (%s) is logged once and the bot keeps working', async (_name, failure) => {
    t = await startTestBot();
    t.slack.failNext(METHOD, failure);
    await openTab(t, 'messages');
    const warned = () => t.logs.filter((line) => line.includes('could not set the suggested prompts'));
    await t.slack.waitFor(() => warned().length === 1);
    await settle();
    expect(warned()).toHaveLength(1);
    expect(t.slack.callsOf(METHOD)).toHaveLength(1);
    expect(t.logs.join('')).not.toContain('unhandled error');
    // Neither a 429's Retry-After nor the refusal holds up what follows: the next open and a question are served.
    await openTab(t, 'messages');
    await t.dm({ text: 'still there?' });
    await t.idle();
    expect(t.slack.callsOf(METHOD).filter((call) => call.status === 200 && (call.response as { ok?: boolean }).ok)).toHaveLength(1);
    expect(t.claude.requests).toHaveLength(1);
  });
});

describe('manifest.yml', () => {
  test('agent_view lists the built-in prompts, and the app subscribes to app_home_opened with assistant:write', async () => {
    const manifest = await readFile(new URL('../../manifest.yml', import.meta.url), 'utf8');
    expect(manifest).toMatch(/^ {2}agent_view:\n {4}agent_description: .{1,300}\n/m);
    for (const { title, message } of DEFAULT_SUGGESTED_PROMPTS) {
      expect(manifest).toContain(`- title: ${title}\n        message: ${message}\n`);
    }
    expect(manifest).toMatch(/^ {6}- assistant:write\b/m);
    expect(manifest).toMatch(/^ {6}- app_home_opened\b/m);
  });
});
