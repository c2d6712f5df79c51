import { systemPrompt } from '../../src/context/systemPrompt.js';

const today = new Date('2026-11-30T23:59:00Z');

describe('systemPrompt', () => {
  test('adds where Claude is, who asks and the date (UTC) after the base prompt', () => {
    expect(systemPrompt('Base.', { conversation: { name: 'general', isIm: false, isMpim: false }, asker: 'Ann Example', today })).toBe(
      'Base.\n\nYou are in Slack, in the channel #general. The person asking is @Ann Example. Today is 2026-11-30 (UTC).',
    );
  });

  test('a DM or group DM is named as such; facts Slack did not give are left out', () => {
    expect(systemPrompt('Base.', { conversation: { isIm: true, isMpim: false }, today })).toBe('Base.\n\nYou are in Slack, in a direct message. Today is 2026-11-30 (UTC).');
    expect(systemPrompt('Base.', { conversation: { isIm: false, isMpim: true }, today })).toContain('in a group direct message.');
    expect(systemPrompt('Base.', { today })).toBe('Base.\n\nYou are in Slack, in a conversation. Today is 2026-11-30 (UTC).');
  });
});
