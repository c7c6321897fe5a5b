import type { Probe } from '../../src/probe/types.js';
import { burst } from './burst.js';
import { coldStart } from './cold-start.js';
import { ops } from './ops.js';
import { snapshotRestore } from './snapshot-restore.js';
import { templateBuild } from './template-build.js';
import { warmStart } from './warm-start.js';

export const lifecycleProbes: Probe[] = [coldStart, warmStart, snapshotRestore, ops, burst, templateBuild];
