/**
 * Selectors the integration test accepts without data: an expression (dashboard panel or recording
 * rule) that returns nothing is excused only when one of its selectors, or of the recording rules
 * it reads, matches an entry here. The test prints every expression it excuses and why, and fails
 * when an entry has data after all, so this list can only shrink.
 *
 * An entry matches a selector with the same metric name whose matchers include all of the
 * entry's matchers (e.g. the entry `x{scope="sandbox"}` matches `x{target=~".*", scope="sandbox"}`).
 */
export interface AllowEmpty {
  selector: string;
  reason: string;
}

export const ALLOW_EMPTY: AllowEmpty[] = [
  // Needs a pip index and an npm registry the sandbox can reach: none is reachable in tests.
  {
    selector: 'e2bbench_package_install_seconds',
    reason: 'sandbox.package_install needs a package index; none is reachable from tests',
  },
  // Balance compares nodes; the local runtime is one node, so there is no balance to publish.
  {
    selector: 'e2bbench_capacity_balance_ratio',
    reason: 'capacity.density publishes balance only across two or more nodes; the local runtime is one',
  },
  // The test's capacity run stops at its own small cap, which is no capacity: no sandbox-hour price of
  // work (measured density, utilization), so neither cost per sandbox CPU score nor per 1,000 starts.
  {
    selector: 'e2bbench_capacity_limit_reached{reason!~"cap|budget"}',
    reason: 'capacity.density stops at the test cap (2 sandboxes), never at a platform limit',
  },
  // The seed's 1 GiB allocation does not fit the test templates (<= 1 GiB of memory): the probe
  // publishes e2bbench_memory_alloc_seconds_per_gib with the size it used instead.
  {
    selector: 'e2bbench_memory_alloc_seconds',
    reason: 'sandbox.memory allocates 64 MiB in tests; only a 1 GiB allocation is published under this name',
  },
  // The local template has no OCI runtime (and its sandboxes cannot mount a nested /proc):
  // sandbox.container fails with tool_missing there, by design.
  {
    selector: 'e2bbench_container_start_seconds',
    reason: 'sandbox.container needs crun or runc in the template; the local template has neither',
  },
];
