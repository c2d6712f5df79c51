import 'dotenv/config';
import { fileURLToPath } from 'node:url';
import { runDoctor } from '../doctor/runDoctor.js';

// `npm run doctor` (tsx) or `node dist/cli/doctor.js`: checks the configuration and what it points at, prints
// the table, exits 0 only when every check passed. The exit is explicit: a hung server's socket must not keep
// the process alive. import.meta.url rather than .dirname, which needs Node 20.11 (engines says 20.6).
runDoctor(process.env, { cwd: process.cwd(), moduleDir: fileURLToPath(new URL('.', import.meta.url)) }).then(
  ({ report, ok }) => {
    // Exit once the report is flushed (a pipe may take it asynchronously).
    process.stdout.write(`${report}\n`, () => process.exit(ok ? 0 : 1));
  },
  (error: unknown) => {
    // The name only: an unexpected error's message could carry a secret the scrubber never saw.
    console.error(`doctor failed: ${error instanceof Error ? error.name : String(error)}`);
    process.exit(1);
  },
);
