// What a thread's recent traps were, for placing it where they cost least. On KVM with a
// syscall mailbox (PVM), a call the mailbox serves costs a lent thread about 3 us, but every
// other trap (a page fault, a call that changes mappings) costs it an exit and the crossing
// to vCPU 0 and back (about 75 us), and a call that waits also the hand-over to its vCPU
// again after the wake; on vCPU 0 every trap is one exit (about 30 us). So a thread whose
// traps are mostly mailbox calls runs best lent to an idle vCPU, and one whose traps are
// mostly other kinds runs best on vCPU 0.

import type { SyscallResult } from '../syscall.js';

export const TrapKind = {
  /** A call the mailbox serves without an exit (its table entry is `remote` and it did not wait). */
  MAILBOX: 0,
  /** A page fault, or a call the mailbox declines that does not wait. */
  OTHER: 1,
  /** A call that waits (it returned a Block). */
  WAIT: 2,
} as const;
type TrapKind = (typeof TrapKind)[keyof typeof TrapKind];

/** What running lent saves on a trap of each kind, in us (vCPU 0's cost minus the lent cost; measured on PVM, see above). */
const SAVING_US: readonly number[] = [30 - 3, 30 - 75, 30 - 125];
/** Lend a thread whose recent traps would each save this much on average... */
const LEND_SAVING_US = 12;
/** ...and bring it back to vCPU 0 below this: the gap keeps a thread near break-even where it is. */
const HOME_SAVING_US = 4;
/** Each trap weighs this much less than the one after it: about the last 16 count. */
const DECAY = 15 / 16;
/** Below this much weight there is no history to go by (a new thread). */
const MIN_WEIGHT = 4;

export class TrapMix {
  private weight = 0;
  private saving = 0;

  /** A syscall: servable is whether its table entry lets the mailbox serve it (asked before the call). */
  noteCall(servable: boolean, result: SyscallResult): void {
    if (typeof result !== 'number') this.note(result.kind === 'block' ? TrapKind.WAIT : TrapKind.OTHER);
    else this.note(servable ? TrapKind.MAILBOX : TrapKind.OTHER);
  }

  note(kind: TrapKind): void {
    this.weight = this.weight * DECAY + 1;
    this.saving = this.saving * DECAY + SAVING_US[kind];
  }

  /** Whether the thread's traps would cost less if it ran lent, its calls served by the mailbox. */
  get favoursMailbox(): boolean {
    return this.weight >= MIN_WEIGHT && this.saving >= LEND_SAVING_US * this.weight;
  }

  /** Whether its traps would cost less on vCPU 0 (so do a new thread's, whose first traps are mostly page faults). */
  get favoursKernelCpu(): boolean {
    return this.weight < MIN_WEIGHT || this.saving < HOME_SAVING_US * this.weight;
  }
}
