export { costGauges } from './gauges.js';
export {
  deriveCosts,
  type CostInputs,
  type DerivedCosts,
  type CostComponent,
  type SandboxHourBasis,
} from './derive.js';
export { costInputsFromSamples } from './inputs.js';
export {
  effectivePricing,
  E2B_LIST_RATES,
  E2B_DEFAULT_SANDBOX,
  type EffectivePricing,
  type CostModelKind,
} from './pricing.js';
export { derivedCostSeries, type CostSeries } from './series.js';
export * from './model.js';
