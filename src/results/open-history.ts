import { join, resolve } from 'node:path';
import type { HistoryConfig } from '../config/schema.js';
import { cacheRoot } from '../local/template/paths.js';
import { RunHistory } from './history.js';

/** `history.path`, else `$E2BBENCH_HISTORY_PATH`, else history.sqlite in the cache directory. */
export function historyPath(cfg: HistoryConfig, env: NodeJS.ProcessEnv = process.env): string {
  if (cfg.path) return resolve(cfg.path);
  if (env.E2BBENCH_HISTORY_PATH) return resolve(env.E2BBENCH_HISTORY_PATH);
  return join(cacheRoot(env), 'history.sqlite');
}

export function openHistory(
  cfg: HistoryConfig,
  opts: { env?: NodeJS.ProcessEnv; log?: (line: string) => void } = {},
): RunHistory {
  return RunHistory.open({ path: historyPath(cfg, opts.env), retentionMs: cfg.retention, log: opts.log });
}
