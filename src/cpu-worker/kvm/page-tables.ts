// Per-address-space 4-level page tables for the KVM backend, in the kernel area's page-table
// pool (shared-mem/kvm-area.ts). Only vCPU 0 (which owns every address space) writes them.
//
// The host writes entries that grant (not present -> present, or more rights on the same
// frame): a fault re-walks the tables, under a shadow MMU (PVM) as in hardware. Entries that
// take rights away, or that a table being freed still holds, must be written by guest ring-0
// code when a translation may be cached from them (a shadow MMU only notices guest writes,
// and the TLB needs invlpg): they are returned as PteUpdates for the shim's
// apply_pte_updates routine. An entry whose accessed bit is clear has never been used to
// translate since it was last written without it, so nothing caches it: neither a TLB (the
// CPU caches a translation only with the accessed bit set in every entry used, SDM 4.10.2)
// nor a shadow MMU (KVM's sets the guest's accessed bit when it builds a shadow entry, and
// prefetches only entries that have it). The host takes those away itself, which spares most
// of the shim's runs: a VMA is mapped whole on its first touch, and ld.so's mprotects and
// MAP_FIXED mappings then restrict mostly pages nobody touched (measured: 48,000 of 58,000
// updates while ffmpeg starts). A grant on a present entry keeps its accessed bit, or the
// cached translation of the old rights would be forgotten.
import { Prot } from '../backend.js';
import { Area, KERNEL_AREA_BYTES, KERNEL_AREA_PHYS, MAILBOX_PAGES, MAILBOX_VA, SyscallSlot } from '../../shared-mem/kvm-area.js';
import { Errno, E } from '../../kernel/errno.js';

/** Entry bits, in the low word (NX is bit 31 of the high word). */
const P = 1, W = 2, U = 4, A = 0x20;
const NX_HIGH = 0x80000000;
const TABLE_BYTES = 4096;
const LOW_ADDRESS_MASK = 0xfffff000;
/** The indexes of the PML4, PDPT and PD entries that lead to the mailbox's page table, and of its first page's entry there. */
const [MAILBOX_PML4, MAILBOX_PDPT, MAILBOX_PD, MAILBOX_PTE] = [3, 2, 1, 0].map((level) => Number((MAILBOX_VA >> BigInt(12 + 9 * level)) & 511n));
/** Retired tables cleaned at once when the free list runs out: one shim run, bounded work. */
const CLEAN_BATCH = 64;

/** A write for the shim: PTE's kernel-virtual address, its new value, the user address to invlpg. */
export type PteUpdate = [pte: bigint, value: bigint, address: bigint];

/**
 * The 4 KiB tables of the kernel area's pool: free ones (zeroed), and retired ones, the tables
 * of dead address spaces, which still hold their entries. Nothing translates through a retired
 * table (its root is no CPU's CR3 any more), so retired tables are cleaned only when the free
 * list runs out, a batch at a time: clearing a used entry costs a trapped guest write on PVM
 * (about 10 us each, measured), and an exiting ffmpeg left some 7,900 of them (80 ms), mostly
 * at the end of the machine, when nothing would ever reuse the tables.
 */
export class PageTablePool {
  readonly words: Uint32Array;
  private readonly free: number[] = [];
  private readonly retired: number[] = [];

  /** apply: runs the shim over updates, on a CR3 that holds the kernel half. */
  constructor(area: SharedArrayBuffer, readonly kernelBase: bigint, private readonly apply: (updates: PteUpdate[]) => void) {
    this.words = new Uint32Array(area);
    for (let off = KERNEL_AREA_BYTES - TABLE_BYTES; off >= Area.PAGE_TABLES; off -= TABLE_BYTES) this.free.push(off);
  }

  /** A zeroed table's area offset; ENOMEM for the guest when the pool is exhausted. */
  allocate(): number {
    if (this.free.length === 0) this.cleanRetired();
    const off = this.free.pop();
    if (off === undefined) throw new Errno(E.ENOMEM);
    return off;
  }

  /** Takes back the tables of a dead address space, entries and all. */
  retire(tables: Iterable<number>): void {
    this.retired.push(...tables);
  }

  kernelAddress(areaOffset: number): bigint {
    return this.kernelBase + BigInt(areaOffset);
  }

