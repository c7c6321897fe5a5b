import type { Probe } from '../../src/probe/types.js';
import { density } from './density.js';

export const capacityProbes: Probe[] = [density];
