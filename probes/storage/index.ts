import type { Probe } from '../../src/probe/types.js';
import { storageLatency } from './latency.js';
import { storageObjects } from './objects.js';
import { storageTemplateDownload } from './template-download.js';

export const storageProbes: Probe[] = [storageObjects, storageLatency, storageTemplateDownload];
