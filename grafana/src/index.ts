import type { Board } from './build.js';
import { cost } from './dashboards/cost.js';
import { crossCloud } from './dashboards/crosscloud.js';
import { lifecycle } from './dashboards/lifecycle.js';
import { overview } from './dashboards/overview.js';
import { performance } from './dashboards/performance.js';
import { storage } from './dashboards/storage.js';

/** Every provisioned dashboard, in menu order. */
export const BOARDS: readonly (() => Board)[] = [overview, crossCloud, lifecycle, performance, storage, cost];

/** File name (under grafana/dashboards/) → JSON text, exactly as committed. */
export function renderDashboards(): Map<string, string> {
  const out = new Map<string, string>();
  for (const make of BOARDS) {
    const board = make();
    out.set(`${board.meta.file}.json`, JSON.stringify(board.build(), null, 2) + '\n');
  }
  return out;
}
