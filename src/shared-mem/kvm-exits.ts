// The KVM backend's exit profile: per vCPU and per cause, how many times KVM_RUN returned to
// the worker, how long those KVM_RUNs lasted (guest code, the world switches, and whatever the
// host kernel handled without returning, e.g. shadow-page faults), and how long the worker
// then spent before it entered again or gave the thread back to the run loop (the handler).
// `starling run --exit-stats` prints it at the end (main/exit-stats.ts).
//
// One SharedArrayBuffer of Float64 cells, made with the KVM VM (cpu-worker/kvm/kvm-vm.ts):
// row (cpu, cause) = [count, run ms, host ms], then one cell per vCPU: its syscalls that vCPU
// 0 served through the mailbox, without an exit (cpu-worker/kvm/syscall-mailbox.ts). Guarded
// by single ownership: only vCPU k's worker writes its rows, only vCPU 0's the mailbox cells
// (plain stores); the main thread reads them after the workers ended.
import { MAX_CPUS } from './layout.js';

export const ExitCause = {
  /** The shim's syscall entry. */
  SYSCALL: 0,
  /** #PF through the shim: mapped and retried, or a signal for the guest. */
  PAGE_FAULT: 1,
  /** A kick (EINTR) or the preemption interrupt it queued. */
  PREEMPT: 2,
  /** The shim's routine that writes PTEs taking rights away (munmap, mprotect, exit). */
  PTE_UPDATES: 3,
  /** Any other exception, or `out` to the exit port from guest code. */
  OTHER: 4,
} as const;
export type ExitCause = (typeof ExitCause)[keyof typeof ExitCause];

export const EXIT_CAUSE_NAMES = ['syscall', 'page fault', 'preemption', 'pte updates', 'other'] as const;
const CAUSES = EXIT_CAUSE_NAMES.length;

/** Cells of one (cpu, cause) row. */
export const ExitField = { COUNT: 0, RUN_MS: 1, HOST_MS: 2 } as const;
const FIELDS = 3;

export const KVM_EXITS_BYTES = (MAX_CPUS * CAUSES * FIELDS + MAX_CPUS) * 8;

export function exitCell(cpu: number, cause: number, field: number): number {
  return (cpu * CAUSES + cause) * FIELDS + field;
}

/** The count of vCPU cpu's syscalls served through the mailbox. */
export function mailboxCell(cpu: number): number {
  return MAX_CPUS * CAUSES * FIELDS + cpu;
}

export function readMailboxCalls(buffer: SharedArrayBuffer, cpu: number): number {
  return new Float64Array(buffer)[mailboxCell(cpu)];
}

export interface ExitRow {
  cause: string;
  count: number;
  runMs: number;
  hostMs: number;
}

/** vCPU cpu's rows, in cause order. */
export function readExits(buffer: SharedArrayBuffer, cpu: number): ExitRow[] {
  const cells = new Float64Array(buffer);
  return EXIT_CAUSE_NAMES.map((cause, i) => ({
    cause,
    count: cells[exitCell(cpu, i, ExitField.COUNT)],
    runMs: cells[exitCell(cpu, i, ExitField.RUN_MS)],
    hostMs: cells[exitCell(cpu, i, ExitField.HOST_MS)],
  }));
}
