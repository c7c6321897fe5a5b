import { ProbeError } from '../../../src/probe/reasons.js';
import { isRecord, num, parseEmbeddedJson, parseError } from './text.js';

export interface Iperf3TcpResult {
  protocol: 'tcp';
  /** true for -R: the server sent, this side received (download). */
  reverse: boolean;
  seconds: number;
  /** Receiver-side goodput. */
  bytesPerSecond: number;
  sentBytesPerSecond: number;
  retransmits?: number;
  /** Mean smoothed RTT of the sending side, when this side sent (Linux only). */
  meanRttSeconds?: number;
}

export interface Iperf3UdpResult {
  protocol: 'udp';
  reverse: boolean;
  seconds: number;
  datagramBytes: number;
  sentPackets: number;
  lostPackets: number;
  /** Datagrams sent per second by the sender. */
  sentPacketsPerSecond: number;
  /** Datagrams that arrived, per second. */
  receivedPacketsPerSecond: number;
  lossRatio: number;
  jitterSeconds: number;
  bytesPerSecond: number;
}

export type Iperf3Result = Iperf3TcpResult | Iperf3UdpResult;

/**
 * `iperf3 -J` client output. A run that failed carries an "error" member (and iperf3 3.12 still
 * exits 0): that becomes command_failed with iperf3's own message.
 */
export function parseIperf3Json(text: string): Iperf3Result {
  const doc = parseEmbeddedJson('iperf3', text);
  if (!isRecord(doc)) throw parseError('iperf3', 'not an object');
  if (typeof doc.error === 'string') throw new ProbeError('command_failed', `iperf3: ${doc.error}`);
  const start = isRecord(doc.start) ? doc.start : {};
  const test = isRecord(start.test_start) ? start.test_start : undefined;
  const end = isRecord(doc.end) ? doc.end : undefined;
  if (!test || !end) throw parseError('iperf3', 'no test_start or end section', text);
  const reverse = test.reverse === 1 || test.reverse === true;
  const protocol = String(test.protocol).toLowerCase();

  if (protocol === 'tcp') {
    const sent = end.sum_sent;
    const recv = end.sum_received;
    const streams = Array.isArray(end.streams) ? end.streams : [];
    const rtts = streams
      .map((s: unknown) => (isRecord(s) && isRecord(s.sender) ? s.sender.mean_rtt : undefined))
      .filter((v: unknown): v is number => typeof v === 'number' && v > 0);
    return {
      protocol: 'tcp',
      reverse,
      seconds: num('iperf3', recv, 'seconds'),
      bytesPerSecond: num('iperf3', recv, 'bits_per_second') / 8,
      sentBytesPerSecond: num('iperf3', sent, 'bits_per_second') / 8,
      retransmits: isRecord(sent) && typeof sent.retransmits === 'number' ? sent.retransmits : undefined,
      // mean_rtt is in microseconds.
      meanRttSeconds: rtts.length ? rtts.reduce((a: number, b: number) => a + b, 0) / rtts.length / 1e6 : undefined,
    };
  }
  if (protocol === 'udp') {
    // iperf3 >= 3.11 reports both sides; older versions only "sum" (the receiver's view).
    const recv = isRecord(end.sum_received) ? end.sum_received : end.sum;
    const sent = isRecord(end.sum_sent) ? end.sum_sent : end.sum;
    const seconds = num('iperf3', recv, 'seconds');
    const sentSeconds = num('iperf3', sent, 'seconds');
    // On the receiving side "packets" counts sequence numbers seen, lost ones included.
    const expected = num('iperf3', recv, 'packets');
    const lost = num('iperf3', recv, 'lost_packets');
    if (seconds <= 0 || sentSeconds <= 0) throw parseError('iperf3', 'zero-length UDP run');
    return {
      protocol: 'udp',
      reverse,
      seconds,
      datagramBytes: num('iperf3', test, 'blksize'),
      sentPackets: num('iperf3', sent, 'packets'),
      lostPackets: lost,
      sentPacketsPerSecond: num('iperf3', sent, 'packets') / sentSeconds,
      receivedPacketsPerSecond: Math.max(0, expected - lost) / seconds,
      lossRatio: expected > 0 ? lost / expected : 0,
      jitterSeconds: num('iperf3', recv, 'jitter_ms') / 1000,
      bytesPerSecond: num('iperf3', recv, 'bits_per_second') / 8,
    };
  }
  throw parseError('iperf3', `unknown protocol ${JSON.stringify(test.protocol)}`);
}
