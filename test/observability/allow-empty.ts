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
];
