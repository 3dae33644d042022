// Builds a process image: maps an ELF executable (and its interpreter) into a fresh address
// space and lays out argv, envp and auxv on the stack as the x86-64 ABI and Linux do.
import { randomFillSync } from 'node:crypto';
import { Prot } from '../../cpu-worker/backend.js';
import { AddressSpace, MappedFile, pageDown, pageUp, USER_END } from '../mm/address-space.js';
import { E, Errno } from '../errno.js';
import { hostSyscall, HostNr, scratch } from '../host/libc.js';
import { parseElf, NotExecutable, PT_INTERP, PT_LOAD, PT_PHDR, ET_DYN, type ElfImage } from './elf.js';
import type { Thread } from '../task.js';
import type { ExecAt } from '../vfs/vfs.js';
import { VVAR_BYTES } from '../../shared-mem/vvar.js';
import type { VdsoImage } from './vdso.js';

const AT_FDCWD = -100;

/** Where Linux (without ASLR) puts a PIE executable. */
const PIE_BASE = 0x555555554000;
export const STACK_SIZE = 8 * 1024 * 1024;
const MAX_SCRIPT_DEPTH = 4;
const HEAD_BYTES = 4096;
/** MAX_ARG_STRLEN and the argv+envp budget Linux enforces (a quarter of an 8 MiB stack). */
const MAX_ARG_STRLEN = 32 * 4096;
const MAX_ARGS_BYTES = STACK_SIZE / 4;

const AT = {
  NULL: 0, PHDR: 3, PHENT: 4, PHNUM: 5, PAGESZ: 6, BASE: 7, FLAGS: 8, ENTRY: 9, UID: 11, EUID: 12,
  GID: 13, EGID: 14, PLATFORM: 15, HWCAP: 16, CLKTCK: 17, SECURE: 23, RANDOM: 25, HWCAP2: 26,
  EXECFN: 31, SYSINFO_EHDR: 33, MINSIGSTKSZ: 51,
} as const;

/** CPUID.1:EDX of the CPU Unicorn emulates (qemu64); glibc reads HWCAP only for diagnostics. */
const HWCAP_QEMU64 = 0x078bfbff;

export interface ProcessImage {
  mm: AddressSpace;
  entry: number;
  stackPointer: number;
  exePath: string;
  argv: string[];
}

interface OpenedFile {
  hostFd: number;
  guestPath: string;
  size: number;
  head: Uint8Array;
}

/** Opens path for exec and reads its first page. */
function openForExec(t: Thread, path: string, at?: ExecAt): OpenedFile {
  const { hostFd, guestPath } = t.kernel.vfs.openExecutable(t, path, at);
  const statbuf = scratch.bounce(144);
  const st = hostSyscall(HostNr.fstat, hostFd, statbuf.address);
  if (st < 0) {
    hostSyscall(HostNr.close, hostFd);
    throw new Errno(-st);
  }
  const size = Number(new DataView(statbuf.view.buffer, statbuf.view.byteOffset).getBigInt64(48, true));
  const buf = scratch.bounce(HEAD_BYTES);
  const n = hostSyscall(HostNr.pread64, hostFd, buf.address, HEAD_BYTES, 0);
  if (n < 0) {
    hostSyscall(HostNr.close, hostFd);
    throw new Errno(-n);
  }
  return { hostFd, guestPath, size, head: buf.view.slice(0, n) };
}

/**
 * Loads path with argv and envp into a new address space. The caller's process is untouched
 * until it installs the returned image, so a failure leaves it running as before.
 */
