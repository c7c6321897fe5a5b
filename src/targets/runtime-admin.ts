import { ProbeError } from '../probe/reasons.js';

/**
 * What "pause" keeps on a target: `freeze` (cgroup freezer: the sandbox stays in memory, nothing
 * is saved), `checkpoint` (process state written out and restored, gVisor) or `snapshot` (a
 * memory snapshot, as E2B's Firecracker pause). Restore times compare only within one kind.
 */
export type PauseKind = 'freeze' | 'checkpoint' | 'snapshot';
const KINDS: readonly string[] = ['freeze', 'checkpoint', 'snapshot'];

/** The local runtime's admin API (`/admin/...`, bearer `e2b.admin_token`): the calls probes need. */
export class RuntimeAdminClient {
  private readonly base: string;

  constructor(
    /** Target name, for error messages. */
    private readonly target: string,
    apiUrl: string,
    private readonly token?: string,
  ) {
    this.base = apiUrl.replace(/\/$/, '');
  }

  private call(method: string, path: string, signal?: AbortSignal): Promise<Response> {
    return fetch(`${this.base}/admin/${path}`, {
      method,
      headers: this.token ? { authorization: `Bearer ${this.token}` } : {},
      signal,
    });
  }

  /** The pause kind the runtime reports on its status; one that does not say pauses as E2B does. */
  async pauseKind(signal?: AbortSignal): Promise<PauseKind> {
    const res = await this.call('GET', 'status', signal);
    if (!res.ok) return 'snapshot';
    const kind = ((await res.json()) as { pauseKind?: unknown }).pauseKind;
    return typeof kind === 'string' && KINDS.includes(kind) ? (kind as PauseKind) : 'snapshot';
  }

  /** Drops the template from the node cache so the next create fetches and mounts it. */
  async evictTemplate(template: string, signal?: AbortSignal): Promise<void> {
    const res = await this.call('POST', `templates/${encodeURIComponent(template)}/evict`, signal);
    if (!res.ok) {
      const reason = res.status === 401 || res.status === 403 ? 'auth' : 'api_error';
      throw new ProbeError(
        reason,
        `${this.target}: template cache eviction failed: HTTP ${res.status} ${(await res.text()).slice(0, 200)}`,
      );
    }
  }
}
