/**
 * Just enough PromQL lexing to list the metric selectors of an expression (name + matcher label
 * names). Syntax itself is checked by Prometheus's own parser (promtool check rules); this only has
 * to find names reliably in expressions that already parse.
 */

type Tok =
  | { kind: 'ident'; text: string }
  | { kind: 'string'; text: string }
  | { kind: 'number'; text: string }
  | { kind: 'punct'; text: string };

const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'offset',
  'bool',
  'and',
  'or',
  'unless',
  'atan2',
  'inf',
  'nan',
]);
const LABEL_LIST_KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);

export function tokenize(expr: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  while (i < expr.length) {
    const c = expr[i];
    if (/\s/.test(c)) {
      i++;
    } else if (c === '#') {
      while (i < expr.length && expr[i] !== '\n') i++;
    } else if (c === '"' || c === "'" || c === '`') {
      let j = i + 1;
      while (j < expr.length && expr[j] !== c) j += expr[j] === '\\' && c !== '`' ? 2 : 1;
      toks.push({ kind: 'string', text: expr.slice(i + 1, j) });
      i = j + 1;
    } else if (/[a-zA-Z_:]/.test(c)) {
      let j = i;
      while (j < expr.length && /[a-zA-Z0-9_:]/.test(expr[j])) j++;
      toks.push({ kind: 'ident', text: expr.slice(i, j) });
      i = j;
    } else if (/[0-9.]/.test(c)) {
      // numbers and durations (5m, 1h30m, 1e-9, 0x1f)
      let j = i;
      while (
        j < expr.length &&
        /[0-9a-zA-Z.+\-_]/.test(expr[j]) &&
        !(/[+-]/.test(expr[j]) && !/[eE]/.test(expr[j - 1]))
      )
        j++;
      toks.push({ kind: 'number', text: expr.slice(i, j) });
      i = j;
    } else {
      const two = expr.slice(i, i + 2);
      const op = ['=~', '!~', '!=', '==', '>=', '<='].includes(two) ? two : c;
      toks.push({ kind: 'punct', text: op });
      i += op.length;
    }
  }
  return toks;
}

export interface Matcher {
  label: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
}

export interface Selector {
  name: string;
  /** Label names used in the selector's matchers. */
  labels: string[];
  matchers: Matcher[];
}

/** Every metric selector of an expression: `name{a="x"}` → {name, labels: ['a']}. */
export function selectors(expr: string): Selector[] {
  const toks = tokenize(expr);
  const out: Selector[] = [];
  const matcherLabels = (start: number): { matchers: Matcher[]; end: number; name?: string } => {
    // toks[start] is '{'
    const matchers: Matcher[] = [];
    let name: string | undefined;
    let i = start + 1;
    while (i < toks.length && toks[i].text !== '}') {
      const t = toks[i];
      if (t.kind === 'ident' && toks[i + 1]?.kind === 'punct' && ['=', '!=', '=~', '!~'].includes(toks[i + 1].text)) {
        const value = toks[i + 2]?.kind === 'string' ? toks[i + 2].text : '';
        if (t.text === '__name__') name = value;
        else matchers.push({ label: t.text, op: toks[i + 1].text as Matcher['op'], value });
        i += 3;
      } else i++;
    }
    return { matchers, end: i, name };
  };
  const sel = (name: string, matchers: Matcher[]): Selector => ({
    name,
    labels: matchers.map((m) => m.label),
    matchers,
  });
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i];
    if (t.kind === 'punct' && t.text === '[') {
      while (i < toks.length && toks[i].text !== ']') i++;
      continue;
    }
    if (t.kind === 'punct' && t.text === '{') {
      // a bare {…} selector (name only through __name__)
      const m = matcherLabels(i);
      if (m.name) out.push(sel(m.name, m.matchers));
      i = m.end;
      continue;
    }
    if (t.kind !== 'ident') continue;
    if (LABEL_LIST_KEYWORDS.has(t.text) && toks[i + 1]?.text === '(') {
      while (i < toks.length && toks[i].text !== ')') i++;
      continue;
    }
    if (KEYWORDS.has(t.text.toLowerCase())) continue;
    if (toks[i + 1]?.text === '(') continue; // a function or aggregation
    if (toks[i + 1]?.text === 'by' || toks[i + 1]?.text === 'without') continue; // `sum by (…) (…)`
    let matchers: Matcher[] = [];
    if (toks[i + 1]?.text === '{') {
      const m = matcherLabels(i + 1);
      matchers = m.matchers;
      i = m.end;
    }
    out.push(sel(t.text, matchers));
  }
  return out;
}

/** Grafana's built-in interval variables, as a query would see them. */
const GRAFANA_INTERVALS: Record<string, string> = {
  __rate_interval: '5m',
  __interval: '1m',
  __range: '1h',
};

/**
 * Turns a dashboard expression into plain PromQL: interval variables become durations, and every
 * template variable (used only in =~ matchers) becomes ".*", i.e. "All".
 */
export function substituteGrafanaVars(expr: string): string {
  return expr
    .replace(/\$\{?(__rate_interval|__interval|__range)\}?/g, (_m, v: string) => GRAFANA_INTERVALS[v])
    .replace(/\$\{?[a-zA-Z_][a-zA-Z0-9_]*\}?/g, '.*');
}

/** Template variables a (raw) dashboard expression refers to, and whether each sits in a =~ matcher. */
export function variableUses(expr: string): { name: string; inRegexMatcher: boolean }[] {
  const uses: { name: string; inRegexMatcher: boolean }[] = [];
  const re = /\$\{?([a-zA-Z_][a-zA-Z0-9_]*)\}?/g;
  for (const m of expr.matchAll(re)) {
    if (m[1] in GRAFANA_INTERVALS) continue;
    const before = expr.slice(0, m.index);
    uses.push({ name: m[1], inRegexMatcher: /=~\s*"[^"]*$/.test(before) });
  }
  return uses;
}
