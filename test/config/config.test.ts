import { ConfigError, loadConfig, secretsOf } from '../../src/config.js';
import { scrubber } from '../../src/logger.js';

const base = { SLACK_BOT_TOKEN: 'xoxb-1-abc', ANTHROPIC_API_KEY: 'sk-ant-key', SLACK_SIGNING_SECRET: 'signing-secret' };

function errorFor(env: Record<string, string>): string {
  try {
    loadConfig({ ...base, ...env });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error(`accepted ${JSON.stringify(env)}`);
}

describe('configuration values that used to be accepted silently', () => {
  test.each([
    ['STREAM_IDLE_TIMEOUT_MS', '1e10'],
    ['EDIT_INTERVAL_MS', '1e10'],
    ['EDIT_INTERVAL_MS', '0x10'],
    ['EDIT_INTERVAL_MS', '2147483648'],
    ['EDIT_INTERVAL_MS', ' 100'],
    ['CLAUDE_MAX_TOKENS', '1e12'],
    ['CLAUDE_MAX_TOKENS', '1000000000000'],
    ['STREAM_RETRIES', '1e9'],
    ['STREAM_RETRIES', '6'],
    ['PORT', '1e3'],
    ['PORT', '65536'],
    ['SHUTDOWN_GRACE_MS', '-1'],
    ['CLAUDE_FIRST_TOKEN_TIMEOUT_MS', '1.5'],
    ['USER_MAX_CONCURRENT', '0'],
    ['MAX_CONCURRENT_ANSWERS', 'many'],
    ['HISTORY_TTL_DAYS', '0'],
    ['SLACK_SIGNING_SECRET', ' '],
    ['ANTHROPIC_API_KEY', '  '],
    ['CLAUDE_MODEL', ' '],
    ['CLAUDE_MODEL', 'claude sonnet'],
    ['SLACK_API_URL', 'ftp://slack.example/api/'],
    ['ANTHROPIC_BASE_URL', 'file:///etc/passwd'],
    ['ANTHROPIC_BASE_URL', 'https://gw-user:gw-password@gateway.example/'],
    ['SLACK_API_URL', 'http://bot:pa55word@127.0.0.1:9/api/'],
    ['SLACK_BOT_TOKEN', 'xoxb-has a space'],
    ['HISTORY_DB_PATH', '   '],
    ['REDIS_URL', 'redis://127.0.0.1:6379/abc'],
    ['REDIS_URL', 'http://127.0.0.1:6379'],
    // Used to surface as "Invalid URL", "URI malformed" or a misleading Slack error instead of naming the variable.
    ['SLACK_API_URL', 'http://'],
    ['ANTHROPIC_BASE_URL', 'http://'],
    ['SLACK_API_URL', 'http://127.0.0.1:9/api/?x=1'],
    ['ANTHROPIC_BASE_URL', 'https://gateway.example/v1#part'],
    ['SLACK_API_URL', 'https://slack.example/api/?'],
    ['REDIS_URL', 'redis://:p%zzword@127.0.0.1:6379'],
    ['REDIS_URL', 'redis://bad%user:pw@127.0.0.1:6379'],
    ['SLACK_SIGNING_SECRET', 'abc'],
    ['SLACK_SIGNING_SECRET', 'abcdefg'],
    ['SLACK_STREAMING', 'stream'],
    ['SLACK_STREAMING', 'Native'],
  ])('%s=%j stops start-up with one line naming the variable, not the value', (variable, value) => {
    const message = errorFor({ [variable]: value });
    expect(message.split('\n')).toHaveLength(1);
    expect(message).toMatch(new RegExp(`^${variable} must be [a-z]`));
    if (value.trim().length > 2) expect(message).not.toContain(value.trim());
  });

  test('good values are read as the numbers and URLs they spell', () => {
    const config = loadConfig({
      ...base,
      PORT: '0',
      EDIT_INTERVAL_MS: '250',
      STREAM_RETRIES: '5',
      STREAM_IDLE_TIMEOUT_MS: '3600000',
      SLACK_API_URL: 'http://127.0.0.1:9/api/',
      REDIS_URL: 'redis://:pw@127.0.0.1:6379/2',
    });
    expect(config).toMatchObject({ PORT: 0, EDIT_INTERVAL_MS: 250, STREAM_RETRIES: 5, STREAM_IDLE_TIMEOUT_MS: 3_600_000 });
  });

  test('the new variables take the defaults of DESIGN.md §2', () => {
    expect(loadConfig(base)).toMatchObject({
      CLAUDE_FIRST_TOKEN_TIMEOUT_MS: 60_000,
      USER_MAX_CONCURRENT: 3,
      MAX_CONCURRENT_ANSWERS: 100,
      HISTORY_TTL_DAYS: 90,
      SLACK_STREAMING: 'auto',
    });
    expect(loadConfig({ ...base, SLACK_STREAMING: 'edits' }).SLACK_STREAMING).toBe('edits');
  });
});

describe('secrets', () => {
  test('every configured secret and URL credential is scrubbed from text, however it is quoted', () => {
    const config = loadConfig({
      ...base,
      SLACK_APP_TOKEN: 'xapp-1-app-token',
      REDIS_URL: 'redis://redis-user:redis%2Fpass@127.0.0.1:6379/0',
    });
    const scrub = scrubber(secretsOf(config));
    const leaky = [
      'Bearer xoxb-1-abc',
      'key sk-ant-key echoed',
      JSON.stringify({ message: 'invalid x-api-key: "sk-ant-key"' }),
      'xapp-1-app-token',
      'signing-secret',
      'redis://redis-user:redis%2Fpass@127.0.0.1:6379/0 redis/pass',
    ].join(' | ');
    const scrubbed = scrub(leaky);
    for (const secret of ['xoxb-1-abc', 'sk-ant-key', 'xapp-1-app-token', 'signing-secret', 'redis-user', 'redis/pass', 'redis%2Fpass']) {
      expect(scrubbed).not.toContain(secret);
    }
    expect(scrubbed).toContain('echoed');
  });
});
