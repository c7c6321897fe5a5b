/**
 * Timeouts of tests that run probes in real sandboxes. The slowest of them (sandbox.cpu on two
 * templates) takes about 20 s alone on a 2-core machine; under the full suite two test files share
 * those cores with the sandboxes they start, so budget a run several times that. A test that still
 * times out must not take the next one down with it: see `settle()` in ./exporter.ts.
 */
export const SANDBOX_TEST_TIMEOUT_MS = 240_000;
