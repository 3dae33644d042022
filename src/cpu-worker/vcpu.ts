// One virtual CPU: a worker thread's run loop. It runs guest threads on a CPU engine,
// serves their syscalls inside the engine's hook, and parks them when they must wait.
import { writeSync, openSync } from 'node:fs';
import { Control, MachineState } from '../shared-mem/layout.js';
import { Doorbells } from '../shared-mem/doorbell.js';
import { Reg, REG_COUNT, type CpuBackend, type StopReason, type SyscallFrame, type SyscallSink } from './backend.js';
import { UnicornBackend } from './unicorn-backend.js';
import { WorkerKernel } from './kernel-context.js';
import { buildSyscallTable } from '../kernel/table.js';
import { dispatch, resume } from '../kernel/dispatch.js';
import type { SyscallTable } from '../kernel/dispatch.js';
import type { Block, Leave, Wait } from '../kernel/syscall.js';
import { Process, Thread } from '../kernel/task.js';
import type { AddressSpace } from '../kernel/mm/address-space.js';
import { FdTable } from '../kernel/files.js';
import { Vfs } from '../kernel/vfs/vfs.js';
import { Strace } from '../kernel/strace.js';
import { openStandardStreams } from '../kernel/sys-file.js';
import { execImage } from '../kernel/exec/exec.js';
import { monotonicMs } from '../kernel/sys-time.js';
import { bootFailure, type BootSpec } from './boot.js';
import { AddressSpace as AddressSpaceImpl } from '../kernel/mm/address-space.js';
import { hostSyscall, scratch } from '../kernel/host/libc.js';

export interface VcpuTask {
  cpu: number;
  cpus: number;
  memory: SharedArrayBuffer;
  control: SharedArrayBuffer;
  bootTimeMs: number;
  /** Present on the vCPU that starts the machine's first program. */
  boot: BootSpec | null;
}

/** What a vCPU task resolves to: the first program's wait status, or null for the others. */
export type VcpuResult = { status: number } | { error: string; exitCode: number } | null;

const SIG = { ILL: 4, TRAP: 5, FPE: 8, SEGV: 11 } as const;
const HOST_POLL = 7;

class Vcpu implements SyscallSink {
  private readonly doorbells: Doorbells;
  private readonly table: SyscallTable;
  private readonly engines = new Map<AddressSpace, CpuBackend>();
  private current: Thread | null = null;
  private pending: Block | Leave | null = null;

  constructor(private readonly kernel: WorkerKernel) {
    this.doorbells = new Doorbells(kernel.control);
    this.table = buildSyscallTable();
  }

  syscall(frame: SyscallFrame): number | null {
    const r = dispatch(this.table, this.current!, frame.nr, frame.args);
    if (typeof r === 'number') return r;
    this.pending = r;
    return null;
  }

  regionFault(addr: number, access: 'read' | 'write' | 'exec'): boolean {
    const t = this.current!;
    return t.mm.engineFault(t.engine!, addr, access);
  }

  private engineFor(mm: AddressSpace): CpuBackend {
    let engine = this.engines.get(mm);
    if (!engine) {
      engine = new UnicornBackend(this);
      mm.attach(engine);
      this.engines.set(mm, engine);
    }
    return engine;
  }

  private retire(mm: AddressSpace): void {
    const engine = this.engines.get(mm);
    if (engine) {
      mm.detach(engine);
      engine.dispose();
      this.engines.delete(mm);
    }
    mm.destroy();
  }

  /** Runs t until its process ends; returns the process's wait status. */
  runToCompletion(t: Thread): number {
    for (;;) {
      const mm = t.mm;
      const engine = this.engineFor(mm);
      t.engine = engine;
      if (t.startRegisters) {
        const regs = new BigInt64Array(REG_COUNT);
        regs[Reg.RIP] = BigInt(t.startRegisters.rip);
        regs[Reg.RSP] = BigInt(t.startRegisters.rsp);
        regs[Reg.EFLAGS] = 0x202n;
        engine.setRegs(regs);
        t.startRegisters = null;
      }
      this.current = t;
      this.pending = null;
      const stop = engine.run();
      const status = this.afterStop(t, engine, stop);
      if (t.mm !== mm) this.retire(mm);
      if (status !== null) {
        this.endProcess(t.process);
        return status;
      }
    }
  }

  /** Handles why the engine stopped; returns a wait status once the process is over. */
  private afterStop(t: Thread, engine: CpuBackend, stop: StopReason): number | null {
    switch (stop.kind) {
      case 'trap':
        return this.finishTrap(t, engine);
      case 'kicked':
        return null;
      case 'fault':
        return this.fatalSignal(t, SIG.SEGV, `segmentation fault at 0x${stop.addr.toString(16)} (${stop.access})`);
      case 'illegal':
        return this.fatalSignal(t, SIG.ILL, `illegal instruction at 0x${stop.rip.toString(16)}`);
      case 'interrupt':
        return this.fatalSignal(t, stop.vector === 0 ? SIG.FPE : stop.vector === 3 ? SIG.TRAP : SIG.SEGV,
          `exception ${stop.vector} at 0x${stop.rip.toString(16)}`);
    }
  }

