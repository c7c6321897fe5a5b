import { ProbeError } from '../../../src/probe/reasons.js';
import { runTool, type Exec } from '../exec.js';
import { curlArgs, parseCurlWriteOut, type CurlTiming } from '../parsers/curl.js';
import type { RunOptions } from './options.js';

/**
 * One timed GET of `url` with curl through any Exec, the body discarded. Anything but a 2xx
 * answer with a body is a failed measurement (command_failed), never a bandwidth figure.
 */
export async function runCurlDownload(
  exec: Exec,
  url: string,
  limitSeconds: number,
  opts: RunOptions,
): Promise<CurlTiming> {
  const r = await runTool(exec, 'curl', curlArgs(url, limitSeconds), {
    ...opts,
    timeoutMs: opts.timeoutMs ?? (limitSeconds + 15) * 1000,
  });
  const t = parseCurlWriteOut(r.stdout);
  if (t.httpCode < 200 || t.httpCode > 299)
    throw new ProbeError('command_failed', `GET ${url} answered HTTP ${t.httpCode}`);
  if (t.sizeBytes === 0) throw new ProbeError('command_failed', `GET ${url} returned no bytes`);
  return t;
}
