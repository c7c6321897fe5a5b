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

/** Where a figure means something other than the seed's definition, on purpose, and why. */
const SEED_DIFFERENCES = `## Differs from the seed

Definitions follow the seed's metric tables; these differences are intended.

| figure | the seed | here | why |
|---|---|---|---|
| cold start (\`start_type="cold"\`) | restart the Nomad orchestrator, then create | only after a real cache reset: \`nomad-restart\`, \`local-evict\` or \`fresh-template\`; a target with none (E2B cloud) skips the run as \`unsupported\`; the strategy is \`e2bbench_cold_start_strategy_info\` | a plain create is not cold, and strategies are not comparable silently |
| snapshot restore | marked as not testable | measured; every restore series carries \`pause_kind\` (\`freeze\` cgroup thaw, \`checkpoint\` gVisor, \`snapshot\` E2B); rules, score and dashboards compare within one kind | a thaw keeps the sandbox in memory and is not a snapshot restore |
| percentiles | computed from the run's samples | per run the same (\`_last_seconds\`, linear interpolation R-7, p99 only from 100 samples) with \`n\` and 95% bootstrap intervals (\`p50_ci_low\` … \`p95_ci_high\`); over time from histograms (\`histogram_quantile\`, start buckets 10% apart: within 5% of the exact p95) | a reader sees how many samples a figure rests on; Prometheus keeps histograms, not samples |
| CPU score | \`sysbench cpu\` at its default \`--cpu-max-prime=10000\` | the same default (option \`max_prime\`) | scores stay on the seed's scale |
| memory allocation | allocate 1 GiB, write every byte | \`e2bbench_memory_alloc_seconds\` only for that; a sandbox too small for 1 GiB gets \`e2bbench_memory_alloc_seconds_per_gib{alloc_bytes}\` | an extrapolated figure must not carry the measured name |
| cost per performance | instance monthly cost ÷ host multi-core score | that, as \`basis="host_month"\`, plus \`basis="sandbox_hour"\`: a sandbox-hour's price ÷ the sandbox's multi-thread score, the same definition on every target and the one dashboards compare | E2B cloud has no host to price |
| cost per sandbox-hour | — | from measured density only when the platform stopped the capacity run; a run stopped by our cap or budget gives \`basis="capped_density"\`, kept out of comparisons | our cap is not the platform's capacity |
| density balance | 1 − CV over nodes | only from the control plane's placement over two or more nodes; no per-node series without placement | a balance of one node, or of unknown nodes, is invented |
| isolation | aggressors assumed beside the victim | \`colocated="true\\|false\\|unknown"\` from placement; the score uses \`true\` only | aggressors on another node measure nothing about isolation |
| template build time | the benchmark template built from its Dockerfile (\`make build\`) | \`lifecycle.template_build\`: a small template built on the target's template (a copied file and a RUN step) through E2B's template API as the SDK's \`Template.build\` drives it, request → ready, under a unique name, then deleted | a Dockerfile build times image pulls and package downloads more than the platform; a fixed small build on an existing template compares targets |

## Cardinality of the start histograms

\`e2bbench_sandbox_start_seconds\` and \`e2bbench_sandbox_phase_seconds\` have 70 buckets (73 series
each with \`_sum\` and \`_count\`). One target with one template has 3 start series (cold, warm,
restore) and 10 phase series: 949 histogram series, where the 14 default buckets gave 221 (+728).
\`histogram_buckets\` in the configuration replaces them for every histogram.
`;

export function metricsDoc(): string {
  const rows = Object.entries(CATALOG as Record<string, MetricDef>).map(([name, def]) => {
    const labels = def.perTarget === false ? [...def.labels] : [...TARGET_LABELS, ...def.labels];
    return `| \`${name}\` | ${def.kind} | ${labels.map((l) => `\`${l}\``).join(', ') || '—'} | ${def.help} |`;
  });
  return `# Metrics

Generated from \`exporters/prometheus/catalog.ts\` by \`npm run docs\`; do not edit by hand.

Every probe metric carries \`cloud_provider\` and \`cloud_region\`, and \`target\` (what a target's
probes measured) or \`host\` (host probes: the machine the exporter runs on, with its own cloud labels; \`target\`
too only when a target declared \`host: self\`). Histograms carry a
\`trace_id\` exemplar on every observation (OpenMetrics exposition: send
\`Accept: application/openmetrics-text\`). Units are base units (seconds, bytes, ratios).

| metric | type | labels | meaning |
|---|---|---|---|
${rows.join('\n')}

${SEED_DIFFERENCES}`;
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
    }.${p.defaults.enabled === false ? ' Off by default: it runs where the configuration names it.' : ''}${p.requires?.length ? ` Needs a target with: ${p.requires.join(', ')}.` : ''}${
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
