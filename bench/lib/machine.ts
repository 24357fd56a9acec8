/** The machine a run happened on, for the table's header and docs/performance.md. */
import os from 'node:os';

export interface MachineInfo {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly node: string;
  readonly platform: string;
  readonly memoryGiB: number;
  readonly loadAverage: readonly number[];
}

export function machineInfo(): MachineInfo {
  return {
    cpus: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

export function describeMachine(info: MachineInfo): string {
  return `${info.cpus} CPUs (${info.cpuModel}), Node ${info.node}, ${info.platform}, ${info.memoryGiB} GiB RAM, load average at start ${info.loadAverage.join(' / ')}`;
}
