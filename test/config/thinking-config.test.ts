import { ConfigError, loadConfig } from '../../src/config.js';

const base = { SLACK_BOT_TOKEN: 'xoxb-1-abc', ANTHROPIC_API_KEY: 'sk-ant-key', SLACK_SIGNING_SECRET: 'signing-secret' };

describe('thinking configuration (DESIGN §2)', () => {
  test('defaults: effort medium, summarised thinking shown, 16000 tokens for thinking and text', () => {
    expect(loadConfig(base)).toMatchObject({ CLAUDE_EFFORT: 'medium', THINKING_DISPLAY: 'summary', CLAUDE_MAX_TOKENS: 16_000 });
  });

  test.each(['low', 'medium', 'high', 'xhigh', 'max'])('CLAUDE_EFFORT=%s is read as is', (effort) => {
    expect(loadConfig({ ...base, CLAUDE_EFFORT: effort }).CLAUDE_EFFORT).toBe(effort);
  });

  test.each(['summary', 'status', 'off'])('THINKING_DISPLAY=%s is read as is', (display) => {
    expect(loadConfig({ ...base, THINKING_DISPLAY: display }).THINKING_DISPLAY).toBe(display);
  });

  test.each([
    ['CLAUDE_EFFORT', 'extreme', 'CLAUDE_EFFORT must be one of low, medium, high, xhigh, max'],
    ['CLAUDE_EFFORT', 'HIGH', 'CLAUDE_EFFORT must be one of low, medium, high, xhigh, max'],
    ['THINKING_DISPLAY', 'summarized', 'THINKING_DISPLAY must be one of summary, status, off'],
    ['CLAUDE_MAX_TOKENS', '128001', 'CLAUDE_MAX_TOKENS must be a decimal integer from 1 to 128000'],
  ])('%s=%j stops start-up with one line naming the variable and its choices', (variable, value, message) => {
    expect(() => loadConfig({ ...base, [variable]: value })).toThrow(new ConfigError(message));
  });
});
