#!/usr/bin/env node
// Runs the compiled CLI when built (npm run build), else the TypeScript sources through tsx.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

// The project runs on Node >= 22. Where the machine's Node is older and set-up provided Node 24 in
// .tools/, run there instead, passing signals on (SIGHUP reloads, SIGTERM stops) and its exit status back.
const provided = fileURLToPath(new URL('../.tools/node/bin/node', import.meta.url));
if (Number(process.versions.node.split('.')[0]) < 22 && existsSync(provided)) {
  const { spawn } = await import('node:child_process');
  const child = spawn(provided, [...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
  });
  // Ctrl-C reaches the child through the terminal's process group; SIGTERM and SIGHUP come by pid.
  process.on('SIGINT', () => {});
  for (const sig of ['SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
  const { constants } = await import('node:os');
  child.on('exit', (code, signal) => process.exit(code ?? 128 + (signal ? constants.signals[signal] : 0)));
  await new Promise(() => {});
}

const compiled = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));
let entry;
if (existsSync(compiled)) {
  entry = pathToFileURL(compiled).href;
} else {
  const { register } = await import('tsx/esm/api');
  register();
  entry = new URL('../src/cli/main.ts', import.meta.url).href;
}
const { main } = await import(entry);
process.exitCode = await main(process.argv.slice(2));
