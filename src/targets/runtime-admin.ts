import { ProbeError } from '../probe/reasons.js';

/**
 * What "pause" keeps on a target: `freeze` (cgroup freezer: the sandbox stays in memory, nothing
 * is saved), `checkpoint` (process state written out and restored, gVisor) or `snapshot` (a
 * memory snapshot, as E2B's Firecracker pause). Restore times compare only within one kind.
 */
export type PauseKind = 'freeze' | 'checkpoint' | 'snapshot';
const KINDS: readonly string[] = ['freeze', 'checkpoint', 'snapshot'];

/** Whether a target builds templates through E2B's template API, and if not why. */
export type BuildSupport = { supported: true } | { supported: false; reason: string };

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

  /**
   * Whether the runtime builds templates (its status says; its gVisor driver does not). A status
   * that does not answer cannot rule builds out: the build itself will tell.
   */
  async templateBuilds(signal?: AbortSignal): Promise<BuildSupport> {
    const res = await this.call('GET', 'status', signal);
    if (!res.ok) return { supported: true };
    const b = ((await res.json()) as { templateBuilds?: { supported?: unknown; reason?: unknown } }).templateBuilds;
    if (!b) return { supported: false, reason: `${this.target}: the local runtime does not offer template builds` };
    if (b.supported === true) return { supported: true };
    const why = typeof b.reason === 'string' ? b.reason : 'no template builds';
    return { supported: false, reason: `${this.target}: ${why}` };
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
