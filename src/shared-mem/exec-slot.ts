// Execution slots: how vCPU 0, which holds every process's kernel state, lends a guest thread
// to another vCPU to execute, and how that vCPU gives it back at its next trap.
//
// One slot per vCPU (slot 0 is unused), in one SharedArrayBuffer of SLOT_BYTES * cpus bytes.
// Ownership passes with STATE: vCPU 0 writes every other field only while the slot is IDLE and
// then stores ASSIGNED; the slot's vCPU reads the assignment, stores RUNNING, runs, writes the
// stop fields and the registers and stores RETURNED; vCPU 0 reads them and stores IDLE. The
// Atomics store of STATE orders the plain writes before it (Atomics are sequentially
// consistent), so no lock is needed.

import type { StopReason } from '../cpu-worker/backend.js';

export const SlotState = { IDLE: 0, ASSIGNED: 1, RUNNING: 2, RETURNED: 3 } as const;

/** Why a lent thread came back: the CPU backend's stop kinds ('trap' is a syscall). */
const STOP_KINDS = ['trap', 'preempted', 'fault', 'illegal', 'interrupt'] as const;

/** Int32 indexes into a slot. */
const I = {
  /** SlotState. atomic. */
  STATE: 0,
  /** Which address space the lent thread runs in (AddressSpace.id). */
  MM_ID: 1,
  /** Entries in the region list, or -1 when the vCPU's copy of it is still current. */
  REGION_COUNT: 2,
  /** Index in STOP_KINDS, and its details: fault access (0 read, 1 write, 2 exec), whether the page was mapped, the interrupt vector. */
  STOP: 3,
  STOP_ACCESS: 4,
  STOP_MAPPED: 5,
  STOP_VECTOR: 6,
  /** Address spaces that no longer exist: the vCPU drops its engines for them. */
  RETIRED_COUNT: 7,
  RETIRED_IDS: 8,
  /**
   * 1 when the thread that came back from this slot waits for another thread of the guest, so
   * that the slot's vCPU may poll for the wake (cpu-worker/idle-poll.ts). vCPU 0 clears it with
   * the release and sets it (and notifies STATE) once the return is served.
   */
  WAKE_EXPECTED: 68,
} as const;
const MAX_RETIRED = 56;
/** Int32 words before the registers (the float fields below sit at words 64-67). */
const WORDS = 128;
/**
 * A syscall served for a lent thread comes back in a few microseconds, much less than a
 * sleep and wake-up across threads costs (about 10 us each way here): both sides poll for
 * this long before they sleep. Measured: a getppid from vCPU 1 took 48 us without, 7.5 us with.
 */
export const HAND_OVER_SPIN_MS = 0.02;

/** Polls cond for at most ms; returns whether it became true. */
export function spinUntil(cond: () => boolean, ms: number): boolean {
  const end = performance.now() + ms;
  while (!cond()) if (performance.now() >= end) return false;
  return true;
}

/** Float64 indexes: the fault address and the faulting instruction. */
const F = { STOP_ADDR: 32, STOP_RIP: 33 } as const;
/** The thread's registers, as the CPU backend exports them. */
const CONTEXT_OFFSET = 512;
export const MAX_CONTEXT_BYTES = 16 * 1024;
/** The address space's engine regions: start, end, prot, host address, serial (Float64 each). */
const REGIONS_OFFSET = CONTEXT_OFFSET + MAX_CONTEXT_BYTES;
const REGION_FIELDS = 5;
export const SLOT_BYTES = 512 * 1024;
export const MAX_SLOT_REGIONS = Math.floor((SLOT_BYTES - REGIONS_OFFSET) / (8 * REGION_FIELDS));

/** One engine region of an address space: what a vCPU may map for the lent thread. */
export interface EngineRegion {
  start: number;
  end: number;
  prot: number;
  hostAddress: number;
  /** Changes whenever the region's mapping or code changes: a region with a new serial is mapped afresh. */
  serial: number;
}

const ACCESSES = ['read', 'write', 'exec'] as const;

export class ExecSlot {
  private readonly words: Int32Array;
  private readonly doubles: Float64Array;
  /** The lent thread's registers. */
  readonly context: Uint8Array;

  constructor(buffer: SharedArrayBuffer, cpu: number) {
    const base = cpu * SLOT_BYTES;
    this.words = new Int32Array(buffer, base, WORDS);
    this.doubles = new Float64Array(buffer, base, SLOT_BYTES / 8);
    this.context = new Uint8Array(buffer, base + CONTEXT_OFFSET, MAX_CONTEXT_BYTES);
  }

  get state(): number {
    return Atomics.load(this.words, I.STATE);
  }

