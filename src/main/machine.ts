// The machine: guest memory, the control block, and one piscina worker per vCPU.
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { CONTROL_BYTES, Control, MachineState } from '../shared-mem/layout.js';
import { ringAllDoorbells } from '../shared-mem/doorbell.js';
import { startTicker } from './ticker.js';
import type { BootSpec } from '../cpu-worker/boot.js';
import type { VcpuResult, VcpuTask } from '../cpu-worker/vcpu.js';

export interface MachineConfig {
  cpus: number;
  memBytes: number;
  boot: BootSpec;
}

export type MachineOutcome = { status: number } | { error: string; exitCode: number };

const VCPU_WORKER = fileURLToPath(new URL('../cpu-worker/vcpu.js', import.meta.url));

/** Boots the machine, runs the first program to its end, shuts every vCPU down. */
export async function runMachine(config: MachineConfig): Promise<MachineOutcome> {
  const memory = new SharedArrayBuffer(0, { maxByteLength: config.memBytes });
  const controlBuffer = new SharedArrayBuffer(CONTROL_BYTES);
  const control = new Int32Array(controlBuffer);
  control[Control.NEXT_ID] = 1;
  const pool = new Piscina({
    filename: VCPU_WORKER,
    minThreads: config.cpus,
    maxThreads: config.cpus,
    concurrentTasksPerWorker: 1,
    idleTimeout: Infinity,
    maxQueue: config.cpus,
  });
  const bootTimeMs = Number(process.hrtime.bigint()) / 1e6;
  const tasks: Array<Promise<VcpuResult>> = [];
  for (let cpu = 0; cpu < config.cpus; cpu++) {
    const task: VcpuTask = { cpu, cpus: config.cpus, memory, control: controlBuffer, bootTimeMs, boot: cpu === 0 ? config.boot : null };
    tasks.push(pool.run(task));
  }
  const stopTicker = startTicker(control, config.cpus);
  let outcome: MachineOutcome;
  try {
    const result = await tasks[0];
    outcome = result ?? { error: 'the first vCPU returned no result', exitCode: 125 };
  } finally {
    stopTicker();
    Atomics.store(control, Control.STATE, MachineState.SHUTTING_DOWN);
    ringAllDoorbells(control, config.cpus);
    await Promise.allSettled(tasks);
    await pool.destroy();
  }
  return outcome;
}
