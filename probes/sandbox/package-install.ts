import { z } from 'zod';
import { ProbeSkip } from '../../src/probe/reasons.js';
import { runOptions, runTool, type Exec, type RunOptions } from '../tools/index.js';
import { measureSandboxes, defineSandboxProbe, type BenchSandbox, type VersionRequest } from './common.js';
import {
  npmInstallArgs,
  parseNpmVersion,
  parsePipVersion,
  pipInstallArgs,
  type PackageManager,
} from './parsers/package-managers.js';

const INSTALL_TIMEOUT_MS = 300_000;

async function managerVersion(exec: Exec, manager: PackageManager, o: RunOptions): Promise<string> {
  if (manager === 'pip') {
    const r = await runTool(exec, 'python3', ['-m', 'pip', '--version'], { ...o, timeoutMs: 30_000 });
    return parsePipVersion(r.stdout || r.stderr);
  }
  const r = await runTool(exec, 'npm', ['--version'], { ...o, timeoutMs: 30_000 });
  return parseNpmVersion(r.stdout);
}

/** One install command of `manager` into fresh directories named after `tag`. */
export function installCommand(
  manager: PackageManager,
  opts: { pip_index_url?: string; npm_registry?: string; pip_packages: string[]; npm_packages: string[] },
  tag: string,
): { cmd: string; args: string[] } {
  if (manager === 'pip') {
    return {
      cmd: 'python3',
      args: pipInstallArgs({
        indexUrl: opts.pip_index_url!,
        target: `/tmp/e2bbench-pip-${tag}`,
        packages: opts.pip_packages,
      }),
    };
  }
  return {
    cmd: 'npm',
    args: npmInstallArgs({
      registry: opts.npm_registry!,
      prefix: `/tmp/e2bbench-npm-${tag}`,
      cache: `/tmp/e2bbench-npm-cache-${tag}`,
      packages: opts.npm_packages,
    }),
  };
}

export const sandboxPackageInstall = defineSandboxProbe({
  name: 'sandbox.package_install',
  description:
    'Inside a sandbox: wall time of `pip install` and `npm install` of small pinned packages against the configured index / registry, into fresh directories with empty caches.',
  defaults: { interval: '30m', timeout: '10m', samples: 3 },
  options: {
    /** PEP 503 simple index URL (e.g. a PyPI mirror); pip is skipped without one. */
    pip_index_url: z.string().url().optional(),
    /** npm registry URL; npm is skipped without one. */
    npm_registry: z.string().url().optional(),
    pip_packages: z.array(z.string().min(1)).min(1).default(['six==1.16.0']),
    npm_packages: z.array(z.string().min(1)).min(1).default(['is-number@7.0.0']),
  },
  load: ['network', 'disk'],
  async run(ctx) {
    const opts = ctx.settings.options;
    const managers: PackageManager[] = [
      ...(opts.pip_index_url ? (['pip'] as const) : []),
      ...(opts.npm_registry ? (['npm'] as const) : []),
    ];
    if (managers.length === 0) {
      throw new ProbeSkip(
        'not_configured',
        'sandbox.package_install: no package index configured (options.pip_index_url and/or options.npm_registry)',
      );
    }
    const o = runOptions(ctx);
    // pip and npm report their versions their own way; python3 through the shared parser.
    const versions = async (sb: BenchSandbox): Promise<VersionRequest> => {
      const extra: Record<string, string> = {};
      for (const m of managers) extra[m] = await managerVersion(sb.exec, m, o);
      return { runtimes: managers.includes('pip') ? ['python'] : [], extra };
    };
    await measureSandboxes(ctx, { versions, raw: 'runs' }, async (sb, m) => {
      for (let i = 0; i < ctx.settings.samples; i++) {
        for (const manager of managers) {
          const { cmd, args } = installCommand(manager, opts, `${sb.index}-${i}`);
          // Timed from here: includes the command round trip (see lifecycle.ops), negligible next to an install.
          const { seconds } = await ctx.phase(
            `bench.${manager}`,
            () => runTool(sb.exec, cmd, args, { ...o, timeoutMs: INSTALL_TIMEOUT_MS }),
            { manager, sandbox: sb.index },
          );
          m.add('e2bbench_package_install_seconds', { manager }, seconds);
          m.keep({ manager, seconds });
        }
      }
    });
  },
});
