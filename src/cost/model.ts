/**
 * The cost model as pure functions. The same arithmetic is written as Prometheus recording rules in
 * prometheus/rules/cost.rules.yml; test/cost checks that both give the same numbers.
 */

/** Hours in a billing month, as cloud price lists use it (8,760 h / 12). */
export const HOURS_PER_MONTH = 730;

/** Object storage is billed per GB-month where a GB is 2^30 bytes (AWS, GCP and Azure alike). */
export const BYTES_PER_BILLING_GB = 2 ** 30;

/** Instance cost of the cluster per month: hourly price × 730 × nodes. */
export function instanceMonthlyUsd(hourlyUsd: number, nodes: number): number {
  return hourlyUsd * HOURS_PER_MONTH * nodes;
}

/** Local disk cost per month: GB per node × price per GB-month × nodes. */
export function localDiskMonthlyUsd(gbPerNode: number, usdPerGbMonth: number, nodes: number): number {
  return gbPerNode * usdPerGbMonth * nodes;
}

/** Object storage cost per month of `bytes` kept in a bucket. */
export function objectStorageMonthlyUsd(bytes: number, usdPerGbMonth: number): number {
  return (bytes / BYTES_PER_BILLING_GB) * usdPerGbMonth;
}

/** List price of one sandbox per minute: vCPU × rate + memory GiB × rate. */
export function listPriceUsdPerMinute(
  vcpu: number,
  memoryGiB: number,
  vcpuMinuteUsd: number,
  gibMinuteUsd: number,
): number {
  return vcpu * vcpuMinuteUsd + memoryGiB * gibMinuteUsd;
}

/** One sandbox running all month at list price. */
export function listPriceMonthlyUsd(usdPerMinute: number): number {
  return usdPerMinute * 60 * HOURS_PER_MONTH;
}

/** Cost of one sandbox-hour when the cluster runs `sandboxes` at once all the time. */
export function sandboxHourUsd(monthlyUsd: number, sandboxes: number): number {
  return monthlyUsd / HOURS_PER_MONTH / sandboxes;
}

/** Cost of one sandbox-hour when the cluster runs on average `utilization` of its measured density. */
export function sandboxHourUsdAtUtilization(monthlyUsd: number, maxSandboxes: number, utilization: number): number {
  return sandboxHourUsd(monthlyUsd, maxSandboxes * utilization);
}

/** A price (a sandbox-hour, or an instance-month) per unit of multi-thread CPU score (USD per events/s). */
export function costPerCpuScore(usd: number, eventsPerSecond: number): number {
  return usd / eventsPerSecond;
}

/**
 * Cost of 1,000 sandbox starts: the sandbox time spent starting (paid capacity that does no work),
 * 1,000 × start seconds at the price of a sandbox-hour.
 */
export function costPer1000Starts(startSeconds: number, sandboxHourPriceUsd: number): number {
  return (1000 * startSeconds * sandboxHourPriceUsd) / 3600;
}
