import { runBotToExit, useFakeServers } from '../processBot.js';

const APP_TOKEN = 'xapp-1-A0001-refusedAPPTOKENsecret';

describe('Socket Mode with an app token Slack refuses (through the real process)', () => {
  const fakes = useFakeServers();

  test.each(['missing_scope', 'token_revoked', 'not_allowed_token_type', 'invalid_auth'])(
    'apps.connections.open answering %s stops start-up with one line naming SLACK_APP_TOKEN, exit 1',
    async (error) => {
      // Every call refused: Bolt's Socket Mode client used to retry these forever without a word.
      fakes.slack().failNext('apps.connections.open', { error }, 1000);
      const result = await runBotToExit({ SLACK_APP_TOKEN: APP_TOKEN, SLACK_SIGNING_SECRET: '', HISTORY_STORE: 'memory' }, { fakes: fakes.servers() });
      expect(result.code).toBe(1);
      expect(result.stderr.trim().split('\n')).toEqual([`Start-up failed: SLACK_APP_TOKEN was refused by Slack: ${error}`]);
      expect(result.stdout).not.toContain('"bot started"');
      expect(result.stdout + result.stderr).not.toContain('refusedAPPTOKENsecret');
    },
  );
});
