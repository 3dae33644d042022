import { writeSync } from 'node:fs';
import { Control } from '../shared-mem/layout.js';
import { FramePool } from '../shared-mem/frame-pool.js';
import type { Kernel, SchedulerPort } from '../kernel/task.js';
import type { FutexTable } from '../kernel/futex-table.js';
import type { Vfs } from '../kernel/vfs/vfs.js';
import type { Strace } from '../kernel/strace.js';
import { addressOf } from '../kernel/host/libc.js';
import { AddressSpace } from '../kernel/mm/address-space.js';
import type { NetworkBridge } from '../netbridge/port-map.js';
import type { EventSink } from '../kernel/events.js';
import type { VdsoImage } from '../kernel/exec/vdso.js';

/** The Kernel as vCPU 0, which holds every process's kernel state, sees it. */
export class WorkerKernel implements Kernel {
  readonly pool: FramePool;
  readonly poolAddress: number;
  readonly memBytes: number;
  private readonly warned = new Set<string>();

  constructor(
    readonly cpus: number,
    memory: SharedArrayBuffer,
    readonly control: Int32Array,
    readonly vfs: Vfs,
    readonly strace: Strace | null,
    readonly bootTimeMs: number,
    readonly futexes: FutexTable,
    readonly scheduler: SchedulerPort,
    readonly network: NetworkBridge,
    readonly events: EventSink,
    readonly vdso: VdsoImage | null,
  ) {
    const poolBytes = memory.maxByteLength;
    this.pool = new FramePool(memory, control, (bytes) => events.emit({ event: 'pool-exhausted', bytes, poolBytes }));
    this.poolAddress = addressOf(memory);
    this.memBytes = memory.maxByteLength;
  }

  warnOnce(key: string, message: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    writeSync(2, `starling: ${message}\n`);
  }

  newAddressSpace(): AddressSpace {
    return new AddressSpace(this.pool, this.poolAddress, (mm) => this.scheduler.quiesce(mm));
  }

  allocateId(): number {
    return Atomics.add(this.control, Control.NEXT_ID, 1);
  }

  reserveProcess(): boolean {
    if (Atomics.add(this.control, Control.PROCESS_COUNT, 1) < Atomics.load(this.control, Control.MAX_PROCS)) return true;
    Atomics.sub(this.control, Control.PROCESS_COUNT, 1);
    return false;
  }

  releaseProcess(): void {
    Atomics.sub(this.control, Control.PROCESS_COUNT, 1);
  }
}
