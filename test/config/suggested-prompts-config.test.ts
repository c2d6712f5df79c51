import fc from 'fast-check';
import { ConfigError, DEFAULT_SUGGESTED_PROMPTS, loadConfig } from '../../src/config.js';

const base = { SLACK_BOT_TOKEN: 'xoxb-1-abc', ANTHROPIC_API_KEY: 'sk-ant-key', SLACK_SIGNING_SECRET: 'signing-secret' };
const EXPECTED =
  'SUGGESTED_PROMPTS must be a JSON list of 1 to 4 {"title", "message"} objects (title up to 75 characters, message up to 4000, neither blank)';

const prompts = (value: string) => loadConfig({ ...base, SUGGESTED_PROMPTS: value }).SUGGESTED_PROMPTS;

describe('SUGGESTED_PROMPTS (DESIGN §2)', () => {
  test('unset or empty: the built-in prompts, at most 4, each within the bounds', () => {
    expect(loadConfig(base).SUGGESTED_PROMPTS).toEqual(DEFAULT_SUGGESTED_PROMPTS);
    expect(prompts('')).toEqual(DEFAULT_SUGGESTED_PROMPTS);
    expect(DEFAULT_SUGGESTED_PROMPTS.length).toBeLessThanOrEqual(4);
    // The defaults pass the same validation an operator's list does.
    expect(prompts(JSON.stringify(DEFAULT_SUGGESTED_PROMPTS))).toEqual(DEFAULT_SUGGESTED_PROMPTS);
  });

  test('a valid list is read as given, titles and messages trimmed', () => {
    expect(prompts('[{"title":" Plan a trip ","message":"Plan a two-day trip to Lisbon.\\n"}]')).toEqual([
      { title: 'Plan a trip', message: 'Plan a two-day trip to Lisbon.' },
    ]);
  });

  const prompt = { title: 'Plan a trip', message: 'Plan a two-day trip to Lisbon.' };
  test.each([
    ['not JSON', '[{title: "a", message: "b"}]'],
    ['an object, not a list', JSON.stringify(prompt)],
    ['an empty list', '[]'],
    ['five prompts', JSON.stringify(Array(5).fill(prompt))],
    ['a missing message', JSON.stringify([{ title: 'Plan a trip' }])],
    ['a misspelt field', JSON.stringify([{ ...prompt, titel: 'x' }])],
    ['a blank title', JSON.stringify([{ ...prompt, title: '   ' }])],
    ['a blank message', JSON.stringify([{ ...prompt, message: '' }])],
    ['a title of 76 characters', JSON.stringify([{ ...prompt, title: 'x'.repeat(76) }])],
    ['a message of 4001 characters', JSON.stringify([{ ...prompt, message: 'x'.repeat(4001) }])],
    ['a number for a title', JSON.stringify([{ ...prompt, title: 7 }])],
  ])('%s stops start-up with one line naming the variable, not the value', (_case, value) => {
    expect(() => prompts(value)).toThrow(new ConfigError(EXPECTED));
  });

  test('bounds: any 1 to 4 prompts within 75 / 4000 characters are accepted; one more character in either is refused', () => {
    const text = (max: number) => fc.string({ minLength: 1, maxLength: max }).filter((s) => s.trim() === s && s !== '');
    const list = fc.array(fc.record({ title: text(75), message: text(4000) }), { minLength: 1, maxLength: 4 });
    fc.assert(
      fc.property(list, fc.nat(), fc.boolean(), (given, index, inTitle) => {
        expect(prompts(JSON.stringify(given))).toEqual(given);
        const at = index % given.length;
        const longer = given.map((p, i) => (i !== at ? p : inTitle ? { ...p, title: 'x'.repeat(76) } : { ...p, message: 'x'.repeat(4001) }));
        expect(() => prompts(JSON.stringify(longer))).toThrow(ConfigError);
      }),
      { numRuns: 200 },
    );
  });
});
