import type { TargetConfig } from '../config/schema.js';
import { apiUrlOf } from './connection.js';
import { NomadClient } from './nomad.js';
import { RUN_KEY } from './ownership.js';

/**
 * Node of each running sandbox of one run, by sandbox id: the control plane's `clientID` (the SDK
 * does not expose it), named after its Nomad node when the target has Nomad access. Sandboxes the
 * control plane lists without a node are left out: no placement is better than an invented one.
 */
export async function placementOfRun(
  t: TargetConfig,
  runId: string,
  signal?: AbortSignal,
): Promise<Map<string, string>> {
  const api = apiUrlOf(t);
  if (!api) throw new Error('no control-plane URL to ask for sandbox placement');
  const q = new URLSearchParams({ metadata: `${RUN_KEY}=${runId}`, limit: '1000' });
  const res = await fetch(`${api.replace(/\/$/, '')}/v2/sandboxes?${q}`, {
    headers: t.e2b?.api_key ? { 'X-API-KEY': t.e2b.api_key } : {},
    signal,
  });
  if (!res.ok) throw new Error(`listing sandboxes for their nodes: HTTP ${res.status}`);
  const list = (await res.json()) as { sandboxID?: string; clientID?: string }[];
  const names = new Map<string, string>();
  if (t.nomad) {
    const n = t.nomad;
    for (const node of await new NomadClient({ addr: n.addr, token: n.token }).nodes(signal)) {
      names.set(node.ID, node.Name);
      names.set(node.ID.slice(0, 8), node.Name);
    }
  }
  const out = new Map<string, string>();
  for (const s of list) if (s.sandboxID && s.clientID) out.set(s.sandboxID, names.get(s.clientID) ?? s.clientID);
  return out;
}
