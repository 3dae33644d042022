// The CPUID the guest sees. Unicorn's qemu64 model executes x87, MMX, RDTSC and SYSCALL but
// its CPUID leaves those bits clear, and glibc refuses to start a baseline x86-64 libc without
// FPU and MMX ("CPU ISA level is lower than required"). So the guest sees Unicorn's own answers
// (probed once per worker by running CPUID in a scratch engine) with exactly those bits set:
// everything reported is something the engine really executes, and nothing more (no AVX).
import koffi from 'koffi';
import { uc, UC_ARCH_X86, UC_MODE_64, UcReg } from './unicorn-ffi.js';

const LEAF1_EDX_EXTRA = (1 << 0) | (1 << 4) | (1 << 23); // FPU, TSC, MMX
const EXT1_EDX_EXTRA = 1 << 11; // SYSCALL/SYSRET
const PROBED_LEAVES: Array<[number, number]> = [
  [0, 0], [1, 0], [2, 0], [4, 0], [4, 1], [4, 2], [4, 3], [6, 0], [7, 0], [7, 1], [0xb, 0], [0xb, 1], [0xd, 0], [0xd, 1],
  [0x80000000, 0], [0x80000001, 0], [0x80000002, 0], [0x80000003, 0], [0x80000004, 0],
  [0x80000005, 0], [0x80000006, 0], [0x80000007, 0], [0x80000008, 0],
];

export type CpuidResult = [number, number, number, number];
let table: Map<string, CpuidResult> | null = null;

function probe(): Map<string, CpuidResult> {
  const out: unknown[] = [null];
  if (uc.open(UC_ARCH_X86, UC_MODE_64, out) !== 0) throw new Error('uc_open failed while probing CPUID');
  const h = out[0];
  const code = new Uint8Array(new SharedArrayBuffer(4096));
  code.set([0x0f, 0xa2]); // cpuid
  uc.memMapPtr(h, 0x1000, 4096, 5, addressOfBytes(code));
  const regs = new BigInt64Array(new SharedArrayBuffer(8));
  const regBytes = new Uint8Array(regs.buffer);
  const read = (id: number) => (uc.regRead(h, id, regBytes), Number(BigInt.asUintN(32, regs[0])));
  const write = (id: number, v: number) => ((regs[0] = BigInt(v)), uc.regWrite(h, id, regBytes));
  const result = new Map<string, CpuidResult>();
  for (const [leaf, sub] of PROBED_LEAVES) {
    write(UcReg.RAX, leaf);
    write(UcReg.RCX, sub);
    uc.emuStart(h, 0x1000, 0x1002, 0, 0);
    result.set(`${leaf}:${sub}`, [read(UcReg.RAX), read(UcReg.RBX), read(UcReg.RCX), read(UcReg.RDX)]);
  }
  uc.close(h);
  const leaf1 = result.get('1:0')!;
  leaf1[3] |= LEAF1_EDX_EXTRA;
  const ext1 = result.get(`${0x80000001}:0`)!;
  ext1[3] |= EXT1_EDX_EXTRA;
  return result;
}

/** The guest's answer for CPUID(leaf, subleaf); zeros for leaves the model does not have. */
export function guestCpuid(leaf: number, subleaf: number): CpuidResult {
  table ??= probe();
  const key = SUBLEAF_LEAVES.has(leaf) ? `${leaf}:${subleaf}` : `${leaf}:0`;
  return table.get(key) ?? [0, 0, 0, 0];
}

const SUBLEAF_LEAVES = new Set([4, 7, 0xb, 0xd]);

function addressOfBytes(bytes: Uint8Array): number {
  return Number(koffi.address(bytes));
}