  /** vCPU 0: hands the slot over, once the assignment fields are written. */
  assign(mmId: number, regions: readonly EngineRegion[] | null, retired: number[]): void {
    this.words[I.MM_ID] = mmId;
    this.words[I.REGION_COUNT] = regions ? regions.length : -1;
    regions?.forEach((r, i) => {
      const at = (REGIONS_OFFSET >> 3) + i * REGION_FIELDS;
      this.doubles.set([r.start, r.end, r.prot, r.hostAddress, r.serial], at);
    });
    const n = Math.min(retired.length, MAX_RETIRED);
    this.words[I.RETIRED_COUNT] = n;
    for (let i = 0; i < n; i++) this.words[I.RETIRED_IDS + i] = retired[i];
    retired.splice(0, n);
    Atomics.store(this.words, I.STATE, SlotState.ASSIGNED);
    Atomics.notify(this.words, I.STATE);
  }

  /** The slot's vCPU: waits up to timeoutMs for a thread (or a wake, or expectWake); returns whether one is assigned. */
  awaitAssignment(timeoutMs: number): boolean {
    const s = Atomics.load(this.words, I.STATE);
    if (s !== SlotState.ASSIGNED) Atomics.wait(this.words, I.STATE, s, timeoutMs);
    return this.state === SlotState.ASSIGNED;
  }

  /** Wakes the slot's vCPU whatever the state (machine shutdown). */
  wake(): void {
    Atomics.notify(this.words, I.STATE);
  }

  get mmId(): number {
    return this.words[I.MM_ID];
  }

  /** The region list sent with this assignment, or null when the vCPU's copy is current. */
  regions(): EngineRegion[] | null {
    const n = this.words[I.REGION_COUNT];
    if (n < 0) return null;
    const list: EngineRegion[] = [];
    for (let i = 0; i < n; i++) {
      const at = (REGIONS_OFFSET >> 3) + i * REGION_FIELDS;
      const d = this.doubles;
      list.push({ start: d[at], end: d[at + 1], prot: d[at + 2], hostAddress: d[at + 3], serial: d[at + 4] });
    }
    return list;
  }

  retiredIds(): number[] {
    return Array.from(this.words.subarray(I.RETIRED_IDS, I.RETIRED_IDS + this.words[I.RETIRED_COUNT]));
  }

  /** The slot's vCPU: it has taken the assignment and runs the thread. */
  markRunning(): void {
    Atomics.store(this.words, I.STATE, SlotState.RUNNING);
  }

  /** The slot's vCPU: the thread stopped; its registers are in context. */
  giveBack(stop: StopReason): void {
    const w = this.words, d = this.doubles;
    w[I.STOP] = STOP_KINDS.indexOf(stop.kind);
    if (stop.kind === 'fault') {
      d[F.STOP_ADDR] = stop.addr;
      w[I.STOP_ACCESS] = ACCESSES.indexOf(stop.access);
      w[I.STOP_MAPPED] = stop.mapped ? 1 : 0;
    } else if (stop.kind === 'illegal' || stop.kind === 'interrupt') {
      d[F.STOP_RIP] = stop.rip;
      if (stop.kind === 'interrupt') w[I.STOP_VECTOR] = stop.vector;
    }
    Atomics.store(w, I.STATE, SlotState.RETURNED);
    Atomics.notify(w, I.STATE);
  }

  /** vCPU 0: why the thread came back (call once the state is RETURNED). */
  stop(): StopReason {
    const w = this.words, d = this.doubles;
    const kind = STOP_KINDS[w[I.STOP]];
    if (kind === 'fault') return { kind, addr: d[F.STOP_ADDR], access: ACCESSES[w[I.STOP_ACCESS]], mapped: w[I.STOP_MAPPED] === 1 };
    if (kind === 'illegal') return { kind, rip: d[F.STOP_RIP] };
    if (kind === 'interrupt') return { kind, vector: w[I.STOP_VECTOR], rip: d[F.STOP_RIP] };
    return { kind };
  }

  /** vCPU 0: the slot is free for the next assignment. */
  release(): void {
    Atomics.store(this.words, I.WAKE_EXPECTED, 0);
    Atomics.store(this.words, I.STATE, SlotState.IDLE);
  }

  /** vCPU 0, once the return is served: the thread waits for another thread's wake (unless the slot is taken again already). */
  expectWake(): void {
    if (Atomics.load(this.words, I.STATE) !== SlotState.IDLE) return;
    Atomics.store(this.words, I.WAKE_EXPECTED, 1);
    Atomics.notify(this.words, I.STATE);
  }

  /** The slot's vCPU, idle: whether vCPU 0 expects a wake for it (expectWake). */
  get wakeExpected(): boolean {
    return Atomics.load(this.words, I.WAKE_EXPECTED) === 1 && Atomics.load(this.words, I.STATE) === SlotState.IDLE;
  }

  /** vCPU 0: waits (at most timeoutMs) until the lent thread has come back. */
  awaitReturn(timeoutMs: number): void {
    const s = Atomics.load(this.words, I.STATE);
    if (s === SlotState.ASSIGNED || s === SlotState.RUNNING) Atomics.wait(this.words, I.STATE, s, timeoutMs);
  }
}
