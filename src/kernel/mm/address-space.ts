import { CHUNK_SIZE, PAGE_SIZE } from '../../shared-mem/layout.js';
import type { FramePool } from '../../shared-mem/frame-pool.js';
import { Prot, type CpuBackend } from '../../cpu-worker/backend.js';
import { E, Errno } from '../errno.js';
import { hostSyscall, HostNr, scratch } from '../host/libc.js';

/** A host file a mapping reads its pages from; closed when the last mapping goes. */
export class MappedFile {
  private refs = 0;
  /** Whether the host fd was opened for writing: shared writable mappings need it. */
  readonly writable: boolean;
  constructor(readonly hostFd: number, readonly guestPath: string) {
    this.writable = (hostSyscall(HostNr.fcntl, hostFd, F_GETFL) & O_ACCMODE) === O_RDWR;
  }
  ref(): this {
    this.refs++;
    return this;
  }
  unref(): void {
    if (--this.refs === 0) hostSyscall(HostNr.close, this.hostFd);
  }
}

export interface Vma {
  start: number;
  end: number;
  prot: number;
  shared: boolean;
  /** Backing file of a file mapping; its page at start is fileOffset. */
  file: MappedFile | null;
  fileOffset: number;
  /** Shown in /proc/PID/maps for anonymous regions: [heap], [stack]. */
  label: string;
}

const F_GETFL = 3, O_ACCMODE = 3, O_RDWR = 2;
const HOST_MMAP = 9, HOST_PROT_READ = 1, HOST_PROT_WRITE = 2;
const HOST_MAP_SHARED = 1, HOST_MAP_PRIVATE = 2, HOST_MAP_FIXED = 0x10, HOST_MAP_ANONYMOUS = 0x20;

export const pageDown = (a: number) => a - (a % PAGE_SIZE);
export const pageUp = (a: number) => Math.ceil(a / PAGE_SIZE) * PAGE_SIZE;
const chunkOf = (a: number) => Math.floor(a / CHUNK_SIZE);

/** Lowest and highest user addresses, as on x86-64 Linux with 4-level paging. */
export const USER_MIN = 0x10000;
export const USER_END = 0x7ffffffff000;
export const MMAP_BASE = 0x7ffff7fff000;

/** What an engine may do with a page: x86 cannot express write-only or exec-only pages. */
function enginePerms(prot: number): number {
  return prot & (Prot.WRITE | Prot.EXEC) ? prot | Prot.READ : prot;
}

/**
 * A process's virtual memory: VMAs, and the pool frames backing the 64 KiB chunks that were
 * touched. Frames are allocated on first touch (an engine fault or a kernel copy), so
 * reservations and untouched memory cost nothing. Every engine running this address space
 * is told about each change.
 */
export class AddressSpace {
  private vmas: Vma[] = [];
  private readonly chunks = new Map<number, number>();
  private readonly engines = new Set<CpuBackend>();
  brkStart = 0;
  brk = 0;

  constructor(readonly pool: FramePool, private readonly poolAddress: number) {}

  attach(engine: CpuBackend): void {
    this.engines.add(engine);
    for (const [chunk, offset] of this.chunks) this.mapChunkInto(engine, chunk, offset);
  }

  detach(engine: CpuBackend): void {
    this.engines.delete(engine);
  }

  get regions(): readonly Vma[] {
    return this.vmas;
  }

