// ELF64 headers of x86-64 executables: what the loader needs and nothing more.
import { E, Errno } from '../errno.js';

export const PT_LOAD = 1;
export const PT_INTERP = 3;
export const PT_PHDR = 6;
export const PT_TLS = 7;
export const PT_GNU_STACK = 0x6474e551;
export const ET_EXEC = 2;
export const ET_DYN = 3;
const EM_X86_64 = 62;

export interface ProgramHeader {
  type: number;
  flags: number;
  offset: number;
  vaddr: number;
  filesz: number;
  memsz: number;
  align: number;
}

export interface ElfImage {
  type: number;
  entry: number;
  phoff: number;
  phentsize: number;
  phnum: number;
  phdrs: ProgramHeader[];
}

/** Why a file is not an x86-64 executable, as a user should read it. */
export class NotExecutable extends Errno {
  constructor(readonly reason: string, errno = E.ENOEXEC) {
    super(errno);
  }
}

/** Parses the ELF header and program headers from the first bytes of a file. */
export function parseElf(head: Uint8Array, fileSize: number): ElfImage {
  if (head.length < 64 || head[0] !== 0x7f || head[1] !== 0x45 || head[2] !== 0x4c || head[3] !== 0x46) {
    throw new NotExecutable('not an ELF file');
  }
  const dv = new DataView(head.buffer, head.byteOffset, head.byteLength);
  if (head[4] !== 2 || head[5] !== 1 || dv.getUint16(18, true) !== EM_X86_64) {
    throw new NotExecutable('not an x86-64 ELF file');
  }
  const type = dv.getUint16(16, true);
  if (type !== ET_EXEC && type !== ET_DYN) throw new NotExecutable('not an executable ELF file');
  const phoff = Number(dv.getBigUint64(32, true));
  const phentsize = dv.getUint16(54, true);
  const phnum = dv.getUint16(56, true);
  if (phentsize !== 56 || phnum === 0 || phnum > 128 || phoff + phnum * 56 > head.length) {
    throw new NotExecutable('truncated or corrupt ELF program headers');
  }
  const phdrs: ProgramHeader[] = [];
  for (let i = 0; i < phnum; i++) {
    const o = phoff + i * 56;
    const ph = {
      type: dv.getUint32(o, true),
      flags: dv.getUint32(o + 4, true),
      offset: Number(dv.getBigUint64(o + 8, true)),
      vaddr: Number(dv.getBigUint64(o + 16, true)),
      filesz: Number(dv.getBigUint64(o + 32, true)),
      memsz: Number(dv.getBigUint64(o + 40, true)),
      align: Number(dv.getBigUint64(o + 48, true)),
    };
    if (ph.type === PT_LOAD && (ph.offset + ph.filesz > fileSize || ph.filesz > ph.memsz)) {
      throw new NotExecutable('truncated ELF file');
    }
    phdrs.push(ph);
  }
  if (!phdrs.some((p) => p.type === PT_LOAD)) throw new NotExecutable('ELF file has no loadable segment');
  return { type, entry: Number(dv.getBigUint64(24, true)), phoff, phentsize, phnum, phdrs };
}