export function loadImage(t: Thread, path: string, argv: string[], envp: string[], depth = 0, at?: ExecAt): ProcessImage {
  checkArgSizes(argv, envp);
  const file = openForExec(t, path, at);
  try {
    if (file.head[0] === 0x23 && file.head[1] === 0x21) {
      if (depth >= MAX_SCRIPT_DEPTH) throw new Errno(E.ELOOP);
      const [interp, arg] = parseShebang(file.head);
      // execveat names the script as Linux does: /dev/fd/N for AT_EMPTY_PATH, /dev/fd/N/PATH for a relative path.
      const scriptPath = !at || path.startsWith('/') || at.dirfd === AT_FDCWD ? path : path === '' ? `/dev/fd/${at.dirfd}` : `/dev/fd/${at.dirfd}/${path}`;
      const scriptArgv = [interp, ...(arg !== null ? [arg] : []), scriptPath, ...argv.slice(1)];
      return loadImage(t, interp, scriptArgv, envp, depth + 1);
    }
    const elf = parseElf(file.head, file.size);
    const mm = t.kernel.newAddressSpace();
    try {
      const main = mapElf(mm, elf, new MappedFile(file.hostFd, file.guestPath), elf.type === ET_DYN ? PIE_BASE : 0);
      file.hostFd = -1; // owned by the mappings now
      let entry = main.entry;
      let interpBase = 0;
      const interpHeader = elf.phdrs.find((p) => p.type === PT_INTERP);
      if (interpHeader) {
        const interpPath = readInterpPath(main.mappedFile, interpHeader.offset, interpHeader.filesz);
        const interp = openInterpreter(t, interpPath);
        const interpElf = parseElf(interp.head, interp.size);
        const span = elfSpan(interpElf);
        interpBase = interpElf.type === ET_DYN ? mm.findFree(span) : 0;
        const loaded = mapElf(mm, interpElf, new MappedFile(interp.hostFd, interp.guestPath), interpBase);
        entry = loaded.entry;
      }
      mm.brkStart = mm.brk = main.end;
      const vdso: Record<number, number> = t.kernel.vdso ? { [AT.SYSINFO_EHDR]: mapVdso(mm, t.kernel.vdso) } : {};
      const stackPointer = buildStack(mm, argv, envp, file.guestPath, {
        ...vdso,
        [AT.PHDR]: main.phdrAddress, [AT.PHENT]: 56, [AT.PHNUM]: elf.phnum, [AT.PAGESZ]: 4096,
        [AT.BASE]: interpBase, [AT.FLAGS]: 0, [AT.ENTRY]: main.entry, [AT.UID]: 0, [AT.EUID]: 0,
        [AT.GID]: 0, [AT.EGID]: 0, [AT.HWCAP]: HWCAP_QEMU64, [AT.HWCAP2]: 0, [AT.CLKTCK]: 100,
        [AT.SECURE]: 0, [AT.MINSIGSTKSZ]: 2048,
      });
      return { mm, entry, stackPointer, exePath: file.guestPath, argv };
    } catch (e) {
      mm.destroy();
      throw e;
    }
  } finally {
    if (file.hostFd >= 0) hostSyscall(HostNr.close, file.hostFd);
  }
}

function checkArgSizes(argv: string[], envp: string[]): void {
  let total = 0;
  for (const s of [...argv, ...envp]) {
    if (s.length + 1 > MAX_ARG_STRLEN) throw new Errno(E.E2BIG);
    total += s.length + 1 + 8;
  }
  if (total > MAX_ARGS_BYTES) throw new Errno(E.E2BIG);
}

/** `#!interp [one-arg]`: Linux passes everything after the interpreter as one argument. */
function parseShebang(head: Uint8Array): [string, string | null] {
  let end = head.indexOf(0x0a);
  if (end < 0) end = Math.min(head.length, 256);
  const line = Buffer.from(head.subarray(2, end)).toString('latin1').replace(/^[ \t]+|[ \t\r]+$/g, '');
  if (!line) throw new NotExecutable('empty #! line');
  const m = /^(\S+)(?:[ \t]+(.*))?$/.exec(line)!;
  return [m[1], m[2] !== undefined && m[2] !== '' ? m[2] : null];
}

function openInterpreter(t: Thread, path: string): OpenedFile {
  try {
    return openForExec(t, path);
  } catch (e) {
    if (e instanceof Errno && e.errno === E.ENOENT) throw new MissingInterpreter(path);
    throw e;
  }
}

/** The program's interpreter is missing: Linux says ENOENT, and users deserve its name. */
export class MissingInterpreter extends Errno {
  constructor(readonly path: string) {
    super(E.ENOENT);
  }
}

function readInterpPath(file: MappedFile, offset: number, size: number): string {
  if (size < 2 || size > 4096) throw new NotExecutable('bad PT_INTERP');
  const buf = scratch.bounce(size);
  if (hostSyscall(HostNr.pread64, file.hostFd, buf.address, size, offset) !== size) throw new NotExecutable('truncated ELF file');
  const nul = buf.view.indexOf(0);
  return Buffer.from(buf.view.subarray(0, nul < 0 ? size : nul)).toString('latin1');
}

function elfSpan(elf: ElfImage): number {
  const loads = elf.phdrs.filter((p) => p.type === PT_LOAD);
  const lo = pageDown(Math.min(...loads.map((p) => p.vaddr)));
  const hi = pageUp(Math.max(...loads.map((p) => p.vaddr + p.memsz)));
  return hi - lo;
}

