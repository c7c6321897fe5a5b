import type { TargetServices } from './services.js';

/**
 * Node of each running sandbox of one run, by sandbox id: the control plane's `clientID`, named
 * after its Nomad node when the target has Nomad access. Sandboxes the control plane lists without
 * a node are left out: no placement is better than an invented one.
 */
export async function placementOfRun(
  services: TargetServices,
  runId: string,
  signal?: AbortSignal,
): Promise<Map<string, string>> {
  if (!services.controlPlane) throw new Error('no control-plane URL to ask for sandbox placement');
  const list = await services.controlPlane.sandboxesOfRun(runId, signal);
  const names = new Map<string, string>();
  for (const node of (await services.nomad?.client.nodes(signal)) ?? []) {
    names.set(node.ID, node.Name);
    names.set(node.ID.slice(0, 8), node.Name);
  }
  const out = new Map<string, string>();
  for (const s of list) if (s.sandboxID && s.clientID) out.set(s.sandboxID, names.get(s.clientID) ?? s.clientID);
  return out;
}