  findVma(addr: number): Vma | undefined {
    let lo = 0, hi = this.vmas.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const v = this.vmas[mid];
      if (addr < v.start) hi = mid - 1;
      else if (addr >= v.end) lo = mid + 1;
      else return v;
    }
    return undefined;
  }

  /** A free range of len bytes: at hint when it is free, else the highest gap below MMAP_BASE. */
  findFree(len: number, hint = 0): number {
    if (hint && hint >= USER_MIN && hint + len <= USER_END && this.isFree(hint, hint + len)) return hint;
    let top = MMAP_BASE;
    for (let i = this.vmas.length - 1; i >= 0; i--) {
      const v = this.vmas[i];
      if (v.start >= top) continue;
      if (v.end <= top - len) return top - len;
      top = Math.min(top, v.start);
    }
    if (top - len >= USER_MIN) return top - len;
    throw new Errno(E.ENOMEM);
  }

  private isFree(start: number, end: number): boolean {
    return !this.vmas.some((v) => v.start < end && v.end > start);
  }

  /** Creates a mapping, replacing whatever was at [start, end). */
  map(vma: Vma): void {
    this.unmap(vma.start, vma.end - vma.start);
    vma.file?.ref();
    const i = this.vmas.findIndex((v) => v.start >= vma.end);
    this.vmas.splice(i < 0 ? this.vmas.length : i, 0, vma);
    this.forEachChunk(vma.start, vma.end, (chunk, offset) => {
      this.fillFromVma(vma, offset, chunk * CHUNK_SIZE, vma.start, vma.end);
      this.protectInEngines(Math.max(vma.start, chunk * CHUNK_SIZE), Math.min(vma.end, (chunk + 1) * CHUNK_SIZE), vma.prot);
    });
    this.flushCode(vma.start, vma.end);
  }

  unmap(start: number, len: number): void {
    const end = start + len;
    const kept: Vma[] = [];
    for (const v of this.vmas) {
      if (v.end <= start || v.start >= end) {
        kept.push(v);
        continue;
      }
      if (v.shared && v.file) this.unshareRange(Math.max(v.start, start), Math.min(v.end, end));
      if (v.start < start) kept.push({ ...v, end: start, file: v.file?.ref() ?? null });
      if (v.end > end) kept.push({ ...v, start: end, fileOffset: v.fileOffset + (end - v.start), file: v.file?.ref() ?? null });
      v.file?.unref();
    }
    this.vmas = kept;
    this.forEachChunk(start, end, (chunk, offset) => {
      const cStart = chunk * CHUNK_SIZE, cEnd = cStart + CHUNK_SIZE;
      if (this.isFree(cStart, cEnd)) {
        for (const e of this.engines) e.unmap(cStart, CHUNK_SIZE);
        this.chunks.delete(chunk);
        this.pool.free(offset);
      } else {
        this.protectInEngines(Math.max(start, cStart), Math.min(end, cEnd), Prot.NONE);
      }
    });
    this.flushCode(start, end);
  }

  /** mprotect: ENOMEM when part of the range is not mapped. */
  protect(start: number, len: number, prot: number): void {
    const end = start + len;
    let covered = start;
    for (const v of this.vmas) {
      if (v.end <= covered || v.start >= end) continue;
      if (v.start > covered) throw new Errno(E.ENOMEM);
      covered = v.end;
    }
    if (covered < end) throw new Errno(E.ENOMEM);
    if (prot & Prot.WRITE && this.vmas.some((v) => v.end > start && v.start < end && v.shared && v.file && !v.file.writable)) {
      throw new Errno(E.EACCES);
    }
    const next: Vma[] = [];
    for (const v of this.vmas) {
      if (v.end <= start || v.start >= end || v.prot === prot) {
        next.push(v);
        continue;
      }
      const s = Math.max(v.start, start), e = Math.min(v.end, end);
      if (v.start < s) next.push({ ...v, end: s, file: v.file?.ref() ?? null });
      next.push({ ...v, start: s, end: e, prot, fileOffset: v.fileOffset + (s - v.start), file: v.file?.ref() ?? null });
      if (e < v.end) next.push({ ...v, start: e, fileOffset: v.fileOffset + (e - v.start), file: v.file?.ref() ?? null });
      v.file?.unref();
    }
    this.vmas = next;
    this.forEachChunk(start, end, (chunk) => {
      this.protectInEngines(Math.max(start, chunk * CHUNK_SIZE), Math.min(end, (chunk + 1) * CHUNK_SIZE), prot);
    });
    this.flushCode(start, end);
  }

  /** MADV_DONTNEED: private anonymous pages read back as zero, private file pages as the file. */
  discard(start: number, end: number): void {
    this.forEachChunk(start, end, (chunk, offset) => {
      const cStart = chunk * CHUNK_SIZE;
      for (const v of this.vmas) {
        if (v.end <= start || v.start >= end || v.shared) continue;
        this.fillFromVma(v, offset, cStart, Math.max(start, v.start), Math.min(end, v.end));
      }
    });
  }

  /** Engine fault on an address with no engine mapping: back its chunk if a VMA allows the access. */
  fault(addr: number, access: 'read' | 'write' | 'exec'): boolean {
    const v = this.findVma(addr);
    if (!v || !allows(v.prot, access)) return false;
    return this.backChunk(chunkOf(addr)) >= 0;
  }

  /** Pool offset of the chunk's frame, allocating and filling it on first touch; -1 if the pool is full. */
  private backChunk(chunk: number): number {
    const existing = this.chunks.get(chunk);
    if (existing !== undefined) return existing;
    const offset = this.pool.allocate();
    if (offset < 0) return -1;
    this.chunks.set(chunk, offset);
    const cStart = chunk * CHUNK_SIZE, cEnd = cStart + CHUNK_SIZE;
    for (const v of this.vmas) {
      if (v.end <= cStart || v.start >= cEnd) continue;
      this.fillFromVma(v, offset, cStart, v.start, v.end);
    }
    for (const e of this.engines) this.mapChunkInto(e, chunk, offset);
    return offset;
  }

  private mapChunkInto(engine: CpuBackend, chunk: number, offset: number): void {
    const cStart = chunk * CHUNK_SIZE, cEnd = cStart + CHUNK_SIZE;
    const pieces = this.vmas.filter((v) => v.end > cStart && v.start < cEnd);
    const whole = pieces.length === 1 && pieces[0].start <= cStart && pieces[0].end >= cEnd;
    engine.map(cStart, CHUNK_SIZE, whole ? enginePerms(pieces[0].prot) : Prot.NONE, this.poolAddress + offset);
    if (whole) return;
    for (const v of pieces) {
      engine.protect(Math.max(v.start, cStart), Math.min(v.end, cEnd) - Math.max(v.start, cStart), enginePerms(v.prot));
    }
  }

  /** Writes the initial contents of [from, to) ∩ vma ∩ chunk: zeros, or the file's bytes. */
  private fillFromVma(v: Vma, frameOffset: number, chunkStart: number, from: number, to: number): void {
    const s = Math.max(from, v.start, chunkStart), e = Math.min(to, v.end, chunkStart + CHUNK_SIZE);
    if (s >= e) return;
    const at = frameOffset + (s - chunkStart);
    new Uint8Array(this.pool.memory, at, e - s).fill(0);
    if (!v.file) return;
    const fileOffset = v.fileOffset + (s - v.start);
    if (!v.shared) {
      hostSyscall(HostNr.pread64, v.file.hostFd, this.poolAddress + at, e - s, fileOffset);
      return;
    }
    // A shared file mapping puts the host file's own pages (its page cache) into the pool, so
    // writes through the mapping and through the fd see each other. Pages wholly past the end
    // of the file stay anonymous zeros: touching a host mapping there would be a host SIGBUS.
    const inFile = Math.min(e - s, Math.max(0, pageUp(hostFileSize(v.file.hostFd)) - fileOffset));
    if (inFile <= 0) return;
    const prot = HOST_PROT_READ | (v.file.writable ? HOST_PROT_WRITE : 0);
    const r = hostSyscall(HOST_MMAP, this.poolAddress + at, inFile, prot, HOST_MAP_SHARED | HOST_MAP_FIXED, v.file.hostFd, fileOffset);
    if (r < 0) throw new Errno(-r);
  }

  /** Gives pool pages that held a shared file mapping back their own anonymous memory. */
  private unshareRange(start: number, end: number): void {
    this.forEachChunk(start, end, (chunk, offset) => {
      const cStart = chunk * CHUNK_SIZE;
      const s = Math.max(start, cStart), e = Math.min(end, cStart + CHUNK_SIZE);
      if (s >= e) return;
      hostSyscall(HOST_MMAP, this.poolAddress + offset + (s - cStart), e - s, HOST_PROT_READ | HOST_PROT_WRITE,
        HOST_MAP_PRIVATE | HOST_MAP_FIXED | HOST_MAP_ANONYMOUS, -1, 0);
    });
  }

  /**
   * After the guest shrinks a file, pages of shared mappings past the new end of file go back
   * to anonymous memory, so that no later touch faults on the host.
   */
  revalidateSharedFiles(): void {
    for (const v of this.vmas) {
      if (!v.shared || !v.file) continue;
      const endInFile = pageUp(hostFileSize(v.file.hostFd));
      const cut = Math.max(v.start, v.start + (endInFile - v.fileOffset));
      if (cut < v.end) this.unshareRange(cut, v.end);
    }
  }

  private protectInEngines(start: number, end: number, prot: number): void {
    if (start >= end) return;
    for (const e of this.engines) e.protect(start, end - start, enginePerms(prot));
  }

  private flushCode(start: number, end: number): void {
    for (const e of this.engines) e.flushCode(start, end - start);
  }

  private forEachChunk(start: number, end: number, fn: (chunk: number, offset: number) => void): void {
    const first = chunkOf(start), last = chunkOf(end - 1);
    if (last - first > this.chunks.size) {
      for (const [c, offset] of [...this.chunks]) if (c >= first && c <= last) fn(c, offset);
      return;
    }
    for (let c = first; c <= last; c++) {
      const offset = this.chunks.get(c);
      if (offset !== undefined) fn(c, offset);
    }
  }

  // ---- Kernel access to guest memory. Every guest pointer goes through these. ----

  /**
   * Host spans backing [addr, addr+len) for the given access, faulting chunks in.
   * EFAULT when any byte is outside a VMA that allows the access.
   */
  spans(addr: number, len: number, access: 'read' | 'write', privileged = false): Array<[number, number]> {
    if (len === 0) return [];
    if (!Number.isSafeInteger(addr) || addr < 0 || len < 0 || addr + len > USER_END) throw new Errno(E.EFAULT);
    const out: Array<[number, number]> = [];
    let a = addr;
    const end = addr + len;
    while (a < end) {
      const v = this.findVma(a);
      if (!v || (!privileged && !allows(v.prot, access))) throw new Errno(E.EFAULT);
      const chunk = chunkOf(a);
      const offset = this.backChunk(chunk);
      if (offset < 0) throw new Errno(E.ENOMEM);
      const stop = Math.min(end, v.end, (chunk + 1) * CHUNK_SIZE);
      const poolAt = offset + (a - chunk * CHUNK_SIZE);
      const last = out[out.length - 1];
      if (last && last[0] + last[1] === poolAt) last[1] += stop - a;
      else out.push([poolAt, stop - a]);
      a = stop;
    }
    return out;
  }

  /** Host addresses of the spans, for passing guest buffers straight to host syscalls. */
  hostSpans(addr: number, len: number, access: 'read' | 'write'): Array<[number, number]> {
    return this.spans(addr, len, access).map(([off, n]) => [this.poolAddress + off, n]);
  }

  /** Bytes of pool frames backing this address space. */
  get residentBytes(): number {
    return this.chunks.size * CHUNK_SIZE;
  }

  /** Whether the chunk holding addr has a frame (was touched). */
  isBacked(addr: number): boolean {
    return this.chunks.has(chunkOf(addr));
  }

  /** Reads regardless of protection (the kernel's own copies: mremap, fork). */
  readPrivileged(addr: number, len: number): Uint8Array {
    return this.copyFromSpans(this.spans(addr, len, 'read', true), len);
  }

  /**
   * Runs fn with a host address standing for the guest buffer [addr, addr+size): the guest's
   * own bytes when they are contiguous in the pool, else a bounce buffer copied in before
   * ('read') or out after ('write') a successful call (fn's result >= 0).
   */
  withHostBuffer(addr: number, size: number, access: 'read' | 'write', fn: (hostAddress: number) => number): number {
    const spans = this.spans(addr, size, access);
    if (spans.length <= 1) return fn(spans.length ? this.poolAddress + spans[0][0] : 0);
    const bounce = scratch.bounce(size);
    if (access === 'read') bounce.view.set(this.copyFromSpans(spans, size));
    const r = fn(bounce.address);
    if (access === 'write' && r >= 0) this.write(addr, bounce.view.slice(0, size));
    return r;
  }

  read(addr: number, len: number): Uint8Array {
    return this.copyFromSpans(this.spans(addr, len, 'read'), len);
  }

  private copyFromSpans(spans: Array<[number, number]>, len: number): Uint8Array {
    const out = new Uint8Array(len);
    let at = 0;
    for (const [off, n] of spans) {
      out.set(new Uint8Array(this.pool.memory, off, n), at);
      at += n;
    }
    return out;
  }

  write(addr: number, data: Uint8Array, privileged = false): void {
    let at = 0;
    for (const [off, n] of this.spans(addr, data.length, 'write', privileged)) {
      new Uint8Array(this.pool.memory, off, n).set(data.subarray(at, at + n));
      at += n;
    }
  }

  /** A NUL-terminated string as a byte string; ENAMETOOLONG past max bytes. */
  readCString(addr: number, max = 4096): string {
    let s = '';
    const mem = new Uint8Array(this.pool.memory);
    for (let a = addr; ; ) {
      const room = Math.min(CHUNK_SIZE - (a % CHUNK_SIZE), max + 1 - s.length);
      const [[off, n]] = this.spans(a, Math.min(room, this.readableRun(a)), 'read');
      for (let i = 0; i < n; i++) {
        const b = mem[off + i];
        if (b === 0) return s;
        s += String.fromCharCode(b);
      }
      if (s.length > max) throw new Errno(E.ENAMETOOLONG);
      a += n;
    }
  }

  private readableRun(a: number): number {
    const v = this.findVma(a);
    if (!v) throw new Errno(E.EFAULT);
    return v.end - a;
  }

  readU32(addr: number): number {
    return new DataView(this.read(addr, 4).buffer).getUint32(0, true);
  }

  readU64(addr: number): number {
    return Number(new DataView(this.read(addr, 8).buffer).getBigUint64(0, true));
  }

  readI64(addr: number): number {
    return Number(new DataView(this.read(addr, 8).buffer).getBigInt64(0, true));
  }

  writeU32(addr: number, value: number): void {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, value >>> 0, true);
    this.write(addr, b);
  }

  writeU64(addr: number, value: number | bigint): void {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, BigInt(value)), true);
    this.write(addr, b);
  }

  /** Releases every mapping (process exit or exec). */
  destroy(): void {
    this.unmap(0, USER_END);
  }
}

function hostFileSize(hostFd: number): number {
  const st = scratch.bounce(144);
  if (hostSyscall(HostNr.fstat, hostFd, st.address) < 0) return 0;
  return Number(new DataView(st.view.buffer, st.view.byteOffset, 144).getBigInt64(48, true));
}

function allows(prot: number, access: 'read' | 'write' | 'exec'): boolean {
  const p = enginePerms(prot);
  return access === 'read' ? (p & Prot.READ) !== 0 : access === 'write' ? (p & Prot.WRITE) !== 0 : (p & Prot.EXEC) !== 0;
}
