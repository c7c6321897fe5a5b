import { parse, UsageError } from './args.js';

const HELP = `Usage: e2b-bench template build [--force] [--store DIR]

Builds the local sandbox template (debootstrap + e2b-template/packages.txt) once per recipe and
packs it into the template store. Cached: nothing is rebuilt while the recipe is unchanged.

  --force       rebuild even when the store has the artifact
  --store DIR   template store directory (default: the cache directory, or $E2BBENCH_CACHE_DIR)`;

export async function cmdTemplate(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { force: { type: 'boolean' }, store: { type: 'string' } });
  if (values.help) return (process.stdout.write(HELP + '\n'), 0);
  if (positionals[0] !== 'build' || positionals.length !== 1) throw new UsageError('expected: template build');
  const { buildTemplates } = await import('../local/template/build.js');
  const r = await buildTemplates({
    force: values.force,
    store: values.store,
    log: (l) => process.stderr.write(`${l}\n`),
  });
  process.stdout.write(
    r.built
      ? `built ${r.artifact} (${(r.bytes / 2 ** 20).toFixed(1)} MiB) in ${r.seconds.toFixed(0)} s: templates ${r.templates.join(', ')}\n`
      : `template store already has ${r.artifact}: templates ${r.templates.join(', ')}\n`,
  );
  return 0;
}
