// Fills the kernel area (shared-mem/kvm-area.ts) before any vCPU runs: the shim, the IDT, the
// GDT with one TSS per vCPU, and the page tables of the kernel half, which every address
// space's PML4 shares.
import { Area, KERNEL_AREA_BYTES, KERNEL_AREA_PHYS, PREEMPT_VECTOR, Selector, Shim, TSS_STRIDE } from '../../shared-mem/kvm-area.js';
import { MAX_CPUS } from '../../shared-mem/layout.js';
import { kernelPml4Slot } from './page-tables.js';

/** I/O permission bitmap: ports 0 up to the exit port's byte, then the 0xff terminator. */
const IO_BITMAP_BYTES = (Shim.EXIT_PORT >> 3) + 1;
const TSS_IO_MAP = 0x68;

/** The TSS limit: the 104-byte TSS, the I/O bitmap and its terminator byte. */
export function tssLimit(): number {
  return TSS_IO_MAP + IO_BITMAP_BYTES;
}

const P = 1n, W = 2n, U = 4n, PS = 0x80n, NX = 1n << 63n;

/** irqchip: the preemption vector comes from a LAPIC, whose interrupts the shim must acknowledge. */
export function buildKernelArea(area: SharedArrayBuffer, shim: Uint8Array, kernelBase: bigint, irqchip: boolean): void {
  if (shim.length > Shim.BYTES) throw new Error('kvm-shim.bin is larger than its pages');
  const bytes = new Uint8Array(area);
  const v = new DataView(area);
  const q = (off: number, value: bigint) => v.setBigUint64(off, value, true);
  bytes.set(shim, Area.SHIM);

  // IDT: interrupt gates (IF cleared on entry) to each vector's entry; int3 and into may come from ring 3.
  for (let n = 0; n < Shim.VECTORS; n++) {
    const entry = n === PREEMPT_VECTOR && irqchip ? Shim.LAPIC_INTERRUPT : n * Shim.VECTOR_STRIDE;
    const handler = kernelBase + BigInt(Area.SHIM + entry);
    const dpl = n === 3 || n === 4 ? 3n : 0n;
    const low = (handler & 0xffffn) | BigInt(Selector.KERNEL_CS) << 16n | (0x8en | dpl << 5n) << 40n | ((handler >> 16n) & 0xffffn) << 48n;
    q(Area.IDT + 16 * n, low);
    q(Area.IDT + 16 * n + 8, handler >> 32n);
  }

  // GDT in Linux's layout; TSS descriptors (16 bytes) from 0x40.
  q(Area.GDT + Selector.KERNEL_CS, 0x00af9b000000ffffn);
  q(Area.GDT + Selector.KERNEL_DS, 0x00cf93000000ffffn);
  q(Area.GDT + (Selector.USER32_CS & ~3), 0x00cffb000000ffffn);
  q(Area.GDT + (Selector.USER_DS & ~3), 0x00cff3000000ffffn);
  q(Area.GDT + (Selector.USER_CS & ~3), 0x00affb000000ffffn);
  for (let cpu = 0; cpu < MAX_CPUS; cpu++) {
    const tss = Area.TSS + TSS_STRIDE * cpu;
    const tssBase = kernelBase + BigInt(tss);
    const limit = BigInt(tssLimit());
    const d = Area.GDT + Selector.TSS + 16 * cpu;
    q(d, (limit & 0xffffn) | (tssBase & 0xffffffn) << 16n | 0x89n << 40n | ((limit >> 16n) & 0xfn) << 48n | ((tssBase >> 24n) & 0xffn) << 56n);
    q(d + 8, tssBase >> 32n);
    q(tss + 4, kernelBase + BigInt(Area.STACKS + 0x1000 * (cpu + 1))); // RSP0
    v.setUint16(tss + 102, TSS_IO_MAP, true);
    bytes.fill(0xff, tss + TSS_IO_MAP, tss + TSS_IO_MAP + IO_BITMAP_BYTES + 1);
    bytes[tss + TSS_IO_MAP + (Shim.EXIT_PORT >> 3)] &= ~(1 << (Shim.EXIT_PORT & 7));
  }

  // The kernel half: user-accessible down to the first 2 MiB's page table, where only the
  // syscall entry page is a user page; the shim's code page is the only executable one.
  const phys = (off: number) => BigInt(KERNEL_AREA_PHYS + off);
  q(Area.KERNEL_PML4 + 8 * kernelPml4Slot(kernelBase), phys(Area.KERNEL_PDPT) | P | W | U);
  q(Area.KERNEL_PDPT + 8 * Number((kernelBase >> 30n) & 511n), phys(Area.KERNEL_PD) | P | W | U);
  q(Area.KERNEL_PD, phys(Area.KERNEL_PT) | P | W | U);
  for (let i = 1; i < KERNEL_AREA_BYTES / 0x200000; i++) q(Area.KERNEL_PD + 8 * i, phys(i * 0x200000) | P | W | PS | NX);
  for (let i = 0; i < 512; i++) {
    const off = i * 0x1000;
    const flags = off === Area.SHIM ? P : off === Area.SYSCALL_ENTRY ? P | U : P | W | NX;
    q(Area.KERNEL_PT + 8 * i, phys(off) | flags);
  }
}
