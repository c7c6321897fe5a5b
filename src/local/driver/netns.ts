import { execFile, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import {
  candidateBlocks,
  cidrString,
  DEFAULT_SUBNET,
  ipString,
  ownerAlive,
  ownerName,
  parseCidr,
  parseOwnerName,
  routeBlocks,
  selfOwner,
  TAG,
  type Cidr,
  type Owner,
} from './net-plan.js';

export interface SandboxNetworkOptions {
  /** Short id of the runtime ([a-z0-9]{8}): names its bridge and veths. */
  runtimeId: string;
  /** Block the runtime's /24 is taken from. Default 169.254.0.0/16. */
  subnet?: string;
  /** NAT sandboxes' traffic to networks beyond the bridge. Default false: the gateway is all they reach. */
  outbound?: boolean;
  /** Namespaces kept ready (veth plugged, address set) so a start does not wait for them. Default 2. */
  prepared?: number;
  log?: (m: string) => void;
}

/** One sandbox's network: a named netns with `eth0` (its address) paired with a bridge port. */
export interface NetSlot {
  index: number;
  /** Name under /run/netns. */
  netns: string;
  /** Host end of the veth pair (a port of the runtime's bridge). */
  veth: string;
  address: string;
}

export interface NetCounters {
  /** Bytes the sandbox sent (received by its bridge port). */
  sentBytes: number;
  receivedBytes: number;
}

const NETNS_DIR = '/run/netns';

function exec(cmd: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')}: ${String(stderr).trim() || err.message}`));
      else resolve(String(stdout));
    });
    // A tool that fails early closes its stdin: the error is in its exit status, not in EPIPE.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(input ?? '');
  });
}

function execSync(cmd: string, args: string[], input?: string): boolean {
  return (
    spawnSync(cmd, args, { input: input ?? '', stdio: ['pipe', 'ignore', 'ignore'], timeout: 10_000 }).status === 0
  );
}

/**
 * Sandboxes' own network namespaces on a bridge the runtime makes (`e2b<runtime id>`): each sandbox
 * gets `eth0` with an address of the runtime's /24, a default route to the bridge's address (the
 * gateway), and nothing else. The host answers only on the gateway address (an nft table of the
 * runtime rejects the rest), bridge ports are isolated from each other (no sandbox-to-sandbox
 * traffic), and the bridge forwards nothing unless `outbound` is set (then NAT). Every object is
 * named after the runtime process (pid and start time), so `sweepDeadNetworks` removes exactly
 * those of runtimes that died without tearing down.
 */
export class SandboxNetwork {
  readonly bridge: string;
  readonly gateway: string;
  readonly subnet: string;
  private readonly owner: Owner;
  private readonly tag: string;
  private readonly table: string;
  private readonly hosts: number[];
  private readonly free: number[];
  private readonly ready: NetSlot[] = [];
  private readonly live = new Set<NetSlot>();
  private next = 0;
  private filling?: Promise<void>;
  private stopped = false;

  private constructor(
    private readonly o: SandboxNetworkOptions,
    block: Cidr,
  ) {
    this.owner = selfOwner();
    this.tag = ownerName(this.owner, o.runtimeId);
    this.table = this.tag;
    this.bridge = `e2b${o.runtimeId}`;
    this.gateway = ipString(block.base + 1);
    this.subnet = cidrString(block);
    const size = 2 ** (32 - block.prefix);
    this.hosts = [];
    for (let i = 2; i < size - 1; i++) this.hosts.push(block.base + i);
    this.free = [...this.hosts];
  }

