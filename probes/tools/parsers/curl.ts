import { parseError } from './text.js';

/** curl `-w` format (curl itself expands the trailing backslash-n): timings in seconds, bytes, bytes/s. */
export const CURL_WRITE_OUT =
  'e2bbench %{http_code} %{time_namelookup} %{time_connect} %{time_starttransfer} %{time_total} %{size_download} %{speed_download}\\n';

export interface CurlTiming {
  httpCode: number;
  namelookupSeconds: number;
  connectSeconds: number;
  startTransferSeconds: number;
  totalSeconds: number;
  sizeBytes: number;
  bytesPerSecond: number;
  /** TCP handshake: connect minus name lookup, one round trip. */
  rttSeconds: number;
}

/** curl arguments of one timed GET that discards the body; a fresh connection each time. */
export function curlArgs(url: string, timeoutSeconds: number): string[] {
  return ['-sS', '-o', '/dev/null', '--max-time', String(timeoutSeconds), '-w', CURL_WRITE_OUT, url];
}

export function parseCurlWriteOut(text: string): CurlTiming {
  const m = /^e2bbench (\d{3}) ([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+) (\d+) ([\d.]+)\s*$/m.exec(text);
  if (!m) throw parseError('curl', 'no timing line', text);
  const [httpCode, namelookup, connect, start, total, size, speed] = m.slice(1).map(Number);
  return {
    httpCode,
    namelookupSeconds: namelookup,
    connectSeconds: connect,
    startTransferSeconds: start,
    totalSeconds: total,
    sizeBytes: size,
    bytesPerSecond: speed,
    rttSeconds: Math.max(0, connect - namelookup),
  };
}

/** `curl --version` ("curl 7.88.1 (x86_64-pc-linux-gnu) libcurl/7.88.1 …") → "7.88.1". */
export function parseCurlVersion(text: string): string {
  const m = /^curl (\d+\.\d+[\w.-]*)/m.exec(text);
  if (!m) throw parseError('curl', 'no version', text);
  return m[1];
}
