import { Writable } from 'node:stream';
import { createLogger } from '../../src/logger.js';
import { AgentSessions, UNAVAILABLE_PAUSE_MS, type SessionTarget } from '../../src/slack/agentSessions.js';
import { FakeSlack, slackClient } from '../fakes/fakeSlack.js';
import { MemoryEditBudget } from '../../src/slack/editBudget.js';

const METHOD = 'agents.sessions.setStatus';
const teamA: SessionTarget = { teamId: 'T0001', channel: 'C1', threadTs: '1700000000.000100' };
const teamB: SessionTarget = { teamId: 'T0002', channel: 'C2', threadTs: '1700000000.000200' };

describe('AgentSessions against the fake Slack Web API', () => {
  let slack: FakeSlack;
  let logs: { level: number; msg: string; error?: string }[];
  let clock: number;
  let sessions: AgentSessions;
  beforeEach(async () => {
    slack = await FakeSlack.start();
    logs = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logs.push(JSON.parse(chunk.toString()));
        done();
      },
    });
    clock = 1_000_000;
    sessions = new AgentSessions(slackClient(slack), createLogger('debug', sink), new MemoryEditBudget(50), () => clock);
  });
  afterEach(() => slack.close());

  test('statuses land in the order they were set, on the thread they name', async () => {
    await sessions.setStatus(teamA, 'processing');
    await sessions.setStatus(teamA, 'active');
    expect(slack.agentSession(teamA.channel, teamA.threadTs)?.history).toEqual(['processing', 'active']);
    expect(slack.callsOf(METHOD).map((c) => c.params)).toEqual([
      expect.objectContaining({ channel_id: 'C1', thread_ts: '1700000000.000100', status: 'processing' }),
      expect.objectContaining({ channel_id: 'C1', thread_ts: '1700000000.000100', status: 'active' }),
    ]);
    expect(logs).toEqual([]);
  });

  test.each(['feature_disabled', 'not_allowed', 'unknown_method'])(
    '%s pauses that workspace for an hour, logged once at info; other workspaces are unaffected',
    async (error) => {
      slack.failNext(METHOD, { error });
      await sessions.setStatus(teamA, 'processing');
      expect(slack.callsOf(METHOD)).toHaveLength(1);

      clock += UNAVAILABLE_PAUSE_MS - 1;
      await sessions.setStatus(teamA, 'active');
      expect(slack.callsOf(METHOD)).toHaveLength(1);

      await sessions.setStatus(teamB, 'processing');
      await sessions.setStatus(teamB, 'active');
      expect(slack.agentSession(teamB.channel, teamB.threadTs)?.history).toEqual(['processing', 'active']);

      // After the hour the workspace is asked again; still refused, it is paused again but not logged again.
      clock += 1;
      slack.failNext(METHOD, { error });
      await sessions.setStatus(teamA, 'active');
      await sessions.setStatus(teamA, 'active');
      expect(slack.callsOf(METHOD).map((c) => c.params.channel_id)).toEqual(['C1', 'C2', 'C2', 'C1']);

      clock += UNAVAILABLE_PAUSE_MS;
      await sessions.setStatus(teamA, 'active');
      expect(slack.agentSession(teamA.channel, teamA.threadTs)?.history).toEqual(['active']);
      expect(logs.map((line) => [line.level, line.error])).toEqual([[30, error]]); // info, once
    },
  );

  test('a missing assistant:write scope pauses the workspace too, logged at warn (our configuration)', async () => {
    slack.failNext(METHOD, { error: 'missing_scope', needed: 'assistant:write' });
    await sessions.setStatus(teamA, 'processing');
    await sessions.setStatus(teamA, 'active');
    expect(slack.callsOf(METHOD)).toHaveLength(1);
    expect(logs.map((line) => [line.level, line.error])).toEqual([[40, 'missing_scope']]);
  });

  test('close gives up the actives still waiting for the budget: a stopping bot does not wait a minute for them', async () => {
    // One call a minute, less the safety margin: the first active already waits about 6 s for the budget.
    const slow = new AgentSessions(slackClient(slack), createLogger('debug', new Writable({ write: (_c, _e, done) => done() })), new MemoryEditBudget(1));
    const owed = slow.setStatus(teamA, 'active');
    slow.close();
    await owed;
    expect(slack.callsOf(METHOD)).toHaveLength(0);
    // Nothing is sent after close either.
    await slow.setStatus(teamB, 'active');
    expect(slack.callsOf(METHOD)).toHaveLength(0);
  });

  test('a 429 on active is retried once after Retry-After, and lands', async () => {
    await sessions.setStatus(teamA, 'processing');
    slack.failNext(METHOD, { status: 429, retryAfter: 1 });
    await sessions.setStatus(teamA, 'active');
    const [, limited, retried] = slack.callsOf(METHOD);
    expect([limited?.status, retried?.status]).toEqual([429, 200]);
    expect(retried!.at - limited!.at).toBeGreaterThanOrEqual(1000);
    expect(slack.agentSession(teamA.channel, teamA.threadTs)?.status).toBe('active');
  });

  test('a 429 on processing is not retried', async () => {
    slack.failNext(METHOD, { status: 429, retryAfter: 0 });
    await sessions.setStatus(teamA, 'processing');
    expect(slack.callsOf(METHOD).map((c) => c.status)).toEqual([429]);
    expect(slack.agentSession(teamA.channel, teamA.threadTs)).toBeUndefined();
  });

  test('a newer status set during the wait wins over the delayed retry of active', async () => {
    slack.failNext(METHOD, { status: 429, retryAfter: 1 });
    const retrying = sessions.setStatus(teamA, 'active');
    await slack.waitFor(() => slack.count429(METHOD) === 1);
    const newer = sessions.setStatus(teamA, 'active');
    await Promise.all([retrying, newer]);
    // The first call's retry gave way to the newer one: one `active` after the 429, not two.
    expect(slack.callsOf(METHOD).map((c) => [c.params.status, c.status])).toEqual([
      ['active', 429],
      ['active', 200],
    ]);
  });

  test('many answers at once: every active lands, paced by the budget, however often Slack answers 429', async () => {
    slack.rateLimit(METHOD, { perMinute: 600, burst: 5 });
    const targets = Array.from({ length: 12 }, (_, i) => ({ ...teamA, threadTs: `1700000000.0002${String(i).padStart(2, '0')}` }));
    await Promise.all(targets.map((target) => sessions.setStatus(target, 'processing')));
    await Promise.all(targets.map((target) => sessions.setStatus(target, 'active')));
    for (const target of targets) expect(slack.agentSession(target.channel, target.threadTs)?.status).toBe('active');
  }, 20_000);

  test('errors never throw; each kind is logged once per workspace at warn', async () => {
    slack.failNext(METHOD, { error: 'channel_not_found' }, 2);
    slack.failNext(METHOD, { status: 500 });
    slack.failNext(METHOD, { status: 429, retryAfter: 0 }, 2);
    await expect(sessions.setStatus(teamA, 'active')).resolves.toBeUndefined();
    await expect(sessions.setStatus(teamA, 'active')).resolves.toBeUndefined();
    await expect(sessions.setStatus(teamA, 'processing')).resolves.toBeUndefined();
    await expect(sessions.setStatus(teamA, 'active')).resolves.toBeUndefined(); // 429, 429 again, then it lands
    await slack.close();
    await expect(sessions.setStatus(teamA, 'active')).resolves.toBeUndefined(); // connection refused
    // Nothing paused the workspace for long: every call reached Slack, and `active` was re-sent until it landed.
    expect(slack.callsOf(METHOD).map((c) => c.status)).toEqual([200, 200, 500, 429, 429, 200]);
    expect(logs.map((line) => [line.level, line.error])).toEqual([
      [40, 'channel_not_found'],
      [40, undefined], // 500: transient
      [40, undefined], // rate_limited
    ]);
  });
});
