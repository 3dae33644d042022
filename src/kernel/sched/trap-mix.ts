// What a thread's recent traps were, for placing it where they cost least. On KVM with a
// syscall mailbox (PVM), a call the mailbox serves costs a lent thread about 3 us, but every
// other trap (a page fault, a call that waits or changes mappings) costs it an exit and the
// crossing to vCPU 0 and back (about 75 us), where on vCPU 0 every trap is one exit (about
// 30 us). So a thread whose traps are mostly mailbox calls runs best lent to an idle vCPU,
// and one whose traps are mostly other kinds runs best on vCPU 0.

/** Lend a thread whose recent traps are at least this share mailbox calls (break-even: about 0.63)... */
const LEND_SHARE = 0.8;
/** ...and bring it back to vCPU 0 below this share: the gap keeps a thread near break-even where it is. */
const HOME_SHARE = 0.5;
/** Each trap weighs this much less than the one after it: about the last 16 count. */
const DECAY = 15 / 16;
/** Below this much weight there is no history to go by (a new thread, a fresh exec). */
const MIN_WEIGHT = 4;

export class TrapMix {
  private servable = 0;
  private other = 0;

  /** Records a trap: servable when the mailbox would have served it without an exit. */
  note(servable: boolean): void {
    this.servable = this.servable * DECAY + (servable ? 1 : 0);
    this.other = this.other * DECAY + (servable ? 0 : 1);
  }

  /** Whether the thread's traps would cost less if it ran lent, its calls served by the mailbox. */
  get favoursMailbox(): boolean {
    return this.servableShare >= LEND_SHARE;
  }

  /** Whether its traps would cost less on vCPU 0 (so do a new thread's, whose first traps are mostly page faults). */
  get favoursKernelCpu(): boolean {
    return this.servableShare < HOME_SHARE;
  }

  /** The share of recent traps the mailbox serves; 0 without enough history. */
  private get servableShare(): number {
    const all = this.servable + this.other;
    return all < MIN_WEIGHT ? 0 : this.servable / all;
  }
}
