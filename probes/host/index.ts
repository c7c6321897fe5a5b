import type { Probe } from '../../src/probe/types.js';
import { hostCpu } from './cpu.js';
import { hostDisk } from './disk.js';
import { hostHugepages } from './hugepages.js';
import { hostInfo } from './info.js';
import { hostInternet } from './internet.js';
import { hostMemory } from './memory.js';
import { hostNetwork } from './network.js';

export { hostCpu, hostDisk, hostHugepages, hostInfo, hostInternet, hostMemory, hostNetwork };

export const hostProbes: Probe[] = [hostInfo, hostCpu, hostMemory, hostDisk, hostNetwork, hostInternet, hostHugepages];
