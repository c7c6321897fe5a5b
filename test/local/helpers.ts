import { Sandbox, type SandboxOpts } from 'e2b';
import { readFileSync } from 'node:fs';
import { startLocalRuntime, type LocalRuntime, type LocalRuntimeOptions } from '../../src/local/index.js';

/** Root is needed for namespaces, mounts and cgroups. */
export const canRunSandboxes = process.getuid?.() === 0;

export interface RuntimeFixture {
  rt: LocalRuntime;
  /** Connection options for the unmodified SDK. */
  conn: { apiKey: string; apiUrl: string; sandboxUrl: string };
  create(opts?: Partial<SandboxOpts> & { template?: string }): Promise<Sandbox>;
  /** Kill everything the test created (ignoring ones already gone) and stop the runtime. */
  stop(): Promise<void>;
  admin(method: string, path: string, body?: unknown): Promise<Response>;
}

export async function startFixture(opts: LocalRuntimeOptions = {}): Promise<RuntimeFixture> {
  const rt = await startLocalRuntime({ templates: 'host', ...opts });
  const conn = { apiKey: rt.apiKey, apiUrl: rt.apiUrl, sandboxUrl: rt.sandboxUrl };
  const created: Sandbox[] = [];
  return {
    rt,
    conn,
    async create(o = {}) {
      const { template, ...rest } = o;
      const sb = template
        ? await Sandbox.create(template, { ...conn, ...rest })
        : await Sandbox.create({ ...conn, ...rest });
      created.push(sb);
      return sb;
    },
    async stop() {
      await Promise.all(created.map((sb) => sb.kill().catch(() => undefined)));
      await rt.stop();
    },
    admin(method, path, body) {
      return fetch(`${rt.apiUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${rt.adminToken}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    },
  };
}

/** Lines of /proc/mounts mentioning `needle`. */
export function mountsWith(needle: string): string[] {
  return readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .filter((l) => l.includes(needle));
}
