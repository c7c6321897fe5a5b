/**
 * The subset of Grafana's dashboard JSON model (schemaVersion 39, Grafana 10.4 … 12) that our
 * dashboards use. Typed so that a misspelt option is a compile error, not a silently ignored key.
 */

export interface DataSourceRef {
  type: 'prometheus' | 'jaeger';
  uid: string;
}

export interface GridPos {
  h: number;
  w: number;
  x: number;
  y: number;
}

export interface PromTarget {
  refId: string;
  datasource: DataSourceRef;
  expr: string;
  legendFormat: string;
  range: boolean;
  instant: boolean;
  exemplar: boolean;
  format: 'time_series' | 'table' | 'heatmap';
  interval?: string;
}

export type Unit =
  | 's'
  | 'percentunit'
  | 'short'
  | 'none'
  | 'bytes'
  | 'binBps'
  | 'iops'
  | 'pps'
  | 'currencyUSD'
  | 'dateTimeFromNow'
  | `suffix:${string}`;

export interface Threshold {
  color: string;
  value: number | null;
}

export interface ValueMapping {
  type: 'value';
  options: Record<string, { text: string; color: string; index: number }>;
}

export interface FieldDefaults {
  unit?: Unit;
  min?: number;
  max?: number;
  decimals?: number;
  displayName?: string;
  noValue?: string;
  color?: { mode: 'palette-classic' | 'thresholds' | 'continuous-GrYlRd' | 'continuous-RdYlGr' };
  thresholds?: { mode: 'absolute' | 'percentage'; steps: Threshold[] };
  mappings?: ValueMapping[];
  custom?: Record<string, unknown>;
}

export interface FieldOverride {
  matcher: { id: 'byName' | 'byRegexp' | 'byFrameRefID'; options: string };
  properties: { id: string; value: unknown }[];
}

export interface Transformation {
  id: 'merge' | 'organize' | 'groupingToMatrix' | 'sortBy' | 'labelsToFields' | 'filterFieldsByName';
  options: Record<string, unknown>;
}

export type PanelType = 'timeseries' | 'stat' | 'table' | 'heatmap' | 'bargauge' | 'status-history' | 'text';

export interface Panel {
  id: number;
  type: PanelType;
  title: string;
  description?: string;
  gridPos: GridPos;
  datasource?: DataSourceRef;
  targets?: PromTarget[];
  fieldConfig?: { defaults: FieldDefaults; overrides: FieldOverride[] };
  options?: Record<string, unknown>;
  transformations?: Transformation[];
  repeat?: string;
  repeatDirection?: 'h' | 'v';
  maxPerRow?: number;
}

export interface RowPanel {
  id: number;
  type: 'row';
  title: string;
  collapsed: false;
  gridPos: GridPos;
  panels: [];
}

export interface VariableOption {
  selected: boolean;
  text: string | string[];
  value: string | string[];
}

export interface QueryVariable {
  type: 'query';
  name: string;
  label: string;
  datasource: DataSourceRef;
  definition: string;
  query: { query: string; refId: string };
  refresh: 1 | 2;
  includeAll: true;
  multi: true;
  allValue: '.*';
  current: VariableOption;
  sort: 1;
  hide: 0;
  options: [];
  regex: '';
}

export interface CustomVariable {
  type: 'custom';
  name: string;
  label: string;
  query: string;
  includeAll: true;
  multi: true;
  allValue: '.*';
  current: VariableOption;
  hide: 0;
  options: VariableOption[];
}

export type Variable = QueryVariable | CustomVariable;

export interface DashboardLink {
  title: string;
  type: 'dashboards';
  tags: string[];
  asDropdown: boolean;
  includeVars: boolean;
  keepTime: boolean;
  icon: 'external link';
  targetBlank: false;
  tooltip: '';
  url: '';
}

export interface Dashboard {
  uid: string;
  title: string;
  description: string;
  tags: string[];
  editable: boolean;
  graphTooltip: 0 | 1 | 2;
  schemaVersion: number;
  version: number;
  refresh: string;
  time: { from: string; to: string };
  timezone: 'browser' | 'utc';
  links: DashboardLink[];
  annotations: { list: Record<string, unknown>[] };
  templating: { list: Variable[] };
  panels: (Panel | RowPanel)[];
}
