import { Template } from 'e2b';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { ProbeError, ProbeSkip } from '../../src/probe/reasons.js';
import { defineProbe, type ProbeContext } from '../../src/probe/types.js';
import { inSandbox } from '../../src/targets/sandbox-errors.js';
import type { ControlPlaneClient } from '../../src/targets/control-plane.js';

const options = z
  .object({
    /** Template to build on (default: the target's template). */
    from_template: z.string().min(1).optional(),
    /** Start a sandbox from each built template and check the steps' effect (not timed). */
    verify: z.boolean().default(true),
  })
  .strict();

/** Where the build puts its files, in a directory only root can write (so the RUN step runs as root). */
const DIR = '/opt/e2bbench-build';
/** Cleanup calls get their own deadline: they run when the run's signal may have fired already. */
const CLEANUP_MS = 60_000;

type Ctx = ProbeContext<z.output<typeof options>>;

/** A sandbox of the built template sees the copied file and the RUN step's output. */
async function verify(ctx: Ctx, name: string, payload: string): Promise<void> {
  const sandbox = await ctx.sandboxes.create({ template: name });
  const out = await inSandbox(sandbox, 'the build check', () =>
    sandbox.commands.run(`cat ${DIR}/payload.txt ${DIR}/step`, { requestTimeoutMs: 60_000 }),
  );
  await ctx.sandboxes.kill(sandbox);
  const want = `${payload}${createHash('sha256').update(payload).digest('hex')}\n`;
  if (out.stdout !== want)
    throw new ProbeError(
      'command_failed',
      `a sandbox of the built template ${name} lacks the build's effect: got ${JSON.stringify(out.stdout.slice(0, 200))}`,
    );
}

/**
 * One build of a small template under a name of its own: the base template plus a copied file
 * (a fresh payload, so no layer of an earlier build can be reused) and a RUN step that hashes it.
 * Timed from the build request until the SDK sees the template ready.
 */
async function buildOnce(ctx: Ctx, api: ControlPlaneClient, from: string, i: number): Promise<number> {
  const name = `e2bbench-build-${randomBytes(6).toString('hex')}`;
  const payload = `${ctx.runId} ${i} ${randomBytes(16).toString('hex')}\n`;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'e2bbench-build-'));
  const made: { id?: string } = {};
  let deleted = false;
  const remove = async () => {
    if (deleted) return;
    const signal = AbortSignal.timeout(CLEANUP_MS);
    // Aborted before the SDK returned the id: the target knows the template by its name.
    const id = made.id ?? (await api.templateIdByName(name, signal));
    if (id) await api.deleteTemplate(id, signal);
    deleted = true;
  };
  ctx.defer(`delete template ${name}`, remove);
  ctx.defer(`remove build context ${dir}`, () => rm(dir, { recursive: true, force: true }));
  await writeFile(path.join(dir, 'payload.txt'), payload);

  const template = Template({ fileContextPath: dir })
    .fromTemplate(from)
    .copy('payload.txt', `${DIR}/payload.txt`, { user: 'root' })
    .runCmd(`sha256sum ${DIR}/payload.txt | cut -d' ' -f1 > ${DIR}/step`, { user: 'root' });
  const { value: built, seconds } = await ctx.phase(
    'template.build',
    () => Template.build(template, name, { ...ctx.sandboxes.connection, signal: ctx.signal }),
    { 'e2b.template.from': from },
  );
  made.id = built.templateId;
  ctx.observe('e2bbench_template_build_seconds', { template: from }, seconds);
  ctx.log(`built ${name} (${built.templateId}) from ${from} in ${seconds.toFixed(2)} s`);

  if (ctx.settings.options.verify) await ctx.phase('template.verify', () => verify(ctx, name, payload));
  await ctx.phase('template.delete', remove);
  return seconds;
}

export const templateBuild = defineProbe({
  name: 'lifecycle.template_build',
  family: 'lifecycle',
  description:
    "Template build time through the target's template API (the e2b SDK's Template.build): a small template from the target's template plus a copied file and a RUN step, built under a unique name, checked in a sandbox, then deleted",
  defaults: { interval: '1h', timeout: '10m', samples: 1 },
  options,
  requires: ['sandbox'],
  async run(ctx) {
    const api = ctx.services.controlPlane;
    if (!api)
      throw new ProbeSkip('not_configured', `${ctx.target.name}: no control-plane API URL to build templates through`);
    // E2B's control plane builds templates; a local runtime says whether it does.
    const support = (await ctx.services.admin?.templateBuilds(ctx.signal)) ?? { supported: true };
    if (!support.supported) throw new ProbeSkip('unsupported', support.reason);
    const from = ctx.settings.options.from_template ?? ctx.target.template;
    const times: number[] = [];
    for (let i = 0; i < ctx.settings.samples; i++) {
      ctx.signal.throwIfAborted();
      times.push(await buildOnce(ctx, api, from, i));
    }
    ctx.detail('build_seconds', times);
  },
});
