/** What every project shares: ts-jest in ESM mode over test/. */
const base = {
  preset: 'ts-jest/presets/default-esm',
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true }] },
};

/**
 * Suites that hold for either transport (issue #12): run once more on Slack's native streams
 * (SLACK_STREAMING=native, see test/nativeTransport.ts); their edits-only tests skip there (harness `editsOnly`).
 */
const TRANSPORT_AGNOSTIC = [
  'notes-and-failures',
  'surfaces',
  'thinking-display',
  'hardening-claude',
  'history',
  'ordering-and-stalls',
  'shutdown',
  'context-text',
  'hardening-history-saves',
];

/** @type {import('jest').Config} */
export default {
  // A global option: Jest ignores it inside a project.
  testTimeout: 30000,
  projects: [
    // Every test file once, on the transport the harness defaults to (TEST_SLACK_STREAMING, else edits).
    { ...base, displayName: 'default', testMatch: ['**/*.test.ts'] },
    {
      ...base,
      displayName: 'native',
      testMatch: TRANSPORT_AGNOSTIC.map((name) => `<rootDir>/test/e2e/${name}.test.ts`),
      setupFiles: ['<rootDir>/test/nativeTransport.ts'],
    },
  ],
};
