import { z } from 'zod';
import { ProbeError } from '../../src/probe/reasons.js';
import {
  bench,
  CONTAINER_RUNTIMES,
  runContainerStarts,
  runOptions,
  toolVersion,
  type ContainerRuntime,
  type Exec,
  type RunOptions,
} from '../tools/index.js';
import { measureSandboxes, defineSandboxProbe } from './common.js';

/** The configured runtime, or the first of crun, runc the sandbox has; none → tool_missing. */
async function findRuntime(
  exec: Exec,
  wanted: ContainerRuntime | 'auto',
  o: RunOptions,
): Promise<{ runtime: ContainerRuntime; version: string }> {
  const candidates = wanted === 'auto' ? CONTAINER_RUNTIMES : [wanted];
  for (const runtime of candidates) {
    try {
      return { runtime, version: await toolVersion(exec, runtime, o) };
    } catch (err) {
      if (!(err instanceof ProbeError && err.reason === 'tool_missing')) throw err;
    }
  }
  throw new ProbeError(
    'tool_missing',
    `no container runtime in the sandbox (${candidates.join(' or ')}): install the Debian package ${candidates[0]} in the template`,
  );
}

export const sandboxContainer = defineSandboxProbe({
  name: 'sandbox.container',
  description:
    "Container start inside a sandbox (the seed's apps row): the template's OCI runtime (crun or runc) runs a minimal container (/bin/true in its own pid, ipc, uts and mount namespaces, rootless in a user namespace, on a read-only root sharing the sandbox's /usr, so no image or registry is needed); seconds from `run` to the container deleted, median of the samples.",
  // Opt-in: stock templates have no container runtime, and the sandbox must allow nested mounts.
  defaults: { interval: '30m', timeout: '5m', samples: 5, enabled: false },
  options: {
    /** OCI runtime to run; `auto`: crun, else runc. */
    runtime: z.enum(['auto', ...CONTAINER_RUNTIMES]).default('auto'),
  },
  load: ['cpu'],
  async run(ctx) {
    const opts = ctx.settings.options;
    const o = runOptions(ctx);
    let found: { runtime: ContainerRuntime; version: string } | undefined;
    const versions = async (sb: { exec: Exec }) => {
      found = await findRuntime(sb.exec, opts.runtime, o);
      return { extra: { [found.runtime]: found.version } };
    };
    await measureSandboxes(ctx, { versions, raw: 'runs' }, async (sb, m) => {
      const runtime = found?.runtime ?? (await findRuntime(sb.exec, opts.runtime, o)).runtime;
      const seconds = await bench(
        ctx,
        runtime,
        () => runContainerStarts(sb.exec, { runtime, samples: ctx.settings.samples }, o),
        { sandbox: sb.index },
      );
      for (const s of seconds) m.add('e2bbench_container_start_seconds', { runtime }, s);
      m.keep({ runtime, seconds });
    });
  },
});
