import type { TargetConfig } from '../config/schema.js';
import { apiUrlOf } from './connection.js';

/**
 * What "pause" keeps on a target: `freeze` (cgroup freezer: the sandbox stays in memory, nothing
 * is saved), `checkpoint` (process state written out and restored, gVisor) or `snapshot` (a
 * memory snapshot, as E2B's Firecracker pause). Restore times compare only within one kind.
 */
export type PauseKind = 'freeze' | 'checkpoint' | 'snapshot';
const KINDS: readonly string[] = ['freeze', 'checkpoint', 'snapshot'];

/**
 * The kind the target reports: the local runtime says so on its admin status; targets that do not
 * say are E2B's own control plane, whose pause is a memory snapshot.
 */
export async function pauseKindOf(t: TargetConfig, signal?: AbortSignal): Promise<PauseKind> {
  const base = apiUrlOf(t);
  if (t.cloud_provider !== 'local' || !base) return 'snapshot';
  const res = await fetch(`${base.replace(/\/$/, '')}/admin/status`, {
    headers: t.e2b?.admin_token ? { authorization: `Bearer ${t.e2b.admin_token}` } : {},
    signal,
  });
  if (!res.ok) return 'snapshot';
  const kind = ((await res.json()) as { pauseKind?: unknown }).pauseKind;
  return typeof kind === 'string' && KINDS.includes(kind) ? (kind as PauseKind) : 'snapshot';
}
