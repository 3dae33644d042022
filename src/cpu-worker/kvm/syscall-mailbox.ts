// One vCPU's slot in an address space's syscall mailbox (shared-mem/kvm-area.ts, SyscallSlot;
// the guest's side is the stub in shim.S). On PVM every exit to the host costs about 30 us
// (../shared/KVM.md), so a thread executing on another vCPU publishes its syscall here and
// spins while vCPU 0's worker, which holds the kernel state, polls and serves it in place:
// 2.3-3.5 us for a getppid (PERFORMANCE.md). The host side is in two places: vCPU 0's worker takes and
// answers requests (server), and the worker running the thread resolves a request that an
// interrupt caught in the stub (executor).
import { MailboxState, SyscallSlot } from '../../shared-mem/kvm-area.js';
import { Control } from '../../shared-mem/layout.js';
import { mailboxCell } from '../../shared-mem/kvm-exits.js';
import type { RemoteSyscallSlot, SyscallFrame } from '../backend.js';

export class MailboxSlot implements RemoteSyscallSlot {
  private readonly state: number;
  private readonly polling: number;
  private readonly at: number;

  /** counts: the exit profile's cells (shared-mem/kvm-exits.ts), where answered calls are counted. */
  constructor(private readonly control: Int32Array, private readonly cpu: number, private readonly i32: Int32Array, private readonly i64: BigInt64Array, areaOffset: number,
    private readonly counts: Float64Array) {
    this.state = (areaOffset + SyscallSlot.STATE) >> 2;
    this.polling = (areaOffset + SyscallSlot.POLLING) >> 2;
    this.at = areaOffset >> 3;
  }

  private word(offset: number): bigint {
    return this.i64[this.at + offset / 8];
  }

  get nr(): bigint { return this.word(SyscallSlot.NR); }
  get returnAddress(): bigint { return this.word(SyscallSlot.RIP); }
  get rflags(): bigint { return this.word(SyscallSlot.RFLAGS); }
  get result(): bigint { return this.word(SyscallSlot.RESULT); }
  get userRsp(): bigint { return this.word(SyscallSlot.USER_RSP); }
  get giveUps(): number { return Atomics.load(this.i32, (this.at << 1) + SyscallSlot.GIVE_UPS / 4); }

  // ---- vCPU 0's worker ----

  setPolling(on: boolean): void {
    Atomics.store(this.i32, this.polling, on ? 1 : 0);
  }

  /** Takes a published request into frame; false when there is none. Then answer or decline it. */
  take(frame: SyscallFrame): boolean {
    if (Atomics.load(this.i32, this.state) !== MailboxState.REQUEST) return false;
    Atomics.store(this.control, Control.MAILBOX_SERVING, this.cpu + 1);
    if (Atomics.compareExchange(this.i32, this.state, MailboxState.REQUEST, MailboxState.TAKEN) !== MailboxState.REQUEST) {
      Atomics.store(this.control, Control.MAILBOX_SERVING, 0);
      return false;
    }
    frame.nr = Number(this.nr);
    for (let i = 0; i < 6; i++) frame.args[i] = Number(this.word(SyscallSlot.ARGS + 8 * i));
    frame.rip = Number(this.returnAddress) - 2;
    return true;
  }

  /** The call's result; yieldAfter: the thread must then leave its vCPU (a signal, a preemption). */
  answer(result: number, yieldAfter: boolean): void {
    this.i64[this.at + SyscallSlot.RESULT / 8] = BigInt(result);
    this.counts[mailboxCell(this.cpu)]++;
    Atomics.store(this.i32, this.state, yieldAfter ? MailboxState.DONE_YIELD : MailboxState.DONE);
    Atomics.store(this.control, Control.MAILBOX_SERVING, 0);
  }

  /** Not served here: the stub makes the call through an exit. */
  decline(): void {
    Atomics.store(this.i32, this.state, MailboxState.DECLINED);
    Atomics.store(this.control, Control.MAILBOX_SERVING, 0);
  }

  // ---- The worker running the thread ----

  /**
   * An interrupt stopped the thread in the stub after it published: withdraws the request if
   * nobody took it, else waits for the answer. True when the call was served (DONE or
   * DONE_YIELD), false when the thread must make it again.
   */
  settle(): boolean {
    if (Atomics.compareExchange(this.i32, this.state, MailboxState.REQUEST, MailboxState.IDLE) === MailboxState.REQUEST) return false;
    // Serving takes microseconds; a TAKEN that vCPU 0 is not serving is the guest's own write.
    while (Atomics.load(this.i32, this.state) === MailboxState.TAKEN && Atomics.load(this.control, Control.MAILBOX_SERVING) === this.cpu + 1);
    const s = Atomics.load(this.i32, this.state);
    return s === MailboxState.DONE || s === MailboxState.DONE_YIELD;
  }
}
