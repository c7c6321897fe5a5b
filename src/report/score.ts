import { CATEGORIES, type Category, type CategoryScore } from './model.js';

/** One target's score inputs: category → input → values by series identity. */
export type ScoreValues = Partial<
  Record<Category, Record<string, { better: 'higher' | 'lower'; values: Record<string, number> }>>
>;

export interface TargetScore {
  score?: number;
  rank?: number;
  coverage: number;
  categories: Record<Category, CategoryScore>;
}

/**
 * The weighted score, as prometheus/rules/score.rules.yml computes it: each value is normalised
 * against the best target for the same series identity (value / best, or best / value when lower
 * is better), averaged into its input, inputs into their category; the score is the weighted mean
 * of the categories a target has data for. A missing category is marked and left out, never 0.
 */
export function scoreTargets(targets: readonly ScoreValues[], weights: Record<Category, number>): TargetScore[] {
  const best = new Map<string, number>();
  for (const t of targets)
    for (const [category, inputs] of Object.entries(t))
      for (const [input, { better, values }] of Object.entries(inputs ?? {}))
        for (const [id, v] of Object.entries(values)) {
          const k = `${category}\u0000${input}\u0000${id}`;
          const b = best.get(k);
          best.set(k, b === undefined ? v : better === 'higher' ? Math.max(b, v) : Math.min(b, v));
        }
  const totalWeight = CATEGORIES.reduce((a, c) => a + weights[c], 0);
  const scored = targets.map((t): TargetScore => {
    const categories = {} as Record<Category, CategoryScore>;
    let sum = 0;
    let covered = 0;
    for (const category of CATEGORIES) {
      const inputs: CategoryScore['inputs'] = {};
      for (const [input, { better, values }] of Object.entries(t[category] ?? {})) {
        const norms = Object.entries(values).map(([id, v]) => {
          const b = best.get(`${category}\u0000${input}\u0000${id}`)!;
          return better === 'higher' ? v / b : b / v;
        });
        if (norms.length) inputs[input] = { normalised: norms.reduce((a, x) => a + x, 0) / norms.length, values };
      }
      const list = Object.values(inputs);
      const score = list.length ? list.reduce((a, x) => a + x.normalised, 0) / list.length : undefined;
      categories[category] = { weight: weights[category], score, missing: score === undefined, inputs };
      if (score !== undefined && weights[category] > 0) {
        sum += weights[category] * score;
        covered += weights[category];
      }
    }
    return {
      score: covered > 0 ? sum / covered : undefined,
      coverage: totalWeight > 0 ? covered / totalWeight : 0,
      categories,
    };
  });
  const order = scored
    .map((s, i) => ({ s, i }))
    .filter((x) => x.s.score !== undefined)
    .sort((a, b) => b.s.score! - a.s.score!);
  order.forEach((x, k) => (x.s.rank = k + 1));
  return scored;
}
