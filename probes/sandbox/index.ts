import type { Probe } from '../../src/probe/types.js';
import { sandboxCodeExec } from './code-exec.js';
import { sandboxContainer } from './container.js';
import { sandboxCpu } from './cpu.js';
import { sandboxDisk } from './disk.js';
import { sandboxIsolation } from './isolation.js';
import { sandboxMemory } from './memory.js';
import { sandboxNetwork } from './network.js';
import { sandboxPackageInstall } from './package-install.js';

export {
  sandboxCodeExec,
  sandboxContainer,
  sandboxCpu,
  sandboxDisk,
  sandboxIsolation,
  sandboxMemory,
  sandboxNetwork,
  sandboxPackageInstall,
};
export { sandboxExec, startInSandbox } from './exec.js';

export const sandboxProbes: Probe[] = [
  sandboxCpu,
  sandboxMemory,
  sandboxDisk,
  sandboxNetwork,
  sandboxCodeExec,
  sandboxPackageInstall,
  sandboxIsolation,
  sandboxContainer,
];
