import { jest } from '@jest/globals';
import { inertInline } from '../../src/slack/inertText.js';
import { toMrkdwn } from '../../src/slack/render.js';
import { latestSentence, ThinkingProgress } from '../../src/slack/thinkingProgress.js';
import { copy } from '../../src/copy.js';

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('latestSentence', () => {
  test.each([
    ['', ''],
    ['Let me think', 'Let me think'],
    ['Let me think. The user asks', 'Let me think.'],
    ['Let me think. The user asks about X.', 'The user asks about X.'],
    ['**Weighing the options**\n\nFirst I', 'Weighing the options'],
    ['First idea.\n\n**Second block**\n', 'Second block'],
    ['Is it "quoted?" Then', 'Is it "quoted?"'],
  ])('%j → %j', (thinking, expected) => {
    expect(latestSentence(thinking)).toBe(expected);
  });

  test('a long summary gives its latest whole sentence, never a fragment of an earlier one', () => {
    const earlier = Array.from({ length: 500 }, (_, i) => `Thought number ${i} is considered.`).join(' ');
    expect(latestSentence(`${earlier} The last idea wins. Then`)).toBe('The last idea wins.');
    expect(latestSentence(`${earlier} The last idea wins.`)).toBe('The last idea wins.');
    // One very long sentence still being written: its end is shown, cut, rather than nothing.
    expect(latestSentence(`${earlier}\n${'long '.repeat(400)}`)).toMatch(/^long long .*…$/);
  });

  test('is one line of at most 120 characters, cut at a word with "…"', () => {
    const sentence = latestSentence(`${'word '.repeat(60)}end.`);
    expect(Array.from(sentence).length).toBeLessThanOrEqual(120);
    expect(sentence).toMatch(/word…$/);
    expect(sentence).not.toContain('\n');
  });

  test('cannot format, link, mention or close the italics around it once rendered', () => {
    const hostile = 'See [here](https://evil.example) <!channel> <@U123> `code` _x_ *y* ~z~ & done.';
    const rendered = toMrkdwn(copy.thinkingSentence(latestSentence(hostile)));
    expect(rendered).not.toContain('<!');
    expect(rendered).not.toContain('<@');
    expect(rendered).toContain('&lt;!channel&gt;');
    expect(rendered).toContain('&amp;');
    // Only our own pair of underscores: the sentence cannot end the italics early.
    expect(rendered.match(/_/g)).toHaveLength(2);
  });
});

describe('inertInline', () => {
  test('never cuts a surrogate pair and keeps short text whole', () => {
    expect(inertInline('ok', 5)).toBe('ok');
    expect(inertInline('😀😀😀😀😀😀', 4)).toBe('😀😀😀…');
  });
});

describe('ThinkingProgress', () => {
  test('status: a clock line at once, then one per interval, none after stop', async () => {
    // On a fake clock: how many intervals fit is arithmetic, not the machine's timer latency.
    jest.useFakeTimers({ now: 0 });
    try {
      const lines: string[] = [];
      const progress = new ThinkingProgress('status', 20, Date.now() - 12_000, (line) => lines.push(line));
      progress.update('');
      expect(lines).toEqual([copy.thinkingFor(12)]);
      await jest.advanceTimersByTimeAsync(110);
      // At 20, 40, 60, 80 and 100 ms.
      expect(lines).toHaveLength(6);
      progress.stop();
      await jest.advanceTimersByTimeAsync(60);
      expect(lines).toHaveLength(6);
    } finally {
      jest.useRealTimers();
    }
  });

  test('summary: the latest sentence, the clock before the first one, never an empty line', () => {
    const lines: string[] = [];
    const progress = new ThinkingProgress('summary', 10_000, Date.now(), (line) => lines.push(line));
    progress.update('');
    progress.update('Reading the question. Now');
    progress.update('');
    progress.stop();
    expect(lines).toEqual([copy.thinkingFor(0), copy.thinkingSentence('Reading the question.'), copy.thinkingSentence('Reading the question.')]);
  });

  test('off: shows nothing and starts no clock', async () => {
    const lines: string[] = [];
    const progress = new ThinkingProgress('off', 10, Date.now(), (line) => lines.push(line));
    progress.update('Some thinking.');
    await tick(40);
    expect(lines).toEqual([]);
  });
});
