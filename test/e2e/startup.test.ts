import { runBotToExit } from '../processBot.js';

describe('start-up configuration errors', () => {
  test.each([
    ['SLACK_BOT_TOKEN', { ANTHROPIC_API_KEY: 'sk-ant-x', SLACK_SIGNING_SECRET: 'signing-secret' }],
    ['ANTHROPIC_API_KEY', { SLACK_BOT_TOKEN: 'xoxb-secret-token', SLACK_SIGNING_SECRET: 'signing-secret' }],
  ])('a missing %s exits non-zero with one line naming it', async (variable, env) => {
    const result = await runBotToExit(env);
    expect(result.code).not.toBe(0);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(variable);
    expect(result.stderr).not.toContain('xoxb-secret-token');
  });

  test('a malformed value names the variable and what is expected, not the value', async () => {
    const result = await runBotToExit({ SLACK_BOT_TOKEN: 'xoxp-user-token-secret', ANTHROPIC_API_KEY: 'k', SLACK_SIGNING_SECRET: 'signing-secret' });
    expect(result.code).not.toBe(0);
    expect(result.stderr.trim()).toBe('Configuration error: SLACK_BOT_TOKEN must be a bot token starting with xoxb-');
  });
});