  /** Sweeps networks of dead runtimes, then makes the bridge, claims a /24 and loads the nft table. */
  static async start(o: SandboxNetworkOptions): Promise<SandboxNetwork> {
    if (!/^[a-z0-9]{8}$/.test(o.runtimeId)) throw new Error(`runtime id '${o.runtimeId}' must be 8 of [a-z0-9]`);
    const pool = parseCidr(o.subnet ?? DEFAULT_SUBNET);
    if (!pool || pool.prefix > 30) throw new Error(`network subnet '${o.subnet}' is not an IPv4 block of /30 or wider`);
    await sweepDeadNetworks(o.log);
    const bridge = `e2b${o.runtimeId}`;
    const alias = ownerName(selfOwner(), o.runtimeId);
    await exec('ip', ['-batch', '-'], `link add ${bridge} type bridge\nlink set ${bridge} alias ${alias}\n`);
    let net: SandboxNetwork | undefined;
    try {
      // IPv6 off on the bridge: sandboxes would otherwise reach the host on its link-local address.
      writeFileSync(`/proc/sys/net/ipv6/conf/${bridge}/disable_ipv6`, '1');
      await exec('ip', ['link', 'set', bridge, 'up']);
      const taken = routeBlocks(await exec('ip', ['-j', '-4', 'route', 'show', 'table', 'all']));
      for (const block of candidateBlocks(pool, taken)) {
        const gw = `${ipString(block.base + 1)}/${block.prefix}`;
        await exec('ip', ['addr', 'add', gw, 'dev', bridge, 'noprefixroute']);
        // Adding the block's route is the claim: a concurrent runtime that took it first makes it fail.
        try {
          await exec('ip', ['route', 'add', cidrString(block), 'dev', bridge, 'src', ipString(block.base + 1)]);
        } catch {
          await exec('ip', ['addr', 'del', gw, 'dev', bridge]).catch(() => undefined);
          continue;
        }
        net = new SandboxNetwork(o, block);
        break;
      }
      if (!net) throw new Error(`no free /24 left in ${cidrString(pool)} for the sandbox bridge`);
      if (o.outbound) writeFileSync(`/proc/sys/net/ipv4/conf/${bridge}/forwarding`, '1');
      await exec('nft', ['-f', '-'], net.rules());
    } catch (err) {
      await exec('ip', ['link', 'del', bridge]).catch(() => undefined);
      if (net) await exec('nft', ['delete', 'table', 'inet', net.table]).catch(() => undefined);
      throw err;
    }
    net.refill();
    return net;
  }

  /** The runtime's nft table: host reachable on the gateway only, no forwarding unless outbound. */
  private rules(): string {
    const ours = `"e2b${this.o.runtimeId}*"`;
    const lines = [
      `table inet ${this.table} {`,
      `  comment "${TAG}: sandbox network of local runtime ${this.o.runtimeId}"`,
      `  chain input {`,
      `    type filter hook input priority filter - 1; policy accept;`,
      `    iifname ${ours} ip daddr ${this.gateway} accept`,
      `    iifname ${ours} reject with icmpx type admin-prohibited`,
      `  }`,
      `  chain forward {`,
      `    type filter hook forward priority filter - 1; policy accept;`,
      `    iifname ${ours} oifname ${ours} drop`,
    ];
    if (this.o.outbound) {
      lines.push(
        `    oifname ${ours} ct state established,related accept`,
        `    oifname ${ours} drop`,
        `  }`,
        `  chain postrouting {`,
        `    type nat hook postrouting priority srcnat; policy accept;`,
        `    ip saddr ${this.subnet} oifname != ${ours} masquerade`,
      );
    } else {
      lines.push(`    iifname ${ours} reject with icmpx type admin-prohibited`, `    oifname ${ours} drop`);
    }
    lines.push(`  }`, `}`);
    return lines.join('\n') + '\n';
  }

  /**
   * Refuses sandboxes the runtime's own ports at the gateway (the control plane and envd when they
   * listen on every address): a sandbox has no business with the API that runs it.
   */
  async protectPorts(ports: number[]): Promise<void> {
    if (ports.length === 0) return;
    await exec('nft', [
      'insert',
      'rule',
      'inet',
      this.table,
      'input',
      'iifname',
      `e2b${this.o.runtimeId}*`,
      'tcp',
      'dport',
      `{ ${ports.join(', ')} }`,
      'reject',
      'with',
      'tcp',
      'reset',
    ]);
  }

  /** A ready namespace for a sandbox (made now when none is waiting); the stock is topped up behind. */
  async take(): Promise<NetSlot> {
    if (this.stopped) throw new Error('sandbox network is stopped');
    const slot = this.ready.shift() ?? (await this.make());
    this.live.add(slot);
    this.refill();
    return slot;
  }

  /** How many namespaces wait ready. */
  get readyCount(): number {
    return this.ready.length;
  }

  private refill(): void {
    if (this.filling || this.stopped) return;
    this.filling = (async () => {
      while (!this.stopped && this.ready.length < (this.o.prepared ?? 2) && this.free.length > 0) {
        try {
          const slot = await this.make();
          if (this.stopped) await this.destroy(slot);
          else this.ready.push(slot);
        } catch (err) {
          this.o.log?.(`sandbox network: preparing a namespace failed: ${(err as Error).message}`);
          return;
        }
      }
    })().finally(() => (this.filling = undefined));
  }

