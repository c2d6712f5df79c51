// Jest setup file of the `native` project (jest.config.js): the suites it runs start their bots with
// SLACK_STREAMING=native (see SUITE_STREAMING in test/harness.ts). Runs before each test file is loaded.
process.env.TEST_SLACK_STREAMING = 'native';