  /**
   * Zeroes up to CLEAN_BATCH retired tables for the free list, in one run of the shim for
   * their used entries (no invlpg, user address 0: nothing translates through them).
   */
  private cleanRetired(): void {
    const tables = this.retired.splice(-CLEAN_BATCH);
    const updates: PteUpdate[] = [];
    for (const table of tables) {
      for (let i = table >> 2; i < (table + TABLE_BYTES) >> 2; i += 2) {
        if (this.words[i] !== 0 || this.words[i + 1] !== 0) changeEntry(this, i, 0, 0, 0, updates);
      }
    }
    this.apply(updates);
    this.free.push(...tables);
  }
}

/** The entry that maps the kernel area: the same in every PML4. */
export function kernelPml4Slot(kernelBase: bigint): number {
  return Number((kernelBase >> 39n) & 511n);
}

export class PageTables {
  readonly pml4: number;
  /** Every table of this address space (the PML4 included), by area offset. */
  private readonly tables = new Set<number>();

  constructor(private readonly pool: PageTablePool) {
    this.pml4 = this.newTable();
    const w = pool.words;
    const slot = kernelPml4Slot(pool.kernelBase);
    w[(this.pml4 >> 2) + 2 * slot] = w[(Area.KERNEL_PML4 >> 2) + 2 * slot];
    w[(this.pml4 >> 2) + 2 * slot + 1] = w[(Area.KERNEL_PML4 >> 2) + 2 * slot + 1];
    this.mapMailbox();
  }

  /**
   * The syscall mailbox's pages (shared-mem/kvm-area.ts), at the top of PML4 slot 510: the
   * last entries of its tables. They are pool pages like the tables, and retire with them.
   */
  private mapMailbox(): void {
    const w = this.pool.words;
    let table = this.pml4;
    for (const index of [MAILBOX_PML4, MAILBOX_PDPT, MAILBOX_PD]) {
      const next = this.newTable();
      writeEntry(w, (table >> 2) + 2 * index, tableLow(next), tableHigh(next));
      table = next;
    }
    for (let page = 0; page < MAILBOX_PAGES; page++) {
      const frame = this.newTable();
      writeEntry(w, (table >> 2) + 2 * (MAILBOX_PTE + page), leafLow(KERNEL_AREA_PHYS + frame, Prot.READ | Prot.WRITE), leafHigh(KERNEL_AREA_PHYS + frame, Prot.READ | Prot.WRITE));
    }
  }

  get cr3(): bigint {
    return BigInt(KERNEL_AREA_PHYS + this.pml4);
  }

  /**
   * Maps [vaddr, vaddr+size) onto guest-physical phys with prot. Entries already present that
   * this changes come back as updates for the shim when they were used: on PVM a right the host
   * adds to a used entry is not seen (measured: a write to a page made writable again by
   * mprotect faulted), so only not-present and never-used entries are written here.
   */
  map(vaddr: number, size: number, prot: number, phys: number): PteUpdate[] {
    const updates: PteUpdate[] = [];
    const w = this.pool.words;
    for (let off = 0; off < size; off += TABLE_BYTES) {
      const va = vaddr + off;
      const i = this.pteIndex(va, true)!;
      const lo = leafLow(phys + off, prot), hi = leafHigh(phys + off, prot);
      if (!(w[i] & P)) this.write(i, lo, hi);
      else if (lo !== ((w[i] & ~A) >>> 0) || hi !== w[i + 1]) this.change(i, lo, hi, va, updates);
    }
    return updates;
  }

  /** Takes [vaddr, vaddr+size) away (prot null) or down to prot: updates for the shim. */
  restrict(vaddr: number, size: number, prot: number | null): PteUpdate[] {
    const updates: PteUpdate[] = [];
    const w = this.pool.words;
    for (let off = 0; off < size; off += TABLE_BYTES) {
      const va = vaddr + off;
      const i = this.pteIndex(va, false);
      if (i === null || !(w[i] & P)) continue;
      if (prot === null) {
        this.change(i, 0, 0, va, updates);
        continue;
      }
      const phys = (w[i + 1] & ~NX_HIGH) * 2 ** 32 + (w[i] & LOW_ADDRESS_MASK);
      const lo = leafLow(phys, prot), hi = leafHigh(phys, prot);
      if (lo !== ((w[i] & ~A) >>> 0) || hi !== w[i + 1]) this.change(i, lo, hi, va, updates);
    }
    return updates;
  }

