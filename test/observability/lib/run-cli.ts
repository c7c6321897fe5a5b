// Runs the e2b-bench CLI from the TypeScript sources (node --import tsx lib/run-cli.ts serve ...),
// so the integration test never picks up a stale dist/ build.
import { main } from '../../../src/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
