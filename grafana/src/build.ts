/**
 * Small typed builders for the dashboards: panels, queries, variables and a left-to-right layout.
 * Everything a dashboard needs is here, so the dashboard files read as a list of panels.
 */
import type {
  CustomVariable,
  Dashboard,
  DataSourceRef,
  FieldDefaults,
  FieldOverride,
  Panel,
  PanelType,
  PromTarget,
  QueryVariable,
  RowPanel,
  Transformation,
  Unit,
  ValueMapping,
  Variable,
} from './model.js';

/** Fixed uids, the same as in grafana/provisioning/datasources/. */
export const PROMETHEUS: DataSourceRef = { type: 'prometheus', uid: 'e2bbench-prometheus' };
export const TRACES: DataSourceRef = { type: 'jaeger', uid: 'e2bbench-traces' };

export const TAG = 'e2b-bench';

// ---- label filters ---------------------------------------------------------------------------

/** Target labels, on every probe metric. */
export const T = 'target=~"$target", cloud_provider=~"$cloud_provider", cloud_region=~"$cloud_region"';
/** Target labels + template (lifecycle families). */
export const TT = `${T}, template=~"$template"`;
/** Target labels + template + start type (start-time families). */
export const TTS = `${TT}, start_type=~"$start_type"`;

/** `metric{filter, extra}` */
export function sel(metric: string, filter: string = T, extra?: string): string {
  return `${metric}{${filter}${extra ? `, ${extra}` : ''}}`;
}

// ---- queries ---------------------------------------------------------------------------------

export interface QueryOpts {
  /** Ask for exemplars (histogram queries): points that link to the run's trace. */
  exemplar?: boolean;
  /** Instant query (tables, bar gauges, stats of the latest value). */
  instant?: boolean;
  format?: PromTarget['format'];
}

export interface Query {
  expr: string;
  legend: string;
  opts: QueryOpts;
}

export function q(expr: string, legend = '', opts: QueryOpts = {}): Query {
  return { expr, legend, opts };
}

function toTargets(queries: Query[], instantDefault: boolean): PromTarget[] {
  return queries.map((query, i) => {
    const instant = query.opts.instant ?? instantDefault;
    return {
      refId: String.fromCharCode(65 + i),
      datasource: PROMETHEUS,
      expr: query.expr,
      legendFormat: query.legend,
      range: !instant,
      instant,
      exemplar: query.opts.exemplar ?? false,
      format: query.opts.format ?? 'time_series',
    };
  });
}

// ---- panels ----------------------------------------------------------------------------------

export type PanelSpec = Omit<Panel, 'id' | 'gridPos'>;

interface Common {
  title: string;
  description?: string;
  unit?: Unit;
  min?: number;
  max?: number;
  decimals?: number;
  queries: Query[];
  overrides?: FieldOverride[];
  thresholds?: { color: string; value: number | null }[];
  mappings?: ValueMapping[];
  noValue?: string;
}

function defaults(c: Common, extra: Partial<FieldDefaults> = {}): FieldDefaults {
  const d: FieldDefaults = { ...extra };
  if (c.unit) d.unit = c.unit;
  if (c.min !== undefined) d.min = c.min;
  if (c.max !== undefined) d.max = c.max;
  if (c.decimals !== undefined) d.decimals = c.decimals;
  if (c.noValue !== undefined) d.noValue = c.noValue;
  if (c.thresholds) d.thresholds = { mode: 'absolute', steps: c.thresholds };
  if (c.mappings) d.mappings = c.mappings;
  return d;
}

function base(type: PanelType, c: Common, instant: boolean): PanelSpec {
  const p: PanelSpec = { type, title: c.title, datasource: PROMETHEUS, targets: toTargets(c.queries, instant) };
  if (c.description) p.description = c.description;
  return p;
}

export function timeseries(
  c: Common & { stack?: boolean; bars?: boolean; legendCalcs?: string[]; log?: boolean },
): PanelSpec {
  return {
    ...base('timeseries', c, false),
    fieldConfig: {
      defaults: defaults(c, {
        color: { mode: 'palette-classic' },
        custom: {
          drawStyle: c.bars ? 'bars' : 'line',
          lineWidth: 1,
          fillOpacity: c.stack || c.bars ? 60 : 10,
          showPoints: 'never',
          spanNulls: true,
          stacking: { mode: c.stack ? 'normal' : 'none', group: 'A' },
          scaleDistribution: c.log ? { type: 'log', log: 10 } : { type: 'linear' },
        },
      }),
      overrides: c.overrides ?? [],
    },
    options: {
      legend: { displayMode: 'table', placement: 'bottom', showLegend: true, calcs: c.legendCalcs ?? ['lastNotNull'] },
      tooltip: { mode: 'multi', sort: 'desc' },
    },
  };
}

