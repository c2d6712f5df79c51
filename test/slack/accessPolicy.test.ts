import fc from 'fast-check';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/logger.js';
import {
  AccessPolicy,
  isDirectMessage,
  membership,
  placeRefusal,
  type AccessQuestion,
  type AccessRules,
  type Home,
  type OrgEvidence,
} from '../../src/slack/accessPolicy.js';

const id = (prefix: string) => fc.stringMatching(/^[A-Z0-9]{4,10}$/).map((rest) => `${prefix}${rest}`);
const homes: fc.Arbitrary<Home> = fc.record({ teamId: id('T'), enterpriseId: fc.option(id('E'), { nil: undefined }) }, { requiredKeys: ['teamId'] });
const evidence: fc.Arbitrary<OrgEvidence> = fc.record(
  {
    teamId: fc.oneof(id('T'), id('E')),
    enterpriseId: fc.option(id('E'), { nil: null }),
    isStranger: fc.boolean(),
  },
  { requiredKeys: [] },
);

describe('membership: what Slack says of the asker, against the bot’s workspace and organisation', () => {
  test('our workspace or our organisation, wherever Slack names it, is a member, unless Slack marks a stranger', () => {
    fc.assert(
      fc.property(homes, evidence, fc.constantFrom('teamId', 'enterpriseId') as fc.Arbitrary<'teamId' | 'enterpriseId'>, (home, said, field) => {
        const ours = field === 'enterpriseId' && home.enterpriseId ? home.enterpriseId : home.teamId;
        const verdict = membership({ ...said, [field]: ours }, home);
        expect(verdict).toBe(said.isStranger ? 'external' : 'member');
      }),
    );
  });

  test('is_stranger always makes the asker external', () => {
    fc.assert(fc.property(homes, evidence, (home, said) => expect(membership({ ...said, isStranger: true }, home)).toBe('external')));
  });

  test('an organisation other than ours is external', () => {
    fc.assert(
      fc.property(homes, id('T'), id('E'), fc.boolean(), (home, team, org, asTeam) => {
        fc.pre(team !== home.teamId && org !== home.enterpriseId);
        const said: OrgEvidence = asTeam ? { teamId: org } : { teamId: team, enterpriseId: org };
        expect(membership(said, home)).toBe('external');
      }),
    );
  });

  test('another workspace: external outside Enterprise Grid; in a Grid, external only once Slack says it is in no organisation', () => {
    expect(membership({ teamId: 'T0EXT' }, { teamId: 'T0001' })).toBe('external');
    expect(membership({ teamId: 'T0002' }, { teamId: 'T0001', enterpriseId: 'E0001' })).toBe('unknown');
    expect(membership({ teamId: 'T0002', enterpriseId: null }, { teamId: 'T0001', enterpriseId: 'E0001' })).toBe('external');
    expect(membership({ teamId: 'T0002', enterpriseId: 'E0001' }, { teamId: 'T0001', enterpriseId: 'E0001' })).toBe('member');
  });

  test('nothing said settles nothing', () => {
    fc.assert(fc.property(homes, (home) => expect(membership({}, home)).toBe('unknown')));
    expect(membership({ enterpriseId: null }, { teamId: 'T0001' })).toBe('unknown');
  });
});

describe('placeRefusal: where the bot answers', () => {
  const rules = fc.record({
    allowedChannels: fc.option(fc.array(fc.oneof(id('C'), id('G'), id('D')), { minLength: 1, maxLength: 5 }), { nil: undefined }),
    allowDms: fc.boolean(),
    allowExternalUsers: fc.boolean(),
  });

  test('a DM is governed by ALLOW_DMS alone, whatever ALLOWED_CHANNELS lists', () => {
    fc.assert(
      fc.property(rules, id('D'), (given, channel) => {
        expect(placeRefusal({ channel, isDm: true }, given)).toBe(given.allowDms ? undefined : 'dms');
      }),
    );
  });

  test('any other conversation by ALLOWED_CHANNELS alone: unset = everywhere, else only those listed', () => {
    fc.assert(
      fc.property(rules, fc.oneof(id('C'), id('G')), (given, channel) => {
        const allowed = given.allowedChannels === undefined || given.allowedChannels.includes(channel);
        expect(placeRefusal({ channel, isDm: false }, given)).toBe(allowed ? undefined : 'channel');
      }),
    );
  });

  test('every channel ALLOWED_CHANNELS lists is answered in', () => {
    fc.assert(
      fc.property(rules, (given) => {
        for (const channel of given.allowedChannels?.filter((listed) => !isDirectMessage(listed)) ?? []) {
          expect(placeRefusal({ channel, isDm: false }, given)).toBeUndefined();
        }
      }),
    );
  });

  test('a DM is told by its channel type or its D… id', () => {
    expect(isDirectMessage('D123')).toBe(true);
    expect(isDirectMessage('C123', 'im')).toBe(true);
    expect(isDirectMessage('C123', 'channel')).toBe(false);
    expect(isDirectMessage('G123')).toBe(false);
  });
});

