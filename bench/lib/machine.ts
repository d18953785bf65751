// The machine a result was measured on (Node side only).
import { cpus, loadavg, platform, release, totalmem } from 'node:os';
import type { MachineReport } from './report';

export function machineReport(): MachineReport {
  const list = cpus();
  return {
    cpu: list[0]?.model.trim() ?? 'unknown',
    cores: list.length,
    memory_bytes: totalmem(),
    os: `${platform()} ${release()}`,
    node: process.version,
    load_average: { start: loadavg()[0]! },
  };
}
