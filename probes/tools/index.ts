// Parsers (pure), runners (through an Exec: this host or a sandbox) and probe plumbing for the
// benchmark tools, shared by the host and in-sandbox probes.
export * from './exec.js';
export * from './parsers/text.js';
export * from './parsers/sysbench.js';
export * from './parsers/fio.js';
export * from './parsers/iperf3.js';
export * from './parsers/stress-ng.js';
export * from './parsers/procfs.js';
export * from './parsers/versions.js';
export * from './parsers/memlat.js';
export * from './parsers/curl.js';
export * from './parsers/container.js';
export * from './runners/options.js';
export * from './runners/sysbench.js';
export * from './runners/fio.js';
export * from './runners/iperf3.js';
export * from './runners/stress-ng.js';
export * from './runners/procfs.js';
export * from './runners/versions.js';
export * from './runners/memlat.js';
export * from './runners/curl.js';
export * from './runners/container.js';
export * from './runners/cpu-mhz.js';
export * from './probe-helpers.js';
export * from './runners/files.js';
export * from './disk-plan.js';
