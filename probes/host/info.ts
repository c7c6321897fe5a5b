import { z } from 'zod';
import { defineProbe } from '../../src/probe/types.js';
import {
  hostExec,
  kernelRelease,
  publishVersions,
  readCpuinfo,
  runOptions,
  toolVersionOrMissing,
} from '../tools/index.js';

export const hostInfo = defineProbe({
  name: 'host.info',
  family: 'host',
  description:
    'Facts about the machine the exporter runs on: CPU model, vendor, cores, kernel, benchmark tool versions.',
  defaults: { interval: '1h', timeout: '30s' },
  options: z.object({}).strict(),
  async run(ctx) {
    const exec = hostExec;
    const o = runOptions(ctx);
    const [cpu, kernel, sysbench, fio] = await Promise.all([
      readCpuinfo(exec, o),
      kernelRelease(exec, o),
      toolVersionOrMissing(exec, 'sysbench', o),
      toolVersionOrMissing(exec, 'fio', o),
    ]);
    ctx.gauge(
      'e2bbench_host_info',
      {
        cpu_model: cpu.model,
        cpu_vendor: cpu.vendor,
        cores: String(cpu.cores),
        threads: String(cpu.threads),
        kernel,
        sysbench_version: sysbench,
        fio_version: fio,
      },
      1,
    );
    publishVersions(ctx, { sysbench, fio });
    const { model, vendor, cores, threads, sockets } = cpu;
    ctx.detail('cpu', { model, vendor, cores, threads, sockets, kernel });
  },
});
