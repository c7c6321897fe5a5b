import { ProbeError } from '../../../src/probe/reasons.js';
import { outputTail, runTool, type Exec } from '../exec.js';
import { parseIperf3Json, type Iperf3Result } from '../parsers/iperf3.js';
import { timeoutFor, type RunOptions } from './options.js';

export interface Iperf3Params {
  host: string;
  port: number;
  seconds: number;
  /** -R: the server sends (download from the client's point of view). */
  reverse?: boolean;
  /** UDP with this datagram payload size; bitrate in iperf3 syntax, "0" = as fast as possible. */
  udp?: { datagramBytes: number; bitrate?: string };
  connectTimeoutMs?: number;
}

export function iperf3Args(p: Iperf3Params): string[] {
  return [
    '-c',
    p.host,
    '-p',
    String(p.port),
    '-t',
    String(p.seconds),
    '-J',
    `--connect-timeout=${p.connectTimeoutMs ?? 5000}`,
    ...(p.reverse ? ['-R'] : []),
    ...(p.udp ? ['-u', '-b', p.udp.bitrate ?? '0', '-l', String(p.udp.datagramBytes)] : []),
  ];
}

/** One iperf3 client run; iperf3's own error ("unable to connect", "server is busy") → command_failed. */
export async function runIperf3(exec: Exec, p: Iperf3Params, opts: RunOptions): Promise<Iperf3Result> {
  // iperf3 >= 3.13 exits 1 with the error inside the JSON; 3.12 exits 0. The parser handles both.
  const r = await runTool(exec, 'iperf3', iperf3Args(p), {
    ...opts,
    okExitCodes: [0, 1],
    timeoutMs: timeoutFor(p.seconds, opts),
  });
  try {
    return parseIperf3Json(r.stdout);
  } catch (err) {
    if (r.exitCode !== 0 && err instanceof ProbeError && err.reason === 'parse_error') {
      throw new ProbeError('command_failed', `iperf3 exited with code 1: ${outputTail(r.stderr || r.stdout)}`);
    }
    throw err;
  }
}
