import { describe, expect, it } from 'vitest';
import {
  candidateBlocks,
  cidrString,
  ownerAlive,
  ownerName,
  parseCidr,
  parseOwnerName,
  pidNamespace,
  processStart,
  routeBlocks,
} from '../../../src/local/driver/net-plan.js';

describe('sandbox network plan', () => {
  it('parses IPv4 blocks, masking the address to the prefix, and rejects the rest', () => {
    expect(cidrString(parseCidr('169.254.7.9/24')!)).toBe('169.254.7.0/24');
    expect(cidrString(parseCidr('10.0.0.0/8')!)).toBe('10.0.0.0/8');
    for (const bad of ['169.254.0.0', '300.1.1.1/16', '1.2.3.4/33', 'fe80::/64', '1.2.3/8'])
      expect(parseCidr(bad)).toBe(undefined);
  });

  it('offers the /24s of the pool that no route covers, leaving out the reserved link-local blocks', () => {
    const pool = parseCidr('169.254.0.0/16')!;
    const taken = routeBlocks(
      JSON.stringify([
        { dst: 'default' },
        { dst: '169.254.10.0/24' },
        { dst: '169.254.20.5' },
        { dst: '192.0.2.0/24' },
      ]),
    );
    const blocks = candidateBlocks(pool, taken).map(cidrString);
    expect(blocks).toHaveLength(256 - 3 - 2);
    for (const b of ['169.254.0.0/24', '169.254.255.0/24', '169.254.169.0/24', '169.254.10.0/24', '169.254.20.0/24'])
      expect(blocks).not.toContain(b);
    expect(blocks).toContain('169.254.11.0/24');
    // A block narrower than /24 is taken as configured; a covered one is not offered at all.
    expect(candidateBlocks(parseCidr('10.9.8.0/28')!, []).map(cidrString)).toEqual(['10.9.8.0/28']);
    expect(candidateBlocks(parseCidr('169.254.10.0/24')!, taken)).toEqual([]);
    // A wider route (the machine using the whole range) leaves nothing.
    expect(candidateBlocks(pool, [parseCidr('169.254.0.0/16')!])).toEqual([]);
  });

  it('names objects after the runtime process and tells live owners from dead ones', () => {
    const me = { pidns: pidNamespace(), pid: process.pid, start: processStart(process.pid)! };
    const name = `${ownerName(me, 'abcd1234', '-')}-1f`;
    expect(parseOwnerName(name)).toEqual({ ...me, runtimeId: 'abcd1234' });
    expect(parseOwnerName(ownerName(me, 'abcd1234'))).toEqual({ ...me, runtimeId: 'abcd1234' });
    expect(ownerAlive(me)).toBe(true);
    // Same pid, another start time: a later process reusing the pid, so the owner is gone.
    expect(ownerAlive({ ...me, start: String(Number(me.start) + 1) })).toBe(false);
    // Made in another pid namespace: its processes are not ours to see, so never judged dead.
    expect(ownerAlive({ ...me, pidns: '1', start: String(Number(me.start) + 1) })).toBe(true);
    expect(parseOwnerName('docker0')).toBe(undefined);
  });
});
