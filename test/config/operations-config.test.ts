import { ConfigError, loadConfig } from '../../src/config.js';
import { costUsd, priceOf, priceTable } from '../../src/claude/prices.js';

const base = { SLACK_BOT_TOKEN: 'xoxb-1-abc', ANTHROPIC_API_KEY: 'sk-ant-key', SLACK_SIGNING_SECRET: 'signing-secret' };

describe('operations variables (DESIGN.md §2)', () => {
  test('defaults: no metrics port, loopback host, no caps, every channel, DMs on, external users off', () => {
    const config = loadConfig(base);
    expect(config).toMatchObject({ METRICS_HOST: '127.0.0.1', ALLOW_DMS: true, ALLOW_EXTERNAL_USERS: false });
    expect(config.METRICS_PORT).toBeUndefined();
    expect(config.CLAUDE_PRICES).toBeUndefined();
    expect(config.USER_DAILY_TOKEN_LIMIT).toBeUndefined();
    expect(config.WORKSPACE_DAILY_TOKEN_LIMIT).toBeUndefined();
    expect(config.ALLOWED_CHANNELS).toBeUndefined();
  });

  test('values are read into their types', () => {
    const config = loadConfig({
      ...base,
      METRICS_PORT: '9464',
      METRICS_HOST: '0.0.0.0',
      CLAUDE_PRICES: '{"my-gateway-model":{"input":1,"output":2}}',
      USER_DAILY_TOKEN_LIMIT: '200000',
      WORKSPACE_DAILY_TOKEN_LIMIT: '5000000',
      ALLOWED_CHANNELS: 'C0123ABCD, G0456EFGH',
      ALLOW_DMS: 'false',
      ALLOW_EXTERNAL_USERS: 'true',
    });
    expect(config).toMatchObject({
      METRICS_PORT: 9464,
      METRICS_HOST: '0.0.0.0',
      CLAUDE_PRICES: { 'my-gateway-model': { input: 1, output: 2 } },
      USER_DAILY_TOKEN_LIMIT: 200_000,
      WORKSPACE_DAILY_TOKEN_LIMIT: 5_000_000,
      ALLOWED_CHANNELS: ['C0123ABCD', 'G0456EFGH'],
      ALLOW_DMS: false,
      ALLOW_EXTERNAL_USERS: true,
    });
  });

  test.each([
    ['METRICS_PORT', '65536'],
    ['METRICS_HOST', 'two words'],
    ['CLAUDE_PRICES', '{not json'],
    ['CLAUDE_PRICES', '{"claude-sonnet-5-5":{"input":-1,"output":10}}'],
    ['CLAUDE_PRICES', '{"claude-sonnet-5-5":{"input":2}}'],
    ['CLAUDE_PRICES', '[1,2]'],
    ['USER_DAILY_TOKEN_LIMIT', '0'],
    ['WORKSPACE_DAILY_TOKEN_LIMIT', '1e6'],
    ['ALLOWED_CHANNELS', 'general'],
    ['ALLOWED_CHANNELS', ' , '],
    ['ALLOW_DMS', 'yes'],
    ['ALLOW_EXTERNAL_USERS', 'TRUE'],
  ])('%s=%j stops start-up with one line naming the variable', (variable, value) => {
    let error: unknown;
    try {
      loadConfig({ ...base, [variable]: value });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(new RegExp(`^${variable} must be `));
  });
});

describe('price table', () => {
  const usage = { inputTokens: 1_000_000, cacheCreationInputTokens: 0, cacheReadInputTokens: 0, outputTokens: 1_000_000, thinkingTokens: 0 };

  test('a dated model id is priced as its base id; an unknown one has no price', () => {
    const table = priceTable();
    expect(priceOf(table, 'claude-sonnet-5-5-20260615')).toEqual(priceOf(table, 'claude-sonnet-5-5'));
    expect(priceOf(table, 'claude-sonnet-5-5')).not.toEqual(priceOf(table, 'claude-sonnet-5'));
    expect(priceOf(table, 'gpt-5')).toBeUndefined();
    expect(priceOf(table, 'toString')).toBeUndefined();
  });

  test('CLAUDE_PRICES adds and replaces entries; cache prices default from input', () => {
    const table = priceTable({ 'claude-sonnet-5-5': { input: 3, output: 15 }, 'gateway-model': { input: 1, output: 1 } });
    expect(costUsd(priceOf(table, 'claude-sonnet-5-5')!, usage)).toBeCloseTo(18);
    const cached = { ...usage, inputTokens: 0, outputTokens: 0, cacheCreationInputTokens: 1_000_000, cacheReadInputTokens: 1_000_000 };
    expect(costUsd(priceOf(table, 'gateway-model')!, cached)).toBeCloseTo(1.25 + 0.1);
  });
});
