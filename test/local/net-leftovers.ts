import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';

/**
 * Everything of one runtime's sandbox network still on the machine: links named after its bridge
 * (the bridge, its veth ports), /run/netns names and nft tables carrying its runtime id.
 */
export function networkLeftovers(bridge: string): string[] {
  const runtimeId = bridge.slice('e2b'.length);
  const links = (JSON.parse(execFileSync('ip', ['-j', 'link', 'show'], { encoding: 'utf8' })) as { ifname: string }[])
    .map((l) => l.ifname)
    .filter((n) => n.startsWith(bridge))
    .map((n) => `link ${n}`);
  let names: string[] = [];
  try {
    names = readdirSync('/run/netns');
  } catch {
    // none
  }
  const netns = names.filter((n) => n.includes(`-${runtimeId}-`)).map((n) => `netns ${n}`);
  const tables = (
    JSON.parse(execFileSync('nft', ['-j', 'list', 'tables'], { encoding: 'utf8' })) as {
      nftables: { table?: { name: string } }[];
    }
  ).nftables.flatMap((t) => (t.table && t.table.name.endsWith(`_${runtimeId}`) ? [`nft table ${t.table.name}`] : []));
  const ports = execFileSync('bridge', ['link', 'show'], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.includes(`master ${bridge} `))
    .map((l) => `bridge port ${l}`);
  return [...links, ...netns, ...tables, ...ports];
}

/** The veth ports currently plugged into a bridge. */
export function bridgePorts(bridge: string): string[] {
  return execFileSync('bridge', ['link', 'show'], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.includes(`master ${bridge} `))
    .map((l) => /^\d+:\s+([^@:\s]+)/.exec(l)?.[1] ?? l);
}
