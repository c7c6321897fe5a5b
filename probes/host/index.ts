import type { Probe } from '../../src/probe/types.js';

export const hostProbes: Probe[] = [];
