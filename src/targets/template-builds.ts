import { ApiClient, ConnectionConfig } from 'e2b';
import type { TargetConfig } from '../config/schema.js';
import { apiUrlOf, connectionOf } from './connection.js';

export type BuildSupport = { supported: true } | { supported: false; reason: string };

/**
 * Whether the target builds templates through E2B's template API. E2B's own control plane (cloud
 * or self-hosted) does; the local runtime says so on its admin status (its gVisor driver does not).
 */
export async function templateBuildSupport(t: TargetConfig, signal?: AbortSignal): Promise<BuildSupport> {
  const base = apiUrlOf(t);
  if (t.cloud_provider !== 'local' || !base) return { supported: true };
  const res = await fetch(`${base.replace(/\/$/, '')}/admin/status`, {
    headers: t.e2b?.admin_token ? { authorization: `Bearer ${t.e2b.admin_token}` } : {},
    signal,
  });
  // An admin status that does not answer cannot rule builds out: the build itself will tell.
  if (!res.ok) return { supported: true };
  const b = ((await res.json()) as { templateBuilds?: { supported?: unknown; reason?: unknown } }).templateBuilds;
  if (!b) return { supported: false, reason: `${t.name}: the local runtime does not offer template builds` };
  if (b.supported === true) return { supported: true };
  return { supported: false, reason: `${t.name}: ${typeof b.reason === 'string' ? b.reason : 'no template builds'}` };
}

/** The SDK's own API client for the target (the template calls its classes do not wrap). */
function client(t: TargetConfig): ApiClient {
  return new ApiClient(new ConnectionConfig(connectionOf(t)));
}

/** The id of the template named `name`, or undefined when the target has none by that name. */
export async function templateIdByName(
  t: TargetConfig,
  name: string,
  signal?: AbortSignal,
): Promise<string | undefined> {
  const res = await client(t).api.GET('/templates/aliases/{alias}', { params: { path: { alias: name } }, signal });
  return res.data?.templateID;
}

/**
 * Deletes a template (`DELETE /templates/{templateID}`, as E2B's CLI does). True when it was
 * deleted, false when the target had no such template; throws on any other answer.
 */
export async function deleteTemplate(t: TargetConfig, templateId: string, signal?: AbortSignal): Promise<boolean> {
  const res = await client(t).api.DELETE('/templates/{templateID}', {
    params: { path: { templateID: templateId } },
    signal,
  });
  if (res.response.status === 404) return false;
  if (!res.response.ok)
    throw new Error(`delete template ${templateId}: HTTP ${res.response.status} ${JSON.stringify(res.error ?? '')}`);
  return true;
}