export function stat(c: Common & { graph?: boolean }): PanelSpec {
  return {
    ...base('stat', c, true),
    fieldConfig: {
      defaults: defaults(c, { color: { mode: 'thresholds' } }),
      overrides: c.overrides ?? [],
    },
    options: {
      reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
      colorMode: 'value',
      graphMode: c.graph ? 'area' : 'none',
      textMode: 'auto',
      justifyMode: 'auto',
      orientation: 'auto',
    },
  };
}

/** Horizontal bars, one per series: side-by-side comparison of targets. */
export function bars(c: Common): PanelSpec {
  return {
    ...base('bargauge', c, true),
    fieldConfig: {
      defaults: defaults(c, {
        color: { mode: 'palette-classic' },
        ...(c.thresholds ? {} : { thresholds: { mode: 'absolute', steps: [{ color: 'blue', value: null }] } }),
      }),
      overrides: c.overrides ?? [],
    },
    options: {
      displayMode: 'gradient',
      orientation: 'horizontal',
      showUnfilled: true,
      valueMode: 'color',
      namePlacement: 'auto',
      reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
    },
  };
}

/**
 * Instant queries merged into one table: one row per label set, one column per query. `columns`
 * names the value columns in query order; `hide` drops label columns.
 */
export function table(c: Common & { columns: string[]; hide?: string[]; sortBy?: string }): PanelSpec {
  const renameByName: Record<string, string> = {};
  c.columns.forEach((name, i) => {
    renameByName[c.queries.length === 1 ? 'Value' : `Value #${String.fromCharCode(65 + i)}`] = name;
  });
  const excludeByName: Record<string, boolean> = { Time: true, __name__: true, job: true, instance: true };
  for (const h of c.hide ?? []) excludeByName[h] = true;
  const transformations: Transformation[] = [
    { id: 'merge', options: {} },
    { id: 'organize', options: { excludeByName, renameByName, indexByName: {} } },
  ];
  if (c.sortBy) transformations.push({ id: 'sortBy', options: { sort: [{ field: c.sortBy }] } });
  const p = base('table', c, true);
  for (const t of p.targets!) t.format = 'table';
  return {
    ...p,
    fieldConfig: { defaults: defaults(c, { custom: { align: 'auto' } }), overrides: c.overrides ?? [] },
    options: { showHeader: true, cellHeight: 'sm', footer: { show: false, reducer: ['sum'], fields: '' } },
    transformations,
  };
}

/** A latency histogram as a heatmap, with exemplars (each links to the trace of its run). */
export function heatmap(c: Common & { repeat?: string }): PanelSpec {
  const p = base('heatmap', c, false);
  for (const t of p.targets!) {
    t.format = 'heatmap';
    t.exemplar = true;
    t.legendFormat = '{{le}}';
  }
  const spec: PanelSpec = {
    ...p,
    fieldConfig: { defaults: defaults(c, { custom: { scaleDistribution: { type: 'linear' } } }), overrides: [] },
    options: {
      calculate: false,
      cellGap: 1,
      color: { mode: 'scheme', scheme: 'Oranges', steps: 64, exponent: 0.5, fill: 'dark-orange', reverse: false },
      exemplars: { color: 'rgba(255,0,255,0.7)' },
      filterValues: { le: 1e-9 },
      legend: { show: true },
      rowsFrame: { layout: 'auto' },
      tooltip: { mode: 'single', yHistogram: true, showColorScale: false },
      yAxis: { axisPlacement: 'left', unit: c.unit ?? 's', reverse: false },
    },
  };
  if (c.repeat) {
    spec.repeat = c.repeat;
    spec.repeatDirection = 'h';
    spec.maxPerRow = 3;
  }
  return spec;
}

/** 1 / 0 per series over time (probe results). */
export function statusHistory(c: Common): PanelSpec {
  return {
    ...base('status-history', c, false),
    fieldConfig: {
      defaults: defaults(c, {
        color: { mode: 'thresholds' },
        thresholds: {
          mode: 'absolute',
          steps: [
            { color: 'red', value: null },
            { color: 'green', value: 1 },
          ],
        },
        mappings: [okFail],
      }),
      overrides: [],
    },
    options: {
      showValue: 'never',
      rowHeight: 0.9,
      colWidth: 0.9,
      legend: { showLegend: false },
      tooltip: { mode: 'single' },
    },
  };
}

export const okFail: ValueMapping = {
  type: 'value',
  options: {
    '0': { text: 'FAIL', color: 'red', index: 0 },
    '1': { text: 'OK', color: 'green', index: 1 },
  },
};

