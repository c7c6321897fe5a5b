// Generates docs/metrics.md (from the metric catalog) and docs/probes.md (from the probe list and
// their option schemas). test/docs checks the committed files are current: run `npm run docs`.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { CATALOG, TARGET_LABELS, type MetricDef } from '../exporters/prometheus/catalog.js';
import { ALL_PROBES } from '../probes/index.js';

function typeName(s: z.ZodTypeAny): string {
  const d = s._def as {
    typeName: string;
    innerType?: z.ZodTypeAny;
    schema?: z.ZodTypeAny;
    type?: z.ZodTypeAny;
    values?: string[];
  };
  switch (d.typeName) {
    case 'ZodDefault':
    case 'ZodOptional':
      return typeName(d.innerType!);
    case 'ZodEffects':
      return typeName(d.schema!);
    case 'ZodArray':
      return `list of ${typeName(d.type!)}`;
    case 'ZodEnum':
      return d.values!.join(' \\| ');
    default:
      return d.typeName.replace(/^Zod/, '').toLowerCase();
  }
}

function defaultOf(s: z.ZodTypeAny): string {
  const d = s._def as { typeName: string; defaultValue?: () => unknown; innerType?: z.ZodTypeAny };
  if (d.typeName === 'ZodDefault') return `\`${JSON.stringify(d.defaultValue!())}\``;
  if (d.typeName === 'ZodOptional') return '(unset)';
  return '(required)';
}

export function metricsDoc(): string {
  const rows = Object.entries(CATALOG as Record<string, MetricDef>).map(([name, def]) => {
    const labels = def.perTarget === false ? [...def.labels] : [...TARGET_LABELS, ...def.labels];
    return `| \`${name}\` | ${def.kind} | ${labels.map((l) => `\`${l}\``).join(', ') || '—'} | ${def.help} |`;
  });
  return `# Metrics

Generated from \`exporters/prometheus/catalog.ts\` by \`npm run docs\`; do not edit by hand.

Every probe metric carries \`target\`, \`cloud_provider\` and \`cloud_region\`. Histograms carry a
\`trace_id\` exemplar on every observation (OpenMetrics exposition: send
\`Accept: application/openmetrics-text\`). Units are base units (seconds, bytes, ratios).

| metric | type | labels | meaning |
|---|---|---|---|
${rows.join('\n')}
`;
}

export function probesDoc(): string {
  const parts = ALL_PROBES.map((p) => {
    const shape = (p.options as z.AnyZodObject | undefined)?.shape ?? {};
    const opts = Object.entries(shape as Record<string, z.ZodTypeAny>).map(
      ([k, s]) => `| \`${k}\` | ${typeName(s)} | ${defaultOf(s)} |`,
    );
    return `## ${p.name}

${p.description.replace(/\.$/, '')}.

Family \`${p.family}\`; default interval \`${p.defaults.interval}\`, timeout \`${p.defaults.timeout}\`${
      p.defaults.samples ? `, samples ${p.defaults.samples}` : ''
    }.${p.requires?.length ? ` Needs a target with: ${p.requires.join(', ')}.` : ''}${
      p.load?.length
        ? ` Loads: ${p.load.join(', ')}; it runs alone when that is this machine (\`scheduler.exclusive_load\`).`
        : ''
    }
${opts.length ? `\n| option | type | default |\n|---|---|---|\n${opts.join('\n')}\n` : ''}`;
  });
  return `# Probes

Generated from the probe definitions by \`npm run docs\`; do not edit by hand. Every probe also
accepts \`enabled\`, \`interval\`, \`timeout\`, \`samples\` and \`targets\` (see configuration.md).

${parts.join('\n')}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = new URL('../docs/', import.meta.url);
  writeFileSync(new URL('metrics.md', root), metricsDoc());
  writeFileSync(new URL('probes.md', root), probesDoc());
}
