import { fileURLToPath } from 'node:url';
import { startProcess, type Proc } from '../test/helpers/processes.js';

export interface RuntimeProcess {
  conn: { apiKey: string; apiUrl: string; sandboxUrl: string };
  adminToken: string;
  proc: Proc;
}

/**
 * The local runtime in a process of its own (`e2b-bench local-runtime`), so that the bench process
 * holds only the client side: its CPU time is then the SDK's and the exporter's work, not the
 * runtime's spawning sandboxes and refilling its pool.
 */
export async function startRuntimeProcess(args: string[] = []): Promise<RuntimeProcess> {
  const bin = fileURLToPath(new URL('../bin/e2b-bench.js', import.meta.url));
  const proc = startProcess('local-runtime', process.execPath, [
    bin,
    'local-runtime',
    '--listen',
    '127.0.0.1:0',
    '--envd-listen',
    '127.0.0.1:0',
    ...args,
  ]);
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const line = proc
      .output()
      .split('\n')
      .find((l) => l.startsWith('{"apiUrl"'));
    if (line) {
      const r = JSON.parse(line) as { apiUrl: string; sandboxUrl: string; apiKey: string; adminToken: string };
      return { conn: { apiKey: r.apiKey, apiUrl: r.apiUrl, sandboxUrl: r.sandboxUrl }, adminToken: r.adminToken, proc };
    }
    if (proc.exited()) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await proc.stop();
  throw new Error(`local runtime did not start:\n${proc.output()}`);
}
