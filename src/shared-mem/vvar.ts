// The [vvar] page: the guest clock's function, read by the vDSO (kernel/vdso/vdso.c, whose
// struct vvar repeats this layout) in every process and written by the main thread's
// GuestClock (main/guest-clock.ts), the only writer. It is one page of a host memfd, mapped
// shared into every address space (read-only) and into the main thread's memory.
//
// A latch (Linux's seqcount_latch): two slots, of which slot[SEQ & 1] is current. The writer
// fills the other slot and then advances SEQ; a reader takes SEQ, reads the current slot, and
// retries if SEQ moved on meanwhile. No reader ever waits for the writer (a thread the host
// can preempt). SEQ is 0 until the first slot is written: the vDSO then asks the kernel.
//
// A slot holds two lines, ns = base + ((tsc - tsc_base) * mult) >> 32: BEFORE for a TSC below
// SWITCH_TSC, AFTER (whose tsc_base is SWITCH_TSC) from it on. The writer only ever switches at a
// TSC ahead of now and copies the line in force into BEFORE, so the two slots agree at every TSC
// a reader of either can see, and the clock never goes back.

/** Byte offsets in the page. */
export const Vvar = {
  /** u32, atomic. */
  SEQ: 0,
  SLOTS: 64,
} as const;
export const SLOT_BYTES = 64;

/** Byte offsets in a slot (u64 each). */
export const Slot = {
  SWITCH_TSC: 0,
  BEFORE_MULT: 8, BEFORE_TSC: 16, BEFORE_MONO: 24, BEFORE_REAL: 32,
  AFTER_MULT: 40, AFTER_MONO: 48, AFTER_REAL: 56,
} as const;

export const VVAR_SHIFT = 32n;
export const VVAR_BYTES = 4096;
