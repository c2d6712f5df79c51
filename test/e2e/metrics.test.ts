import { FakeAnthropic } from '../fakes/fakeAnthropic.js';
import { FakeSlack } from '../fakes/fakeSlack.js';
import { FakeSocketMode } from '../fakes/fakeSocketMode.js';
import { deliverInteraction, feedbackClick } from '../fakes/slackRequests.js';
import { replyTs, SIGNING_SECRET, startTestBot, type TestBot } from '../harness.js';
import { scrape, scrapeUntil, type Scrape } from '../metrics/scrape.js';

/** Words and ids that must never reach a label: the question, the channel, the user. */
const QUESTION = 'zanzibar-marmalade-7731';
const CHANNEL = 'C9PRIVATE42';
const USER = 'U0ASKER99';

const answers = 'slackbot_answers_total';
const slackCalls = 'slackbot_slack_api_calls_total';
const tokens = 'slackbot_claude_tokens_total';

describe('/metrics after a scripted set of answers (complete, truncated, Slack 429 and ok:false, Claude 529, a feedback click)', () => {
  let t: TestBot;
  let metrics: Scrape;
  let headOnPort: Response;
  /** Seconds from the first question to the end of the last answer: each answer took less. */
  let answersSeconds: number;

  beforeAll(async () => {
    t = await startTestBot({ EDIT_INTERVAL_MS: '100', CLAUDE_MODEL: 'claude-sonnet-5-5', METRICS_PORT: '0' });
    const answersStarted = Date.now();
    // 1. Complete, in a channel, with every kind of token.
    t.claude.enqueue({
      chunks: ['The answer ', 'is 42.'],
      delayMs: 30,
      usage: { inputTokens: 1000, cacheCreationInputTokens: 200, cacheReadInputTokens: 300, outputTokens: 40, thinkingTokens: 10 },
    });
    const first = await t.mention({ channel: CHANNEL, user: USER, text: `<@UBOT> ${QUESTION}` });
    await t.idle();
    // 2. Truncated (max_tokens), in a DM, after Slack refused its placeholder once (ok:false, retried).
    t.slack.failNext('chat.postMessage', { error: 'internal_error' });
    t.claude.enqueue({ chunks: ['This answer is long enough ', 'to be cut here'], delayMs: 30, stopReason: 'max_tokens', usage: { inputTokens: 500, outputTokens: 60 } });
    await t.dm({ user: USER, text: QUESTION });
    await t.idle();
    // 3. Slack answers an edit with HTTP 429; the answer still completes.
    t.slack.failNext('chat.update', { status: 429, retryAfter: 1 });
    t.claude.enqueue({ chunks: ['One ', 'two ', 'three.'], delayMs: 150, usage: { inputTokens: 100, outputTokens: 20 } });
    await t.mention({ text: '<@UBOT> count' });
    await t.idle();
    // 4. Claude overloaded (529) through the SDK's two retries: the answer fails before any text.
    const overloaded = { httpError: { status: 529, type: 'overloaded_error', message: 'Overloaded', retryAfter: 0 } };
    t.claude.enqueue(overloaded, overloaded, overloaded);
    await t.mention({ text: '<@UBOT> busy?' });
    await t.idle();
    answersSeconds = (Date.now() - answersStarted) / 1000;
    // 5. A 👍 on the first answer.
    const click = feedbackClick({ value: 'positive', actionId: 'answer_feedback' }, { messageTs: replyTs(t.slack, first.ts), channel: CHANNEL, threadTs: first.ts, user: USER, team: 'T0001' });
    expect((await deliverInteraction(t.url, SIGNING_SECRET, click)).status).toBe(200);
    await t.slack.waitFor(() => t.slack.callsOf('chat.postEphemeral').length > 0);

    metrics = await scrape(t.url);
    headOnPort = await fetch(`${t.url}/metrics`, { method: 'HEAD' });
  });
  afterAll(() => t.stop());

  test('answers are counted by surface, outcome and team', () => {
    expect(metrics.value(answers, { surface: 'mention', outcome: 'complete', team: 'T0001' })).toBe(2);
    expect(metrics.value(answers, { surface: 'dm', outcome: 'truncated', team: 'T0001' })).toBe(1);
    expect(metrics.value(answers, { surface: 'mention', outcome: 'failed', team: 'T0001' })).toBe(1);
    expect(metrics.value(answers)).toBe(4);
  });

  test('time to first progress, first text and final are histograms in seconds; the failed answer showed no text', () => {
    for (const [name, count] of [
      ['slackbot_time_to_first_progress_seconds', 4],
      ['slackbot_time_to_first_text_seconds', 3],
      ['slackbot_time_to_final_seconds', 4],
    ] as const) {
      expect(metrics.value(`${name}_count`)).toBe(count);
      expect(metrics.value(`${name}_bucket`, { le: '+Inf' })).toBe(count);
      // Seconds, not milliseconds: no answer's stage came later than the seconds all four answers took together.
      expect(metrics.value(`${name}_sum`)).toBeGreaterThan(0);
      expect(metrics.value(`${name}_sum`)).toBeLessThanOrEqual(count * answersSeconds);
    }
    // Each answer's stages come in order: progress before text before final.
    const sum = (stage: string) => metrics.value(`slackbot_time_to_${stage}_seconds_sum`);
    expect(sum('first_progress')).toBeLessThan(sum('final'));
    // The 429 made one answer wait at least its Retry-After (1 s) for its final.
    expect(metrics.value('slackbot_time_to_final_seconds_bucket', { le: '1' })).toBeLessThan(4);
  });

  test('Claude errors are counted by kind', () => {
    expect(metrics.value('slackbot_claude_errors_total', { kind: 'overloaded' })).toBe(1);
    expect(metrics.value('slackbot_claude_errors_total')).toBe(1);
  });

  test("Slack calls are counted by method and result, matching what Slack received from the bot's clients", () => {
    expect(metrics.value(slackCalls, { method: 'chat.update', result: 'ratelimited' })).toBe(1);
    expect(t.slack.count429('chat.update')).toBe(1);
    expect(metrics.value(slackCalls, { method: 'chat.update', result: 'ok' })).toBeGreaterThan(0);
    expect(metrics.value(slackCalls, { method: 'chat.postMessage', result: 'ok' })).toBe(4);
    expect(metrics.value(slackCalls, { method: 'chat.postMessage', result: 'error' })).toBe(1);
    expect(metrics.value(slackCalls, { method: 'chat.postEphemeral', result: 'ok' })).toBe(1);
    // Every call the answers made (start-up checks left out), whatever the client.
    const startup = new Set(['auth.test', 'bots.info']);
    const made = t.slack.calls.filter((call) => !startup.has(call.method));
    for (const method of new Set(made.map((call) => call.method))) {
      expect([method, metrics.value(slackCalls, { method })]).toEqual([method, made.filter((call) => call.method === method).length]);
    }
  });

  test('tokens by type and model, and the estimated cost in USD', () => {
    const model = 'claude-sonnet-5-5';
    expect(metrics.value(tokens, { type: 'input', model })).toBe(1600);
    expect(metrics.value(tokens, { type: 'cache_creation', model })).toBe(200);
    expect(metrics.value(tokens, { type: 'cache_read', model })).toBe(300);
    expect(metrics.value(tokens, { type: 'output', model })).toBe(120);
    expect(metrics.value(tokens, { type: 'thinking', model })).toBe(10);
    // claude-sonnet-5-5: $2 input, $2.50 cache write, $0.10 cache read, $10 output per million tokens.
    const expected = (1600 * 2 + 200 * 2.5 + 300 * 0.1 + 120 * 10) / 1e6;
    expect(metrics.value('slackbot_claude_cost_usd_total', { model })).toBeCloseTo(expected, 12);
  });

  test('feedback clicks by value and team', () => {
    expect(metrics.value('slackbot_feedback_total', { value: 'positive', team: 'T0001' })).toBe(1);
    expect(metrics.value('slackbot_feedback_total')).toBe(1);
  });

  test('nothing in flight or waiting once idle; Node process metrics are there', () => {
    expect(metrics.value('slackbot_answers_in_flight')).toBe(0);
    expect(metrics.value('slackbot_questions_waiting')).toBe(0);
    expect(metrics.has('slackbot_answers_in_flight')).toBe(true);
    expect(metrics.value('process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(metrics.value('nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    expect(metrics.has('nodejs_eventloop_lag_seconds')).toBe(true);
  });

  test('no label carries the question, the channel or the user', () => {
    expect(metrics.text).not.toContain(QUESTION);
    expect(metrics.text).not.toContain(CHANNEL);
    expect(metrics.text).not.toContain(USER);
    const values = metrics.samples.flatMap((sample) => Object.values(sample.labels));
    expect(values.filter((value) => /^[CDGU][A-Z0-9]{6,}$/.test(value))).toEqual([]);
  });

  test('HEAD /metrics on PORT answers 200 with the Prometheus content type', () => {
    expect(headOnPort.status).toBe(200);
    expect(headOnPort.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  });

  test('the METRICS_PORT server serves the same metrics', async () => {
    const other = await scrape(t.metricsUrl!);
    expect(other.value(answers)).toBe(4);
  });
});

describe('gauges', () => {
  let t: TestBot;
  afterEach(() => t.stop());

  test('answers in flight and questions waiting are read at scrape time', async () => {
    t = await startTestBot({ EDIT_INTERVAL_MS: '100', USER_MAX_CONCURRENT: '1' });
    // One user's first answer streams slowly; their second question (another thread) waits for it.
    t.claude.enqueue({ chunks: ['Slow ', 'answer ', 'here.'], delayMs: 700 }, { chunks: ['Second.'] });
    await t.mention({ text: '<@UBOT> first' });
    await t.claude.waitForRequests(1);
    await t.mention({ text: '<@UBOT> second' });
    const busy = await scrapeUntil(t.url, (s) => s.value('slackbot_questions_waiting') === 1);
    expect(busy.value('slackbot_answers_in_flight')).toBe(1);
    await t.idle();
    const after = await scrape(t.url);
    expect(after.value('slackbot_answers_in_flight')).toBe(0);
    expect(after.value('slackbot_questions_waiting')).toBe(0);
    expect(after.value(answers, { outcome: 'complete' })).toBe(2);
  });
});

describe('a model without a price', () => {
  let t: TestBot;
  afterEach(() => t.stop());

  test('has token series but no cost series, and exactly one warning however many answers', async () => {
    const claude = await FakeAnthropic.start();
    claude.models['claude-private-preview'] = { lifecycle: 'active' };
    t = await startTestBot({ CLAUDE_MODEL: 'claude-private-preview' }, { claude });
    try {
      for (const question of ['one', 'two']) {
        claude.enqueue({ chunks: ['Fine.'], usage: { inputTokens: 10, outputTokens: 2 } });
        await t.mention({ text: `<@UBOT> ${question}` });
        await t.idle();
      }
      const metrics = await scrape(t.url);
      expect(metrics.value(tokens, { type: 'input', model: 'claude-private-preview' })).toBe(20);
      expect(metrics.has('slackbot_claude_cost_usd_total')).toBe(false);
      expect(metrics.text).not.toContain('slackbot_claude_cost_usd_total');
      const warnings = t.logs.filter((line) => line.includes('no price for CLAUDE_MODEL'));
      expect(warnings).toHaveLength(1);
      expect(JSON.parse(warnings[0]!)).toMatchObject({ level: 40, model: 'claude-private-preview' });
    } finally {
      await claude.close();
    }
  });

  test('CLAUDE_PRICES gives it a price', async () => {
    const claude = await FakeAnthropic.start();
    claude.models['claude-private-preview'] = { lifecycle: 'active' };
    t = await startTestBot({ CLAUDE_MODEL: 'claude-private-preview', CLAUDE_PRICES: '{"claude-private-preview":{"input":1,"output":5}}' }, { claude });
    try {
      claude.enqueue({ chunks: ['Fine.'], usage: { inputTokens: 1000, outputTokens: 100 } });
      await t.mention({ text: '<@UBOT> priced' });
      await t.idle();
      const metrics = await scrape(t.url);
      expect(metrics.value('slackbot_claude_cost_usd_total', { model: 'claude-private-preview' })).toBeCloseTo((1000 * 1 + 100 * 5) / 1e6, 12);
      expect(t.logs.filter((line) => line.includes('no price for CLAUDE_MODEL'))).toEqual([]);
    } finally {
      await claude.close();
    }
  });
});

describe('the METRICS_PORT server', () => {
  test('in Socket Mode: /metrics, /healthz and /readyz on METRICS_HOST:METRICS_PORT; other paths 404; gone after stop', async () => {
    const socket = await FakeSocketMode.start();
    const slack = await FakeSlack.start();
    slack.socketModeUrl = socket.url;
    const t = await startTestBot({ SLACK_APP_TOKEN: 'xapp-test-app-token', SLACK_SIGNING_SECRET: '', METRICS_PORT: '0', METRICS_HOST: '127.0.0.1' }, { slack });
    try {
      await socket.waitForConnection();
      const base = t.metricsUrl!;
      const metrics = await scrape(base);
      expect(metrics.has('process_resident_memory_bytes')).toBe(true);
      expect(metrics.value('slackbot_answers_in_flight')).toBe(0);
      const health = await fetch(`${base}/healthz`);
      expect([health.status, await health.text()]).toEqual([200, 'ok']);
      const ready = await fetch(`${base}/readyz`);
      expect([ready.status, await ready.text()]).toEqual([200, 'ready']);
      expect((await fetch(`${base}/slack/events`, { method: 'POST', body: '{}' })).status).toBe(404);
      expect((await fetch(`${base}/metrics`, { method: 'POST' })).status).toBe(405);
    } finally {
      await t.stop();
      await slack.waitFor(() => socket.connections === 0);
      await Promise.all([socket.close(), slack.close()]);
    }
    await expect(fetch(`${t.metricsUrl!}/healthz`)).rejects.toThrow();
  });

  test('/readyz answers 503 while the bot drains, /healthz still 200', async () => {
    const [slack, claude] = await Promise.all([FakeSlack.start(), FakeAnthropic.start()]);
    const t = await startTestBot({ METRICS_PORT: '0' }, { slack, claude });
    try {
      claude.enqueue({ chunks: ['Slow ', 'answer.'], delayMs: 1000 });
      await t.mention({ text: '<@UBOT> slow' });
      await claude.waitForRequests(1);
      const stopping = t.bot.stop(10_000);
      const readyz = await fetch(`${t.metricsUrl!}/readyz`);
      expect([readyz.status, await readyz.text()]).toEqual([503, 'not ready']);
      expect((await fetch(`${t.metricsUrl!}/healthz`)).status).toBe(200);
      await stopping;
    } finally {
      await Promise.all([slack.close(), claude.close()]);
    }
  });

  test('a METRICS_PORT in use stops start-up with one line naming METRICS_PORT', async () => {
    const holder = await startTestBot({ METRICS_PORT: '0' });
    const taken = Number(new URL(holder.metricsUrl!).port);
    try {
      // The holder's fakes: the refused bot must not leave fakes of its own open.
      const refused = startTestBot({ METRICS_PORT: String(taken) }, { slack: holder.slack, claude: holder.claude });
      await expect(refused).rejects.toThrow(new RegExp(`^METRICS_PORT \\(${taken}\\) is already in use`));
    } finally {
      await holder.stop();
    }
  });
});
