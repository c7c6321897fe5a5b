import { execFile, spawnSync } from 'node:child_process';

/** Run a host tool; reject with its stderr on a non-zero exit. */
export function run(cmd: string, args: string[], timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')}: ${String(stderr).trim() || err.message}`));
      else resolve(String(stdout));
    });
  });
}

export function runSync(cmd: string, args: string[], timeoutMs = 10_000): boolean {
  const r = spawnSync(cmd, args, { timeout: timeoutMs, stdio: 'ignore' });
  return r.status === 0;
}
