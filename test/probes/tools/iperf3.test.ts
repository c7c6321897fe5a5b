import { describe, expect, it } from 'vitest';
import { iperf3Args, parseIperf3Json } from '../../../probes/tools/index.js';
import { expectProbeError } from './expect-error.js';
import { fixture } from './fixtures.js';

describe('parseIperf3Json', () => {
  it.each([
    ['iperf3-tcp.json', false],
    ['iperf3-tcp-reverse.json', true],
  ])('%s: TCP goodput in bytes/s, direction from the test header', (file, reverse) => {
    const text = fixture(file);
    const r = parseIperf3Json(text);
    if (r.protocol !== 'tcp') throw new Error('expected tcp');
    expect(r.reverse).toBe(reverse);
    const doc = JSON.parse(text);
    expect(r.bytesPerSecond).toBeCloseTo(doc.end.sum_received.bits_per_second / 8, 3);
    expect(r.bytesPerSecond).toBeGreaterThan(0);
    expect(r.retransmits).toBeGreaterThanOrEqual(0);
    expect(r.seconds).toBeGreaterThan(0.5);
  });

  it('takes the sender RTT (µs → s) when this side sent', () => {
    const r = parseIperf3Json(fixture('iperf3-tcp.json'));
    if (r.protocol !== 'tcp') throw new Error('expected tcp');
    expect(r.meanRttSeconds).toBeGreaterThan(0);
    expect(r.meanRttSeconds).toBeLessThan(0.1);
  });

  it('UDP: packets/s delivered = (seen - lost) / seconds', () => {
    const text = fixture('iperf3-udp.json');
    const r = parseIperf3Json(text);
    if (r.protocol !== 'udp') throw new Error('expected udp');
    const recv = JSON.parse(text).end.sum_received;
    expect(r.datagramBytes).toBe(64);
    expect(r.receivedPacketsPerSecond).toBeCloseTo((recv.packets - recv.lost_packets) / recv.seconds, 3);
    expect(r.receivedPacketsPerSecond).toBeLessThanOrEqual(r.sentPacketsPerSecond * 1.01);
    // Delivered datagrams × payload ≈ receiver goodput.
    expect((r.receivedPacketsPerSecond * r.datagramBytes) / r.bytesPerSecond).toBeGreaterThan(0.95);
    expect((r.receivedPacketsPerSecond * r.datagramBytes) / r.bytesPerSecond).toBeLessThan(1.05);
    expect(r.lossRatio).toBeGreaterThanOrEqual(0);
    expect(r.lossRatio).toBeLessThan(1);
  });

  it('turns iperf3 own error (exit 0 on 3.12) into command_failed', () => {
    expectProbeError(() => parseIperf3Json(fixture('iperf3-refused.json')), 'command_failed', /unable to connect/);
  });

  it('rejects malformed input', () => {
    expectProbeError(() => parseIperf3Json(''), 'parse_error', /iperf3/);
    expectProbeError(() => parseIperf3Json('{"start": {}}'), 'parse_error');
    const text = fixture('iperf3-tcp.json');
    expectProbeError(() => parseIperf3Json(text.slice(0, 500)), 'parse_error');
    expectProbeError(() => parseIperf3Json(text.replace('"TCP"', '"SCTP"')), 'parse_error', /protocol/);
  });
});

describe('iperf3Args', () => {
  it('builds TCP, reverse and UDP client lines', () => {
    expect(iperf3Args({ host: '127.0.0.1', port: 5201, seconds: 3 })).toEqual(
      expect.arrayContaining(['-c', '127.0.0.1', '-p', '5201', '-t', '3', '-J']),
    );
    expect(iperf3Args({ host: 'h', port: 1, seconds: 1, reverse: true })).toContain('-R');
    const udp = iperf3Args({ host: 'h', port: 1, seconds: 1, udp: { datagramBytes: 64 } });
    expect(udp.join(' ')).toContain('-u -b 0 -l 64');
  });
});