export const upDown: ValueMapping = {
  type: 'value',
  options: {
    '0': { text: 'DOWN', color: 'red', index: 0 },
    '1': { text: 'UP', color: 'green', index: 1 },
  },
};

// ---- variables -------------------------------------------------------------------------------

const ALL: { selected: boolean; text: string[]; value: string[] } = {
  selected: true,
  text: ['All'],
  value: ['$__all'],
};

function queryVar(name: string, label: string, definition: string): QueryVariable {
  return {
    type: 'query',
    name,
    label,
    datasource: PROMETHEUS,
    definition,
    query: { query: definition, refId: 'PrometheusVariableQueryEditor-VariableQuery' },
    refresh: 2,
    includeAll: true,
    multi: true,
    allValue: '.*',
    current: ALL,
    sort: 1,
    hide: 0,
    options: [],
    regex: '',
  };
}

function customVar(name: string, label: string, values: string[]): CustomVariable {
  return {
    type: 'custom',
    name,
    label,
    query: values.join(','),
    includeAll: true,
    multi: true,
    allValue: '.*',
    current: ALL,
    hide: 0,
    options: [
      { selected: true, text: 'All', value: '$__all' },
      ...values.map((v) => ({ selected: false, text: v, value: v })),
    ],
  };
}

/** target, cloud_provider, cloud_region, template, start_type: chained from e2bbench_target_info. */
export function standardVariables(): Variable[] {
  return [
    queryVar('cloud_provider', 'Cloud', 'label_values(e2bbench_target_info, cloud_provider)'),
    queryVar(
      'cloud_region',
      'Region',
      'label_values(e2bbench_target_info{cloud_provider=~"$cloud_provider"}, cloud_region)',
    ),
    queryVar(
      'target',
      'Target',
      'label_values(e2bbench_target_info{cloud_provider=~"$cloud_provider", cloud_region=~"$cloud_region"}, target)',
    ),
    queryVar('template', 'Template', 'label_values(e2bbench_target_info{target=~"$target"}, template)'),
    customVar('start_type', 'Start type', ['cold', 'warm', 'restore']),
  ];
}

// ---- layout ----------------------------------------------------------------------------------

export interface BoardMeta {
  uid: string;
  /** File name under grafana/dashboards/ (without .json). */
  file: string;
  title: string;
  description: string;
  time?: string;
}

/** Places panels left to right on Grafana's 24-column grid; `row` starts a new titled section. */
export class Board {
  private panels: (Panel | RowPanel)[] = [];
  private x = 0;
  private y = 0;
  private lineHeight = 0;
  private nextId = 1;

  constructor(readonly meta: BoardMeta) {}

  row(title: string): this {
    this.newLine();
    this.panels.push({
      id: this.nextId++,
      type: 'row',
      title,
      collapsed: false,
      gridPos: { h: 1, w: 24, x: 0, y: this.y },
      panels: [],
    });
    this.y += 1;
    return this;
  }

  add(spec: PanelSpec, w = 12, h = 8): this {
    if (w < 1 || w > 24) throw new Error(`${this.meta.uid}: panel "${spec.title}" width ${w} is not in 1..24`);
    if (this.x + w > 24) this.newLine();
    this.panels.push({ id: this.nextId++, ...spec, gridPos: { h, w, x: this.x, y: this.y } });
    this.x += w;
    this.lineHeight = Math.max(this.lineHeight, h);
    return this;
  }

  private newLine(): void {
    this.y += this.lineHeight;
    this.x = 0;
    this.lineHeight = 0;
  }

  build(): Dashboard {
    return {
      uid: this.meta.uid,
      title: this.meta.title,
      description: this.meta.description,
      tags: [TAG],
      editable: true,
      graphTooltip: 1,
      schemaVersion: 39,
      version: 1,
      refresh: '1m',
      time: { from: this.meta.time ?? 'now-24h', to: 'now' },
      timezone: 'browser',
      links: [
        {
          title: 'e2b-bench',
          type: 'dashboards',
          tags: [TAG],
          asDropdown: true,
          includeVars: true,
          keepTime: true,
          icon: 'external link',
          targetBlank: false,
          tooltip: '',
          url: '',
        },
      ],
      annotations: {
        list: [
          {
            builtIn: 1,
            datasource: { type: 'grafana', uid: '-- Grafana --' },
            enable: true,
            hide: true,
            iconColor: 'rgba(0, 211, 255, 1)',
            name: 'Annotations & Alerts',
            type: 'dashboard',
          },
        ],
      },
      templating: { list: standardVariables() },
      panels: this.panels,
    };
  }
}
