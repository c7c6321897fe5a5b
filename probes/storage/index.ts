import type { Probe } from '../../src/probe/types.js';

export const storageProbes: Probe[] = [];
