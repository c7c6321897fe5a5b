import type { Parameters } from 'fast-check';

/**
 * Fixed seeds and bounded run counts for the property-based tests, so a CI run is repeatable and
 * short. FUZZ_SEED replays another seed, FUZZ_RUNS_FACTOR scales every run count (e.g. 20 for a
 * long local hunt). fast-check prints the seed and the shrunk counterexample's path on failure.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20261127);
const FACTOR = Number(process.env.FUZZ_RUNS_FACTOR ?? 1);

/** numRuns per property. */
export const FUZZ = { config: 150, http: 100 };

export function fuzzParams(numRuns: number): Parameters<unknown> {
  return { seed: SEED, numRuns: Math.max(1, Math.round(numRuns * FACTOR)), verbose: 1 };
}
