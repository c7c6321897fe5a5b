import { runTool, type Exec } from '../exec.js';
import { parseContainerRuns } from '../parsers/container.js';
import type { RunOptions } from './options.js';

export const CONTAINER_RUNTIMES = ['crun', 'runc'] as const;
export type ContainerRuntime = (typeof CONTAINER_RUNTIMES)[number];

/**
 * OCI config of the smallest useful container: `/bin/true` in fresh pid, ipc, uts and mount
 * namespaces on a read-only root that shares the caller's /usr (so no image is needed), with its
 * own /proc, /dev and /tmp. A caller other than root gets a user namespace mapping it to root.
 */
export function minimalOciConfig(ids: { uid: number; gid: number }): Record<string, unknown> {
  const rootless = ids.uid !== 0;
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args: ['/bin/true'],
      env: ['PATH=/usr/bin:/bin'],
      cwd: '/',
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'e2bbench',
    mounts: [
      { destination: '/usr', type: 'bind', source: '/usr', options: ['rbind', 'ro', 'nosuid', 'nodev'] },
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'mode=755', 'size=1m'] },
      { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'size=1m'] },
    ],
    linux: {
      namespaces: [
        { type: 'pid' },
        { type: 'ipc' },
        { type: 'uts' },
        { type: 'mount' },
        ...(rootless ? [{ type: 'user' }] : []),
      ],
      ...(rootless
        ? {
            uidMappings: [{ containerID: 0, hostID: ids.uid, size: 1 }],
            gidMappings: [{ containerID: 0, hostID: ids.gid, size: 1 }],
          }
        : {}),
    },
  };
}

// A bundle in a fresh temporary directory (rootfs: /usr mount point, merged-/usr symlinks), then
// `samples` runs timed with bash's $EPOCHREALTIME (no fork around the measured command); the
// directory and every container's state go on exit. crun: no cgroup of its own (rootless, or
// cgroup v1/hybrid machines where it would refuse); runc skips cgroups it may not create.
const SCRIPT = `set -eu
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/rootfs/usr" "$dir/rootfs/proc" "$dir/rootfs/dev" "$dir/rootfs/tmp" "$dir/state"
for l in bin lib lib64 sbin; do ln -s "usr/$l" "$dir/rootfs/$l"; done
printf '%s' "$2" >"$dir/config.json"
flags=()
if [ "$1" = crun ]; then flags=(--cgroup-manager=disabled); fi
for i in $(seq "$3"); do
  s=$EPOCHREALTIME
  "$1" --root "$dir/state" "\${flags[@]}" run --bundle "$dir" "e2bbench-$$-$i" </dev/null >/dev/null
  e=$EPOCHREALTIME
  echo "e2bbench-container $s $e"
done`;

/**
 * Runs the minimal container `samples` times with `runtime` through any Exec (this host, or
 * inside a sandbox) and returns the seconds of each run: create, start, `/bin/true`, exit, delete.
 */
export async function runContainerStarts(
  exec: Exec,
  p: { runtime: ContainerRuntime; samples: number },
  opts: RunOptions,
): Promise<number[]> {
  const ids = await runTool(exec, 'id', ['-u'], { ...opts, timeoutMs: 15_000 });
  const gids = await runTool(exec, 'id', ['-g'], { ...opts, timeoutMs: 15_000 });
  const config = JSON.stringify(minimalOciConfig({ uid: Number(ids.stdout.trim()), gid: Number(gids.stdout.trim()) }));
  const r = await runTool(exec, 'bash', ['-c', SCRIPT, 'container-start', p.runtime, config, String(p.samples)], {
    ...opts,
    timeoutMs: opts.timeoutMs ?? 30_000 + p.samples * 30_000,
  });
  return parseContainerRuns(r.stdout, p.samples);
}
