import { sep } from 'node:path';
import { ConfigError, loadConfig, secretsOf, type Config } from '../config.js';
import { scrubber } from '../logger.js';
import { messageOf, skipped, type CheckRow } from './checkRow.js';
import { checkClaude } from './claudeCheck.js';
import { findManifest, manifestBotScopes } from './manifest.js';
import { checkBotToken, checkConnection, type ManifestScopes } from './slackChecks.js';
import { checkStore } from './storeCheck.js';
import { checkStreaming } from './streamingCheck.js';
import { renderReport } from './table.js';

/** Where the doctor looks for manifest.yml: the working directory, then the project root above `moduleDir`. */
export interface DoctorPlaces {
  cwd: string;
  moduleDir: string;
}

/** The doctor's verdict: the report to print (secrets scrubbed) and whether every check passed (warnings allowed). */
export interface DoctorResult {
  report: string;
  ok: boolean;
}

/** The variables whose raw values are scrubbed when the configuration is invalid (secretsOf needs a valid one). */
const SECRET_VARIABLES = ['SLACK_BOT_TOKEN', 'SLACK_APP_TOKEN', 'SLACK_SIGNING_SECRET', 'ANTHROPIC_API_KEY', 'REDIS_URL'] as const;

/**
 * Checks the configuration in `env`, then Slack, Anthropic and the store concurrently (each bounded by the
 * network timeout), and renders the table. A ConfigError fails the first row and skips the others. Every
 * line of the report goes through the log scrubber with the configured secrets: an upstream error that
 * echoes a token or key never reaches the output.
 */
export async function runDoctor(env: NodeJS.ProcessEnv, places: DoctorPlaces): Promise<DoctorResult> {
  let config: Config;
  try {
    config = loadConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const scrub = scrubber(SECRET_VARIABLES.flatMap((name) => env[name] ?? []).filter((value) => value.length >= 4));
    const needsConfig = ['Slack bot token', 'Slack scopes', 'Slack connection', 'Anthropic key and model', 'history store', 'native streaming'];
    const rows: CheckRow[] = [
      { name: 'configuration', status: 'fail', detail: error.message, fix: 'set the variable in the environment or .env (README → Configuration)' },
      ...needsConfig.map((name) => skipped(name, 'needs a valid configuration')),
    ];
    return { report: scrub(renderReport(rows)), ok: false };
  }
  const [slack, connection, claude, store] = await Promise.all([
    checkBotToken(config, manifestScopes(places)),
    checkConnection(config),
    checkClaude(config),
    checkStore(config),
  ]);
  const rows: CheckRow[] = [
    { name: 'configuration', status: 'pass', detail: describeConfig(config) },
    slack.token,
    slack.scopes,
    connection,
    claude,
    store,
    checkStreaming(config.SLACK_STREAMING, slack.granted),
  ];
  return { report: scrubber(secretsOf(config))(renderReport(rows)), ok: rows.every((row) => row.status !== 'fail') };
}

/** The configuration in a few words: mode, model, store. */
function describeConfig(config: Config): string {
  const mode = config.SLACK_APP_TOKEN ? 'Socket Mode' : `HTTP mode on port ${config.PORT}`;
  return `valid: ${mode}, model ${config.CLAUDE_MODEL}, history in ${config.HISTORY_STORE}, SLACK_STREAMING=${config.SLACK_STREAMING}`;
}

/** The bot scopes manifest.yml asks for, or why they are unknown; the path is shown relative to `cwd` when inside it. */
function manifestScopes({ cwd, moduleDir }: DoctorPlaces): ManifestScopes {
  const path = findManifest(cwd, moduleDir);
  if (!path) return { problem: `no manifest.yml in ${cwd} or the project root` };
  try {
    return { path: path.startsWith(cwd + sep) ? path.slice(cwd.length + 1) : path, scopes: manifestBotScopes(path) };
  } catch (error) {
    return { problem: messageOf(error) };
  }
}
