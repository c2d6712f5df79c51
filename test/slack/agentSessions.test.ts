import { Writable } from 'node:stream';
import { createLogger } from '../../src/logger.js';
import { AgentSessions, UNAVAILABLE_PAUSE_MS, type SessionTarget } from '../../src/slack/agentSessions.js';
import { FakeSlack, slackClient } from '../fakes/fakeSlack.js';

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
    sessions = new AgentSessions(slackClient(slack), createLogger('debug', sink), () => clock);
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
    await sessions.setStatus(teamA, 'processing');
    await retrying;
    expect(slack.callsOf(METHOD).map((c) => c.params.status)).toEqual(['active', 'processing']);
    expect(slack.agentSession(teamA.channel, teamA.threadTs)?.status).toBe('processing');
  });

  test('errors never throw; each kind is logged once per workspace at warn', async () => {
    slack.failNext(METHOD, { error: 'channel_not_found' }, 2);
    slack.failNext(METHOD, { status: 500 });
    slack.failNext(METHOD, { status: 429, retryAfter: 0 }, 2);
    await expect(sessions.setStatus(teamA, 'active')).resolves.toBeUndefined();
    await expect(sessions.setStatus(teamA, 'active')).resolves.toBeUndefined();
    await expect(sessions.setStatus(teamA, 'processing')).resolves.toBeUndefined();
    await expect(sessions.setStatus(teamA, 'active')).resolves.toBeUndefined(); // 429, and 429 again on the retry
    await slack.close();
    await expect(sessions.setStatus(teamA, 'active')).resolves.toBeUndefined(); // connection refused
    // Nothing paused the workspace: every call reached Slack, and the retry was made once.
    expect(slack.callsOf(METHOD).map((c) => c.status)).toEqual([200, 200, 500, 429, 429]);
    expect(logs.map((line) => [line.level, line.error])).toEqual([
      [40, 'channel_not_found'],
      [40, undefined], // 500: transient
      [40, undefined], // rate_limited
    ]);
  });
});
