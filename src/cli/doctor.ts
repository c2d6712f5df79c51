import 'dotenv/config';
import { runDoctor } from '../doctor/runDoctor.js';

// `npm run doctor` (tsx) or `node dist/cli/doctor.js`: checks the configuration and what it points at, prints
// the table, exits 0 only when every check passed. An explicit exit: a hung server's socket must not keep it alive.
runDoctor(process.env, { cwd: process.cwd(), moduleDir: import.meta.dirname }).then(
  ({ report, ok }) => {
    // Exit once the report is flushed (a pipe may take it asynchronously).
    process.stdout.write(`${report}\n`, () => process.exit(ok ? 0 : 1));
  },
  (error: unknown) => {
    console.error(`doctor failed: ${error instanceof Error ? error.name : String(error)}`);
    process.exit(1);
  },
);