  private finishTrap(t: Thread, engine: CpuBackend): number | null {
    let pending = this.pending;
    while (pending && pending.kind === 'block') {
      this.waitFor(pending.wait);
      const r = resume(t, pending.resume);
      if (typeof r === 'number') {
        engine.completeSyscall(r);
        return null;
      }
      pending = r;
    }
    if (!pending || pending.why === 'exec') return null;
    const p = t.process;
    p.exitStatus ??= ((t.exitCode ?? 0) & 0xff) << 8;
    return p.exitStatus;
  }

  private fatalSignal(t: Thread, sig: number, what: string): number {
    if (process.env.STARLING_DEBUG) writeSync(2, `starling: pid ${t.process.pid}: ${what}\n`);
    t.kernel.strace?.killed(t, sig);
    t.process.exitStatus = sig;
    return sig;
  }

  private endProcess(p: Process): void {
    for (const mm of [...this.engines.keys()]) this.retire(mm);
    p.files.closeAll();
    const t = [...p.threads][0];
    if (t && p.exitStatus !== null && (p.exitStatus & 0x7f) === 0) t.kernel.strace?.exited(t, p.exitStatus >> 8);
  }

  /** Parks the vCPU until the wait is over. One guest thread per machine until the scheduler lands. */
  private waitFor(wait: Wait): void {
    const deadline = wait.kind === 'sleep' ? wait.deadline : wait.deadline ?? Infinity;
    if (wait.kind === 'fd') {
      const pfd = scratch.bounce(8);
      const dv = new DataView(pfd.view.buffer, pfd.view.byteOffset, 8);
      for (;;) {
        dv.setInt32(0, wait.hostFd, true);
        dv.setInt16(4, wait.events, true);
        dv.setInt16(6, 0, true);
        const left = deadline === Infinity ? -1 : Math.max(0, Math.ceil(deadline - monotonicMs()));
        const r = hostSyscall(HOST_POLL, pfd.address, 1, left);
        if (r !== -4 /* EINTR */) return;
      }
    }
    for (let left = deadline - monotonicMs(); left > 0; left = deadline - monotonicMs()) {
      const ticket = this.doorbells.ticket(this.kernel.cpu);
      if (Atomics.load(this.kernel.control, Control.STATE) !== MachineState.RUNNING) return;
      this.doorbells.wait(this.kernel.cpu, ticket, left);
    }
  }

  idle(): void {
    const control = this.kernel.control;
    while (Atomics.load(control, Control.STATE) === MachineState.RUNNING) {
      const ticket = this.doorbells.ticket(this.kernel.cpu);
      if (Atomics.load(control, Control.STATE) !== MachineState.RUNNING) break;
      this.doorbells.wait(this.kernel.cpu, ticket, Infinity);
    }
  }
}

function openStrace(spec: BootSpec['strace']): Strace | null {
  if (!spec) return null;
  const fd = spec.file ? openSync(spec.file, 'w') : 2;
  return new Strace((line) => writeSync(fd, line + '\n'));
}

/** The piscina task: one per vCPU, alive for the machine's lifetime. */
export default function runVcpu(task: VcpuTask): VcpuResult {
  const control = new Int32Array(task.control);
  const boot = task.boot;
  const vfs = new Vfs(boot?.rootfs ?? '/nonexistent', boot?.binds ?? [], { cpus: task.cpus });
  const kernel = new WorkerKernel(task.cpu, task.cpus, task.memory, control, vfs, openStrace(boot?.strace ?? null), task.bootTimeMs);
  const vcpu = new Vcpu(kernel);
  if (!boot) {
    vcpu.idle();
    return null;
  }
  const pid = kernel.allocateId();
  const files = new FdTable();
  openStandardStreams(files);
  const p = new Process(kernel, pid, 0, new AddressSpaceImpl(kernel.pool, kernel.poolAddress), files, { cwd: boot.cwd, umask: 0o022 });
  const t = new Thread(pid, p, 'starling-init');
  p.threads.add(t);
  try {
    const path = boot.program.includes('/') ? boot.program : vfs.lookupInPath(t, boot.program, pathOf(boot.env));
    if (path === null) return bootFailure(boot.program, 'command not found', 127);
    const old = p.mm;
    execImage(t, path, [boot.program, ...boot.args], boot.env);
    old.destroy();
  } catch (e) {
    return bootFailure(boot.program, e, undefined);
  }
  return { status: vcpu.runToCompletion(t) };
}

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
function pathOf(env: string[]): string {
  return env.find((e) => e.startsWith('PATH='))?.slice(5) ?? DEFAULT_PATH;
}