function protOf(flags: number): number {
  return (flags & 4 ? Prot.READ : 0) | (flags & 2 ? Prot.WRITE : 0) | (flags & 1 ? Prot.EXEC : 0);
}

/** Maps every PT_LOAD segment at base; returns where things ended up. */
function mapElf(mm: AddressSpace, elf: ElfImage, file: MappedFile, base: number) {
  let end = 0;
  let phdrAddress = 0;
  file.ref(); // held while mapping, so a failure part-way closes the fd exactly once
  try {
    for (const p of elf.phdrs) {
      if (p.type !== PT_LOAD) continue;
      const start = base + p.vaddr;
      if (start + p.memsz > USER_END || start < 0) throw new NotExecutable('ELF segment outside user space');
      const prot = protOf(p.flags);
      const mapStart = pageDown(start);
      const fileEnd = start + p.filesz;
      if (p.filesz > 0) {
        mm.map({ start: mapStart, end: pageUp(fileEnd), prot, shared: false, file, fileOffset: p.offset - (start - mapStart), label: '' });
        // The rest of the last file page belongs to .bss: it must read as zero, not as file bytes.
        const tail = pageUp(fileEnd) - fileEnd;
        if (p.memsz > p.filesz && tail > 0) mm.write(fileEnd, new Uint8Array(tail), true);
      }
      const anonStart = p.filesz > 0 ? pageUp(fileEnd) : mapStart;
      const memEnd = pageUp(start + p.memsz);
      if (memEnd > anonStart) mm.map({ start: anonStart, end: memEnd, prot, shared: false, file: null, fileOffset: 0, label: '' });
      end = Math.max(end, memEnd);
      if (elf.phoff >= p.offset && elf.phoff < p.offset + p.filesz) phdrAddress = start + (elf.phoff - p.offset);
    }
    const phdr = elf.phdrs.find((p) => p.type === PT_PHDR);
    if (phdr) phdrAddress = base + phdr.vaddr;
    return { entry: base + elf.entry, end, phdrAddress, mappedFile: file };
  } finally {
    file.unref();
  }
}

/**
 * Maps [vvar] and the vDSO just above it (the vDSO finds the page one page below its ELF
 * header); returns the vDSO's address.
 */
function mapVdso(mm: AddressSpace, vdso: VdsoImage): number {
  const base = mm.findFree(VVAR_BYTES + elfSpan(vdso.elf));
  mm.map({ start: base, end: base + VVAR_BYTES, prot: Prot.READ, shared: true, file: vdso.vvar, fileOffset: 0, label: '' });
  mapElf(mm, vdso.elf, vdso.file, base + VVAR_BYTES);
  return base + VVAR_BYTES;
}

/** Lays out the initial stack (System V x86-64 ABI, figure 3.9) and returns the stack pointer. */
function buildStack(mm: AddressSpace, argv: string[], envp: string[], execfn: string,
  aux: Record<number, number>): number {
  mm.map({ start: USER_END - STACK_SIZE, end: USER_END, prot: Prot.READ | Prot.WRITE, shared: false, file: null, fileOffset: 0, label: '[stack]' });
  let sp = USER_END;
  const pushBytes = (bytes: Uint8Array): number => {
    sp -= bytes.length;
    mm.write(sp, bytes);
    return sp;
  };
  const pushString = (s: string): number => pushBytes(Buffer.from(s + '\0', 'latin1'));
  pushString(execfn);
  const execfnAddress = sp;
  const envAddresses = envp.map(pushString);
  const argAddresses = argv.map(pushString);
  const platform = pushString('x86_64');
  const random = pushBytes(randomFillSync(new Uint8Array(16)));
  const auxv: Array<[number, number]> = Object.entries(aux).map(([k, v]) => [Number(k), v]);
  auxv.push([AT.PLATFORM, platform], [AT.RANDOM, random], [AT.EXECFN, execfnAddress], [AT.NULL, 0]);
  const words = [argv.length, ...argAddresses, 0, ...envAddresses, 0, ...auxv.flat()];
  sp = Math.floor((sp - words.length * 8) / 16) * 16;
  const table = new Uint8Array(words.length * 8);
  const dv = new DataView(table.buffer);
  words.forEach((w, i) => dv.setBigUint64(i * 8, BigInt(w), true));
  mm.write(sp, table);
  return sp;
}
