import type { TargetConfig } from '../config/schema.js';
import { apiUrlOf } from './connection.js';
import { ControlPlaneClient } from './control-plane.js';
import { NomadClient } from './nomad.js';
import { RuntimeAdminClient } from './runtime-admin.js';

/** The orchestrator job of a target's Nomad cluster (`targets[].nomad`). */
export interface NomadAccess {
  client: NomadClient;
  job: string;
  healthyTimeoutMs: number;
}

/**
 * The services of a target beyond the SDK, built from its config once per run so probes never
 * read connection settings or call admin endpoints themselves. Absent = the target has none.
 */
export interface TargetServices {
  /** The control plane's REST API (E2B targets with an API URL). */
  controlPlane?: ControlPlaneClient;
  /**
   * The local runtime's admin API: a target with an API URL that is one (`cloud_provider: local`,
   * an `admin_token`, or the `local-evict` cold-start strategy).
   */
  admin?: RuntimeAdminClient;
  nomad?: NomadAccess;
}

export function servicesOf(t: TargetConfig): TargetServices {
  const api = apiUrlOf(t);
  const n = t.nomad;
  const runtime = t.cloud_provider === 'local' || !!t.e2b?.admin_token || t.cold_start_strategy === 'local-evict';
  return {
    controlPlane: api ? new ControlPlaneClient(api, t.e2b?.api_key) : undefined,
    admin: api && runtime ? new RuntimeAdminClient(t.name, api, t.e2b?.admin_token) : undefined,
    nomad: n
      ? {
          client: new NomadClient({ addr: n.addr, token: n.token, namespace: n.namespace, region: n.region }),
          job: n.job,
          healthyTimeoutMs: n.healthy_timeout,
        }
      : undefined,
  };
}
