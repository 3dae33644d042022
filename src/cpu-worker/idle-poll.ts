// How long a vCPU other than vCPU 0 polls for its next thread before it sleeps, once the thread
// it ran waits for another thread of the guest (a futex or an event without a timeout: vCPU 0
// says so through the execution slot). A sleeping worker's wake-up costs about 20 us here (a
// futex wake across host threads), as much as native Linux's whole wake-up of an idle CPU;
// polling costs a host core while it lasts.
//
// The window adapts as KVM's halt polling does (Documentation/virt/kvm/halt-polling.rst): an
// idle period that ended after the window but within MAX_MS doubles it, one that lasted longer
// than MAX_MS halves it, down to the hand-over spin. Threads that hand work back and forth
// within MAX_MS get a vCPU that polls for all of it; a vCPU whose waits are long stops polling
// after a few. Timed waits (a sleep, a timed condition variable) never poll: vCPU 0's clock
// wakes them, and polling would not make that sooner.

import { HAND_OVER_SPIN_MS } from '../shared-mem/exec-slot.js';

/**
 * The longest window, from the start of the idle period. The futex wake-to-run bench's partner
 * idles about 0.4 ms per round (its waker sleeps 0.3 ms first), which KVM's default of 0.2 ms
 * would not cover.
 */
export const IDLE_POLL_MAX_MS = 1;

export class IdlePoll {
  /** How long the next idle period may poll, from its start, in ms. */
  windowMs = HAND_OVER_SPIN_MS;

  /** After an idle period that polled: how long it lasted until a thread came, and whether it came while polling. */
  note(idleMs: number, caught: boolean): void {
    if (caught) return;
    if (idleMs > IDLE_POLL_MAX_MS) this.windowMs = Math.max(HAND_OVER_SPIN_MS, this.windowMs / 2);
    else if (this.windowMs < IDLE_POLL_MAX_MS) this.windowMs = Math.min(IDLE_POLL_MAX_MS, this.windowMs * 2);
  }
}
