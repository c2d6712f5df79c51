import { runBotToExit, spawnBot, useFakeServers, type BotProcess, type FinishedProcess } from '../processBot.js';

/** The model check at start-up, through the real process: GET /v1/models/{CLAUDE_MODEL} on the fake Anthropic API. */
describe('start-up checks CLAUDE_MODEL with the Models API', () => {
  const fakes = useFakeServers();
  let bot: BotProcess | undefined;
  afterEach(async () => {
    bot?.child.kill('SIGKILL');
    await bot?.exited;
    bot = undefined;
  });

  /** Exit 1, one stderr line naming CLAUDE_MODEL and the id, never "bot started". */
  function expectModelRefused(result: FinishedProcess, model: string): string {
    expect(result.code).toBe(1);
    expect(result.stdout).not.toContain('bot started');
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`CLAUDE_MODEL=${model}`);
    return lines[0]!;
  }

  /** The JSON log lines of a running bot at level warn. */
  function warnings(process: BotProcess): { msg: string; [key: string]: unknown }[] {
    return process
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { level: number; msg: string })
      .filter((entry) => entry.level === 40);
  }

  test('a retired model stops start-up with one line naming CLAUDE_MODEL, exit 1', async () => {
    fakes.claude().models['claude-sonnet-4-5'] = { lifecycle: 'retired', retiresAt: '2026-11-30T00:00:00Z' };
    const line = expectModelRefused(await runBotToExit({ HISTORY_STORE: 'memory', CLAUDE_MODEL: 'claude-sonnet-4-5' }, { fakes: fakes.servers() }), 'claude-sonnet-4-5');
    expect(line).toMatch(/retired/);
    expect(fakes.claude().modelRequests).toEqual(['claude-sonnet-4-5']);
  });

  test('an unknown model (404 not_found_error) stops start-up with one line naming CLAUDE_MODEL, exit 1', async () => {
    const line = expectModelRefused(await runBotToExit({ HISTORY_STORE: 'memory', CLAUDE_MODEL: 'claude-sonet-5-5' }, { fakes: fakes.servers() }), 'claude-sonet-5-5');
    expect(line).toMatch(/not a model/);
  });

  test('a deprecated model starts, with a warning giving its retirement date', async () => {
    fakes.claude().models['claude-opus-4-8'] = { lifecycle: 'deprecated', retiresAt: '2027-01-15T00:00:00Z' };
    bot = await spawnBot(fakes.slack(), fakes.claude(), { HISTORY_STORE: 'memory', CLAUDE_MODEL: 'claude-opus-4-8' });
    const warning = warnings(bot).find((entry) => /deprecated/.test(entry.msg));
    expect(warning?.msg).toContain('CLAUDE_MODEL=claude-opus-4-8');
    expect(warning?.msg).toContain('2027-01-15');
  });

  test.each([
    ['a 404 page of its own', { status: 404, contentType: 'text/html', body: '<h1>Not Found</h1>' }],
    ['405', { status: 405, contentType: 'text/plain', body: 'Method Not Allowed' }],
    ['501', { status: 501, contentType: 'application/json', body: '{"error":"not implemented"}' }],
  ])('a gateway without the Models API (%s) starts with a warning', async (_label, raw) => {
    fakes.claude().models['claude-sonnet-5-5'] = { raw };
    bot = await spawnBot(fakes.slack(), fakes.claude(), { HISTORY_STORE: 'memory' });
    expect(warnings(bot).some((entry) => /could not check CLAUDE_MODEL/.test(entry.msg))).toBe(true);
  });

  test('a Models API that never answers delays start-up by a bounded time, then the bot starts with a warning', async () => {
    fakes.claude().models['claude-sonnet-5-5'] = { hang: true };
    bot = await spawnBot(fakes.slack(), fakes.claude(), { HISTORY_STORE: 'memory' });
    expect(warnings(bot).some((entry) => /could not check CLAUDE_MODEL/.test(entry.msg))).toBe(true);
  });

  test('an active model starts without a model warning', async () => {
    bot = await spawnBot(fakes.slack(), fakes.claude(), { HISTORY_STORE: 'memory' });
    expect(fakes.claude().modelRequests).toEqual(['claude-sonnet-5-5']);
    expect(warnings(bot).filter((entry) => /CLAUDE_MODEL/.test(entry.msg))).toEqual([]);
  });
});