  private async make(): Promise<NetSlot> {
    const host = this.free.shift();
    if (host === undefined) throw new Error(`no address left in ${this.subnet}`);
    const index = this.next++;
    const n = index.toString(36);
    const slot: NetSlot = {
      index,
      netns: `${ownerName(this.owner, this.o.runtimeId, '-')}-${n}`,
      veth: `${this.bridge}${n}`,
      address: ipString(host),
    };
    try {
      await exec(
        'ip',
        ['-batch', '-'],
        [
          `netns add ${slot.netns}`,
          `link add ${slot.veth} type veth peer name eth0 netns ${slot.netns}`,
          `link set ${slot.veth} alias ${this.tag} master ${this.bridge}`,
          `link set ${slot.veth} type bridge_slave isolated on`,
          `link set ${slot.veth} up`,
        ].join('\n') + '\n',
      );
      const prefix = this.subnet.split('/')[1];
      await exec(
        'ip',
        ['-n', slot.netns, '-batch', '-'],
        [
          `link set lo up`,
          `addr add ${slot.address}/${prefix} dev eth0`,
          `link set eth0 up`,
          `route add default via ${this.gateway}`,
        ].join('\n') + '\n',
      );
    } catch (err) {
      await this.destroy(slot);
      throw err;
    }
    return slot;
  }

  /** Path to give `nsenter --net=`. */
  path(slot: NetSlot): string {
    return `${NETNS_DIR}/${slot.netns}`;
  }

  /** Deletes the veth pair and the namespace's name (the namespace ends with its last process). */
  async release(slot: NetSlot): Promise<void> {
    this.live.delete(slot);
    await this.destroy(slot);
  }

  releaseSync(slot: NetSlot): void {
    this.live.delete(slot);
    execSync('ip', ['link', 'del', slot.veth]);
    execSync('ip', ['netns', 'del', slot.netns]);
    this.free.push(this.hostOf(slot));
  }

  private async destroy(slot: NetSlot): Promise<void> {
    await exec('ip', ['link', 'del', slot.veth]).catch(() => undefined);
    await exec('ip', ['netns', 'del', slot.netns]).catch(() => undefined);
    this.free.push(this.hostOf(slot));
  }

  private hostOf(slot: NetSlot): number {
    return this.hosts.find((h) => ipString(h) === slot.address)!;
  }

  /** Byte counters of the sandbox's veth (from the host end, so a sandbox cannot reset them). */
  counters(slot: NetSlot): NetCounters | undefined {
    try {
      const read = (f: string) => Number(readFileSync(`/sys/class/net/${slot.veth}/statistics/${f}`, 'utf8'));
      return { sentBytes: read('rx_bytes'), receivedBytes: read('tx_bytes') };
    } catch {
      return undefined;
    }
  }

  /** Removes every namespace, veth, the bridge (its address and route with it) and the nft table. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.filling;
    await Promise.all([...this.ready.splice(0), ...this.live].map((s) => this.destroy(s)));
    this.live.clear();
    await exec('ip', ['link', 'del', this.bridge]).catch(() => undefined);
    await exec('nft', ['delete', 'table', 'inet', this.table]).catch(() => undefined);
  }

  stopSync(): void {
    this.stopped = true;
    for (const s of [...this.ready.splice(0), ...this.live]) this.releaseSync(s);
    execSync('ip', ['link', 'del', this.bridge]);
    execSync('nft', ['delete', 'table', 'inet', this.table]);
  }
}

/**
 * Removes the network objects (links by alias, /run/netns names, nft tables) of runtime processes
 * that no longer exist; those of live runtimes, and anything not named by us, are left alone.
 */
export async function sweepDeadNetworks(log?: (m: string) => void): Promise<number> {
  let removed = 0;
  const dead = (name: string | undefined) => {
    const o = name?.startsWith(TAG) ? parseOwnerName(name) : undefined;
    return o !== undefined && !ownerAlive(o);
  };
  const links = JSON.parse(await exec('ip', ['-j', 'link', 'show'])) as { ifname: string; ifalias?: string }[];
  // Ports first, then bridges (deleting a bridge leaves its ports behind).
  const stale = links.filter((l) => dead(l.ifalias)).sort((a, b) => b.ifname.length - a.ifname.length);
  for (const l of stale)
    if (
      await exec('ip', ['link', 'del', l.ifname]).then(
        () => true,
        () => false,
      )
    )
      removed++;
  let names: string[] = [];
  try {
    names = readdirSync(NETNS_DIR);
  } catch {
    // no named namespaces on this machine
  }
  for (const n of names.filter(dead))
    if (
      await exec('ip', ['netns', 'del', n]).then(
        () => true,
        () => false,
      )
    )
      removed++;
  const tables = JSON.parse(await exec('nft', ['-j', 'list', 'tables'])) as {
    nftables: { table?: { family: string; name: string } }[];
  };
  for (const t of tables.nftables) {
    if (!t.table || t.table.family !== 'inet' || !dead(t.table.name)) continue;
    if (
      await exec('nft', ['delete', 'table', 'inet', t.table.name]).then(
        () => true,
        () => false,
      )
    )
      removed++;
  }
  if (removed > 0) log?.(`sandbox network: removed ${removed} leftover objects of runtimes no longer running`);
  return removed;
}
