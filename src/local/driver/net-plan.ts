import { readlinkSync } from 'node:fs';
import { processStart } from './process-start.js';

export { processStart };

/** An IPv4 block: base address (host order) and prefix length. */
export interface Cidr {
  base: number;
  prefix: number;
}

export const DEFAULT_SUBNET = '169.254.0.0/16';

/** Prefix of every name (links' alias, netns, nft table) the runtime's network code creates. */
export const TAG = 'e2blocal';

function parseIp(s: string): number | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    n = n * 256 + Number(p);
  }
  return n;
}

export function ipString(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** `A.B.C.D/N` → block, or undefined when it is not one (the address is masked to the prefix). */
export function parseCidr(s: string): Cidr | undefined {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(s.trim());
  if (!m) return undefined;
  const ip = parseIp(m[1]!);
  const prefix = Number(m[2]);
  if (ip === undefined || prefix > 32) return undefined;
  return { base: mask(ip, prefix), prefix };
}

function mask(ip: number, prefix: number): number {
  return prefix === 0 ? 0 : (ip & (~0 << (32 - prefix))) >>> 0;
}

export function cidrString(c: Cidr): string {
  return `${ipString(c.base)}/${c.prefix}`;
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  const p = Math.min(a.prefix, b.prefix);
  return mask(a.base, p) === mask(b.base, p);
}

/** Blocks of the link-local range that are not ours to take: RFC 3927 reserves the first and last /24, clouds serve metadata on 169.254.169.254. */
const RESERVED = ['169.254.0.0/24', '169.254.255.0/24', '169.254.169.0/24'].map((s) => parseCidr(s)!);

/**
 * The /24 blocks of `pool` a runtime may claim for its bridge, in random order: none overlapping a
 * route the machine already has (`taken`), nor, when choosing from a wider pool, a reserved block.
 * A pool of /24 or narrower is one block, taken as configured.
 */
export function candidateBlocks(pool: Cidr, taken: Cidr[], random: () => number = Math.random): Cidr[] {
  const size = Math.max(pool.prefix, 24);
  const count = 2 ** (size - pool.prefix);
  const out: Cidr[] = [];
  for (let i = 0; i < count; i++) {
    const block = { base: (pool.base + i * 2 ** (32 - size)) >>> 0, prefix: size };
    if (pool.prefix < 24 && RESERVED.some((r) => overlaps(r, block))) continue;
    if (taken.some((t) => overlaps(t, block))) continue;
    out.push(block);
  }
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Destination blocks of `ip -j route show table all` output, default routes left out. */
export function routeBlocks(json: string): Cidr[] {
  const routes = JSON.parse(json) as { dst?: string }[];
  const out: Cidr[] = [];
  for (const r of routes) {
    if (!r.dst || r.dst === 'default') continue;
    const c = parseCidr(r.dst.includes('/') ? r.dst : `${r.dst}/32`);
    if (c) out.push(c);
  }
  return out;
}

/**
 * Who made a network object: the runtime process (told from a later one with the same pid by its
 * start time) in its pid namespace (a runtime in another one shares the network but not our view
 * of its processes: never judged dead from here).
 */
export interface Owner {
  pidns: string;
  pid: number;
  start: string;
}

/** Inode of this process's pid namespace. */
export function pidNamespace(): string {
  try {
    return /\[(\d+)\]/.exec(readlinkSync('/proc/self/ns/pid'))?.[1] ?? '0';
  } catch {
    return '0';
  }
}

/** This process as an owner. */
export function selfOwner(): Owner {
  return { pidns: pidNamespace(), pid: process.pid, start: processStart(process.pid) ?? '0' };
}

/** Alive, or not ours to judge (made in another pid namespace). */
export function ownerAlive(o: Owner, pidns = pidNamespace()): boolean {
  return o.pidns !== pidns || processStart(o.pid) === o.start;
}

/** `e2blocal_<pidns>_<pid>_<start>_<runtime>` (netns and nft table names, link aliases). */
export function ownerName(o: Owner, runtimeId: string, sep = '_'): string {
  return [TAG, o.pidns, o.pid, o.start, runtimeId].join(sep);
}

export function parseOwnerName(name: string): (Owner & { runtimeId: string }) | undefined {
  const m = /^e2blocal[_-](\d+)[_-](\d+)[_-](\d+)[_-]([a-z0-9]+)/.exec(name);
  return m ? { pidns: m[1]!, pid: Number(m[2]), start: m[3]!, runtimeId: m[4]! } : undefined;
}