  /** The address space is dead: its tables go back to the pool as they are (see PageTablePool). */
  destroy(): void {
    this.pool.retire(this.tables);
    this.tables.clear();
  }

  private newTable(): number {
    const t = this.pool.allocate();
    this.tables.add(t);
    return t;
  }

  private change(wordIndex: number, lo: number, hi: number, va: number, updates: PteUpdate[]): void {
    changeEntry(this.pool, wordIndex, lo, hi, va, updates);
  }

  private write(wordIndex: number, lo: number, hi: number): void {
    writeEntry(this.pool.words, wordIndex, lo, hi);
  }

  /** Word index of va's PTE; the tables on the way are created when create is set (else null if missing). */
  private pteIndex(va: number, create: boolean): number | null {
    const w = this.pool.words;
    let table = this.pml4;
    for (let level = 3; level >= 1; level--) {
      const index = Math.floor(va / 2 ** (12 + 9 * level)) % 512;
      const i = (table >> 2) + 2 * index;
      if (!(w[i] & P)) {
        if (!create) return null;
        const next = this.newTable();
        writeEntry(w, i, tableLow(next), tableHigh(next));
      }
      table = entryTarget(w, i);
    }
    return (table >> 2) + 2 * (Math.floor(va / TABLE_BYTES) % 512);
  }
}

/**
 * The area offset of vCPU cpu's slot in the syscall mailbox of the address space whose PML4 is
 * at cr3, found through its tables (as the CPU finds it): the workers that run its threads
 * know only the CR3.
 */
export function mailboxSlotOffset(words: Uint32Array, cr3: bigint, cpu: number): number {
  let table = Number(cr3) - KERNEL_AREA_PHYS;
  const perPage = TABLE_BYTES / SyscallSlot.BYTES;
  for (const index of [MAILBOX_PML4, MAILBOX_PDPT, MAILBOX_PD, MAILBOX_PTE + Math.floor(cpu / perPage)]) table = entryTarget(words, (table >> 2) + 2 * index);
  return table + (cpu % perPage) * SyscallSlot.BYTES;
}

/** The area offset of the table or page a present entry points to. */
function entryTarget(w: Uint32Array, wordIndex: number): number {
  return (w[wordIndex + 1] & ~NX_HIGH) * 2 ** 32 + (w[wordIndex] & LOW_ADDRESS_MASK) - KERNEL_AREA_PHYS;
}

/** The words of an entry that points to the table at an area offset (rights are the leaf's to restrict). */
function tableLow(areaOffset: number): number {
  return (((KERNEL_AREA_PHYS + areaOffset) >>> 0) & LOW_ADDRESS_MASK) | P | W | U;
}

function tableHigh(areaOffset: number): number {
  return Math.floor((KERNEL_AREA_PHYS + areaOffset) / 2 ** 32);
}

/**
 * Replaces an entry with one that may grant less: the host writes it when nothing can have
 * cached the old one (accessed bit clear), else it becomes an update for the shim.
 */
function changeEntry(pool: PageTablePool, wordIndex: number, lo: number, hi: number, va: number, updates: PteUpdate[]): void {
  if (pool.words[wordIndex] & A) updates.push([pool.kernelAddress(wordIndex * 4), BigInt(hi) << 32n | BigInt(lo >>> 0), BigInt(va)]);
  else writeEntry(pool.words, wordIndex, lo, hi);
}

function writeEntry(w: Uint32Array, wordIndex: number, lo: number, hi: number): void {
  if (lo & P) {
    w[wordIndex + 1] = hi; // the high word first: the present bit is in the low one
    w[wordIndex] = lo >>> 0;
  } else {
    w[wordIndex] = lo >>> 0;
    w[wordIndex + 1] = hi;
  }
}

function leafLow(phys: number, prot: number): number {
  return (((phys >>> 0) & LOW_ADDRESS_MASK) | P | U | (prot & Prot.WRITE ? W : 0)) >>> 0;
}

function leafHigh(phys: number, prot: number): number {
  return (Math.floor(phys / 2 ** 32) | (prot & Prot.EXEC ? 0 : NX_HIGH)) >>> 0;
}
