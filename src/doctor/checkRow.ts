/** How one check came out: ❌ fails the run, ⚠️ does not, `skip` when a check it needs failed first. */
export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip';

/** One row of the doctor's table. */
export interface CheckRow {
  /** What was checked, a few words ("Slack scopes"). */
  name: string;
  status: CheckStatus;
  /** What was found, one line; never a secret (the report is scrubbed anyway). */
  detail: string;
  /** For a failure: how to fix it, one line. */
  fix?: string;
}

/** Each network client's own timeout (Slack, Anthropic, Redis): a hung server costs one ❌, never a hung doctor. */
export const NETWORK_TIMEOUT_MS = 5_000;
/** The backstop over a whole check, should a client's own timeout not cover some step: a little later than it. */
const DEADLINE_MS = NETWORK_TIMEOUT_MS + 2_000;

/** `work`'s result, or `late()` when it has not settled within `ms`. */
export async function withDeadline<T>(work: Promise<T>, late: () => T, ms = DEADLINE_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(late()), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** The ❌ of a check whose server (`what`) did not answer in time. */
export function noAnswer(name: string, what: string, fix: string): CheckRow {
  return { name, status: 'fail', detail: `no answer from ${what} within ${DEADLINE_MS / 1000} s`, fix };
}

/** A row for a check that could not run because `reason`. */
export function skipped(name: string, reason: string): CheckRow {
  return { name, status: 'skip', detail: `skipped: ${reason}` };
}

/** The message of an unknown throw, first line only. */
export function messageOf(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]!;
}