describe('AccessPolicy', () => {
  let logs: string[];
  let lookups: string[];
  let found: OrgEvidence | undefined;
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(chunk.toString());
      done();
    },
  });
  beforeEach(() => {
    logs = [];
    lookups = [];
    found = undefined;
  });
  const policy = (rules: Partial<AccessRules> = {}) =>
    new AccessPolicy(
      { allowDms: true, allowExternalUsers: false, ...rules },
      async (userId) => {
        lookups.push(userId);
        return found;
      },
      createLogger('debug', sink),
    );
  const question = (overrides: Partial<AccessQuestion> = {}): AccessQuestion => ({
    channel: 'C123',
    isDm: false,
    userId: 'U123',
    home: { teamId: 'T0001' },
    asker: {},
    sharedExternally: true,
    ...overrides,
  });

  test('what the payload says settles it without a lookup', async () => {
    expect(await policy().refusal(question({ asker: { teamId: 'T0001' } }))).toBeUndefined();
    expect(await policy().refusal(question({ asker: { teamId: 'T0EXT' } }))).toBe('external');
    expect(await policy().refusal(question({ asker: { teamId: 'E0001' }, home: { teamId: 'T0001', enterpriseId: 'E0001' } }))).toBeUndefined();
    expect(lookups).toEqual([]);
  });

  test('a conversation not shared with another organisation holds only colleagues: no lookup', async () => {
    expect(await policy().refusal(question({ sharedExternally: false }))).toBeUndefined();
    expect(lookups).toEqual([]);
  });

  test('where the payload is silent in a shared channel, users.info decides', async () => {
    found = { teamId: 'T0EXT', enterpriseId: null, isStranger: false };
    expect(await policy().refusal(question())).toBe('external');
    found = { teamId: 'T0002', enterpriseId: 'E0001', isStranger: false };
    expect(await policy().refusal(question({ asker: { teamId: 'T0002' }, home: { teamId: 'T0001', enterpriseId: 'E0001' } }))).toBeUndefined();
    expect(lookups).toEqual(['U123', 'U123']);
  });

  test('when users.info cannot tell either, the question is answered and a warning says so', async () => {
    expect(await policy().refusal(question())).toBeUndefined();
    expect(lookups).toEqual(['U123']);
    expect(logs.join('')).toContain('could not tell whether the asker is from another organisation');
  });

  test('ALLOW_EXTERNAL_USERS=true answers external askers and looks nobody up', async () => {
    expect(await policy({ allowExternalUsers: true }).refusal(question({ asker: { teamId: 'T0EXT' } }))).toBeUndefined();
    expect(await policy({ allowExternalUsers: true }).refusal(question())).toBeUndefined();
    expect(lookups).toEqual([]);
  });

  test('an external asker is refused as such even where the place refuses too: the place refusal names our channels', async () => {
    const external = { asker: { teamId: 'T0EXT' } };
    expect(await policy({ allowedChannels: ['C100'] }).refusal(question(external))).toBe('external');
    expect(await policy({ allowDms: false }).refusal(question({ ...external, channel: 'D123', isDm: true }))).toBe('external');
    // A colleague gets the place's refusal; the payload settled who they are, so nobody was looked up.
    expect(await policy({ allowedChannels: ['C100'] }).refusal(question({ asker: { teamId: 'T0001' } }))).toBe('channel');
    expect(await policy({ allowDms: false }).refusal(question({ asker: { teamId: 'T0001' }, channel: 'D123', isDm: true }))).toBe('dms');
    expect(lookups).toEqual([]);
  });

  test('the refusals say why in plain words, naming where to ask instead', () => {
    const channels = policy({ allowedChannels: ['C100', 'D999', 'G200'] });
    expect(channels.explain('channel')).toMatch(/don't answer in this channel/);
    expect(channels.explain('channel')).toContain('<#C100> or <#G200>, or in a DM');
    expect(channels.explain('channel')).not.toContain('D999');
    expect(policy({ allowedChannels: ['C100'], allowDms: false }).explain('channel')).not.toContain('DM');
    expect(policy({ allowedChannels: ['C1', 'C2', 'C3', 'C4', 'C5', 'C6'] }).explain('channel')).toContain('<#C5> or another of my channels');
    expect(policy({ allowDms: false }).explain('dms')).toMatch(/turned off direct messages.*in a channel I am in/);
    expect(policy({ allowDms: false, allowedChannels: ['C100'] }).explain('dms')).toContain('in <#C100> instead');
    expect(policy().explain('external')).toMatch(/only answer members of the organisation/);
  });
});
