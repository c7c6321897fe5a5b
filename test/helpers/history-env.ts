import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

// Each test file keeps its run history in its own temporary database, never in the user's cache
// directory (exporters and CLI processes a test starts inherit this variable).
const dir = mkdtempSync(join(tmpdir(), 'e2bbench-history-'));
process.env.E2BBENCH_HISTORY_PATH = join(dir, 'history.sqlite');
afterAll(() => rmSync(dir, { recursive: true, force: true }));
