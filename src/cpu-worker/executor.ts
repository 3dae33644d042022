// A vCPU other than vCPU 0: it executes guest threads that vCPU 0 lends it through its
// execution slot (shared-mem/exec-slot.ts) and gives each back at its next trap (a syscall, a
// fault, a preemption). It keeps one CPU engine per address space it has run, mapping regions
// lazily from the region list vCPU 0 sent with the thread.
import { Control, MachineState } from '../shared-mem/layout.js';
import { ExecSlot, HAND_OVER_SPIN_MS, SlotState, spinUntil, type EngineRegion } from '../shared-mem/exec-slot.js';
import { ringDoorbell } from '../shared-mem/doorbell.js';
import { TICK_MS, requestPreempt } from '../shared-mem/preempt.js';
import type { CpuBackend, SyscallFrame, SyscallSink } from './backend.js';
import type { EngineFactory } from './engines.js';
import { allows, EngineMappings, regionAt } from '../kernel/mm/engine-mappings.js';
import { IdlePoll } from './idle-poll.js';

const KERNEL_CPU = 0;

/** One address space as this vCPU sees it: its engine and the regions it may map. */
class LentSpace {
  /** Sorted by start, as AddressSpace.engineRegions gives them. */
  regions: EngineRegion[] = [];
  readonly mapped: EngineMappings<EngineRegion>;

  constructor(readonly engine: CpuBackend) {
    this.mapped = new EngineMappings(engine);
  }

  /** Takes a new region list: regions that changed (or whose code changed) leave the engine. */
  update(regions: EngineRegion[]): void {
    const key = (r: EngineRegion) => `${r.start}:${r.end}:${r.serial}`;
    const current = new Set(regions.map(key));
    for (const r of this.mapped.regions()) if (!current.has(key(r))) this.mapped.unmap(r);
    const kept = new Map(this.mapped.regions().map((r) => [key(r), r]));
    // Keep the objects already mapped, so that EngineMappings still knows them.
    this.regions = regions.map((r) => kept.get(key(r)) ?? r);
  }

  find(addr: number): EngineRegion | undefined {
    return regionAt(this.regions, addr);
  }
}

export class Executor implements SyscallSink {
  private readonly slot: ExecSlot;
  private readonly spaces = new Map<number, LentSpace>();
  private space: LentSpace | null = null;
  private readonly poll = new IdlePoll();

  constructor(private readonly cpu: number, private readonly control: Int32Array, slots: SharedArrayBuffer, private readonly engineKind: EngineFactory) {
    this.slot = new ExecSlot(slots, cpu);
  }

  /** Runs lent threads until the machine shuts down. */
  run(): void {
    while (this.running()) {
      if (this.slot.state === SlotState.ASSIGNED) this.runLent();
      else this.awaitThread();
    }
    for (const s of this.spaces.values()) s.engine.dispose();
  }

  private running(): boolean {
    return Atomics.load(this.control, Control.STATE) === MachineState.RUNNING;
  }

  /**
   * Between threads: polls briefly (a served syscall's thread comes back within microseconds),
   * then sleeps; when vCPU 0 expects a wake for this vCPU (the thread it ran waits for another
   * thread), polls for it up to the adaptive window (IdlePoll). After a tick without work it
   * goes idle, so that a vCPU with nothing to run costs the host nothing.
   */
  private awaitThread(): void {
    const slot = this.slot, since = performance.now();
    if (spinUntil(() => slot.state === SlotState.ASSIGNED, HAND_OVER_SPIN_MS)) return;
    let polled = false, idle = false;
    while (this.running()) {
      if (!polled && slot.wakeExpected) {
        polled = true;
        if (spinUntil(() => slot.state === SlotState.ASSIGNED, this.poll.windowMs - (performance.now() - since))) {
          return this.poll.note(performance.now() - since, true);
        }
      }
      if (slot.awaitAssignment(idle ? Infinity : TICK_MS)) {
        if (polled) this.poll.note(performance.now() - since, false);
        return;
      }
      if (!idle && performance.now() - since >= TICK_MS) {
        this.engineKind.idle();
        idle = true;
      }
    }
  }

  private runLent(): void {
    const slot = this.slot;
    for (const id of slot.retiredIds()) {
      this.spaces.get(id)?.engine.dispose();
      this.spaces.delete(id);
    }
    let space = this.spaces.get(slot.mmId);
    if (!space) {
      space = new LentSpace(this.engineKind.create(this, false));
      this.spaces.set(slot.mmId, space);
    }
    const regions = slot.regions();
    if (regions && !space.engine.sharedMappings) space.update(regions);
    this.space = space;
    space.engine.importRegisters(slot.context);
    slot.markRunning();
    const stop = space.engine.run();
    Atomics.store(this.control, Control.PREEMPT_REQUEST_BASE + this.cpu, 0);
    space.engine.exportRegisters(slot.context);
    slot.giveBack(stop);
    // vCPU 0 serves the trap: stop whatever it is executing and wake it if it sleeps.
    requestPreempt(this.control, KERNEL_CPU);
    ringDoorbell(this.control, KERNEL_CPU);
  }

  /** Every syscall goes to vCPU 0, which holds the kernel state. */
  syscall(_frame: SyscallFrame): number | null {
    return null;
  }

  regionFault(addr: number, access: 'read' | 'write' | 'exec'): boolean {
    const space = this.space!;
    if (space.engine.sharedMappings) return false; // vCPU 0 maps, when the thread comes back
    const r = space.find(addr);
    if (!r || !allows(r.prot, access) || space.mapped.has(r)) return false;
    space.mapped.map(r, r.prot, r.hostAddress);
    return true;
  }
}
