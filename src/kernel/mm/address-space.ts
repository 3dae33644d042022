import { CHUNK_SIZE, PAGE_SIZE } from '../../shared-mem/layout.js';
import type { FramePool } from '../../shared-mem/frame-pool.js';
import { Prot, type CpuBackend } from '../../cpu-worker/backend.js';
import type { EngineRegion } from '../../shared-mem/exec-slot.js';
import { allows, EngineMappings, regionAt } from './engine-mappings.js';
import { E, Errno } from '../errno.js';
import { hostSyscall, HostNr, scratch } from '../host/libc.js';
import { SharedHostFd } from '../host/host-fd.js';

const F_GETFL = 3, O_ACCMODE = 3, O_RDWR = 2;
const HOST_MMAP = 9, HOST_MREMAP = 25;
const HOST_PROT_READ = 1, HOST_PROT_WRITE = 2;
const HOST_MAP_SHARED = 1, HOST_MAP_PRIVATE = 2, HOST_MAP_FIXED = 0x10, HOST_MAP_ANONYMOUS = 0x20;
const HOST_MREMAP_MAYMOVE = 1, HOST_MREMAP_FIXED = 2;

/** A host file a mapping reads its pages from; each mapping holds a reference (none at first). */
export class MappedFile extends SharedHostFd {
  /** Whether the host fd was opened for writing: shared writable mappings need it. */
  readonly writable: boolean;
  constructor(hostFd: number, readonly guestPath: string) {
    super(hostFd, 0);
    this.writable = (hostSyscall(HostNr.fcntl, hostFd, F_GETFL) & O_ACCMODE) === O_RDWR;
  }
}

/** A run of pool frames backing the pieces of one mapping; freed when no page is left in use. */
class Extent {
  constructor(readonly offset: number, readonly frames: number, public livePages: number) {}
}

const HOST_MINCORE = 27;

/** What a caller asks to map. */
export interface VmaSpec {
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

export interface Vma extends VmaSpec {
  /** The pool frames holding this VMA's pages (contiguous), or null while it was never accessible. */
  extent: Extent | null;
  /** Byte offset of the page at start within the extent. */
  extentOffset: number;
  /** Set whenever the VMA enters the list or its code may have changed: engines elsewhere remap a VMA whose serial changed. */
  serial: number;
}

export const pageDown = (a: number) => a - (a % PAGE_SIZE);
export const pageUp = (a: number) => Math.ceil(a / PAGE_SIZE) * PAGE_SIZE;

/**
 * What an engine that maps pages (KVM) maps on a fault: the whole VMA up to MAP_WHOLE_BYTES
 * (a library's segments: one exit each), else the aligned FAULT_AROUND_BYTES around the
 * fault, as Linux's fault_around_bytes (64 KiB) but larger, since each fault is an exit to
 * the worker (46-60 us on PVM). Mapping every page of a large VMA at once cost a process's
 * 8 MiB stack 7-10 ms of page-table writes for the few pages it uses (measured).
 */
const MAP_WHOLE_BYTES = 1024 * 1024;
const FAULT_AROUND_BYTES = 256 * 1024;

function faultAround(v: Vma, addr: number): [number, number] {
  if (v.end - v.start <= MAP_WHOLE_BYTES) return [v.start, v.end];
  const s = Math.max(v.start, addr - (addr % FAULT_AROUND_BYTES));
  return [s, Math.min(v.end, addr - (addr % FAULT_AROUND_BYTES) + FAULT_AROUND_BYTES)];
}

/** Lowest and highest user addresses, as on x86-64 Linux with 4-level paging. */
export const USER_MIN = 0x10000;
export const USER_END = 0x7ffffffff000;
export const MMAP_BASE = 0x7ffff7fff000;


function hostFileSize(hostFd: number): number {
  const st = scratch.bounce(144);
  if (hostSyscall(HostNr.fstat, hostFd, st.address) < 0) return 0;
  return Number(new DataView(st.view.buffer, st.view.byteOffset, 144).getBigInt64(48, true));
}

/**
 * A process's virtual memory: a sorted list of VMAs, each accessible one backed by a
 * contiguous run of pool frames. Backing is reserved when a mapping becomes accessible, but
 * the host commits memory only for pages the guest touches; PROT_NONE reservations take no
 * frames at all. File mappings are host mappings of the file placed over their pool pages
 * (private: copy-on-write; shared: the host's page cache), so nothing is copied at mmap time.
 * Engines on this vCPU map VMAs lazily, one engine region per VMA, when guest code first
 * touches them (see engineFault and engine-mappings.ts); any change to a VMA unmaps it from
 * them (an engine that maps pages changes only the pages concerned, and maps a large VMA a
 * window at a time). Engines on other vCPUs get the list of engine regions (engineRegions) and remap what
 * changed; before a change, `quiesce` stops any other vCPU executing this address space, so
 * that none runs on a mapping that is going away (a TLB shootdown).
 */
let nextAddressSpaceId = 1;
let nextVmaSerial = 1;

/** Stops other vCPUs executing mm until it is next dispatched (the scheduler's shootdown). */
export type Quiesce = (mm: AddressSpace) => void;

export class AddressSpace {
  /** Names the address space in futex keys. */
  readonly id = nextAddressSpaceId++;
  private vmas: Vma[] = [];
  /** This vCPU's engines for the address space, with what each has mapped. */
  private readonly engines = new Map<CpuBackend, EngineMappings<Vma>>();
  /** Changes with every change of the VMA list: another vCPU's region list is current while it matches. */
  layoutVersion = 0;
  brkStart = 0;
  brk = 0;
  /** Processes using this address space (vfork's child shares its parent's until it execs). */
  users = 1;

  constructor(readonly pool: FramePool, private readonly poolAddress: number, private readonly quiesce: Quiesce) {}

  attach(engine: CpuBackend): void {
    this.engines.set(engine, new EngineMappings(engine));
  }

  detach(engine: CpuBackend): void {
    this.engines.delete(engine);
  }

  get regions(): readonly Vma[] {
    return this.vmas;
  }

  /** Bytes of pool reserved for this address space's accessible mappings. */
  get residentBytes(): number {
    return this.vmas.reduce((n, v) => n + (v.extent ? v.end - v.start : 0), 0);
  }

  findVma(addr: number): Vma | undefined {
    return regionAt(this.vmas, addr);
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

  isFree(start: number, end: number): boolean {
    return !this.vmas.some((v) => v.start < end && v.end > start);
  }

  /** Creates a mapping, replacing whatever was at [start, end). ENOMEM when the pool is full. */
  map(spec: VmaSpec): void {
    const vma: Vma = { ...spec, extent: null, extentOffset: 0, serial: 0 };
    if (spec.prot !== Prot.NONE) this.reserveBacking(vma);
    this.unmap(spec.start, spec.end - spec.start);
    spec.file?.ref();
    try {
      if (vma.extent) this.fill(vma, vma.start, vma.end);
    } catch (e) {
      if (vma.extent) this.releasePages(vma, vma.start, vma.end);
      spec.file?.unref();
      throw e;
    }
    this.insert(vma);
  }

  unmap(start: number, len: number): void {
    const end = start + len;
    this.replaceRange(start, end, (v, s, e) => {
      if (v.extent) this.releasePages(v, s, e);
      return null;
    });
  }

  /**
   * mprotect: EACCES for writable views of read-only shared files; ENOMEM when part of the
   * range is not mapped, after changing the mapped part before the first hole, as Linux does.
   */
  protect(start: number, len: number, prot: number): void {
    let end = start;
    for (let v = this.findVma(end); v && end < start + len; v = this.findVma(end)) end = Math.min(v.end, start + len);
    if (prot & Prot.WRITE && this.vmas.some((v) => v.end > start && v.start < end && v.shared && v.file && !v.file.writable)) {
      throw new Errno(E.EACCES);
    }
    if (end > start) {
      this.replaceRange(start, end, (v, s, e) => {
        const piece: Vma = { ...this.slice(v, s, e), prot };
        if (prot !== Prot.NONE && !piece.extent) {
          this.reserveBacking(piece);
          this.fill(piece, s, e);
        }
        return piece;
      });
    }
    if (end < start + len) throw new Errno(E.ENOMEM);
  }

  /** ENOMEM unless every page of [start, end) is mapped. */
  requireMapped(start: number, end: number): void {
    for (let a = start; a < end; ) {
      const v = this.findVma(a);
      if (!v) throw new Errno(E.ENOMEM);
      a = v.end;
    }
  }

  /** MADV_DONTNEED: private anonymous pages read back as zero, private file pages as the file. */
  discard(start: number, end: number): void {
    this.quiesce(this);
    for (const v of this.vmas) {
      if (v.end <= start || v.start >= end || v.shared || !v.extent) continue;
      const s = Math.max(start, v.start), e = Math.min(end, v.end);
      this.resetPages(v, s, e);
      this.fill(v, s, e);
    }
    this.flushCode(start, end);
  }

  /**
   * mremap's move: the mapping [oldStart, oldStart+oldLen) (inside one VMA) becomes
   * [newStart, newStart+newLen). Pages move on the host (mremap of the pool bytes), so
   * nothing is copied and untouched memory stays untouched. newStart may equal oldStart
   * (growing in place).
   */
  relocate(oldStart: number, oldLen: number, newStart: number, newLen: number): void {
    const v = this.findVma(oldStart)!;
    const moved: Vma = {
      ...v, start: newStart, end: newStart + newLen, fileOffset: v.fileOffset + (oldStart - v.start),
      file: v.file?.ref() ?? null, extent: null, extentOffset: 0, serial: 0,
    };
    const keep = Math.min(oldLen, newLen);
    this.quiesce(this);
    if (v.extent) {
      this.reserveBacking(moved);
      const from = this.hostAddress(v, oldStart), to = this.hostAddress(moved, newStart);
      const r = hostSyscall(HOST_MREMAP, from, keep, keep, HOST_MREMAP_MAYMOVE | HOST_MREMAP_FIXED, to);
      if (r < 0) throw new Errno(-r);
      this.plug(from, keep);
      if (newLen > keep) this.fill(moved, newStart + keep, newStart + newLen);
    }
    this.unmap(oldStart, oldLen);
    if (newStart !== oldStart) this.unmap(newStart, newLen);
    else this.unmap(newStart + oldLen, newLen - oldLen);
    this.insert(moved);
  }

  /**
   * After the guest shrinks a file, pages of its mappings wholly past the new end of file
   * become anonymous memory, so that no later touch faults on the host.
   */
  revalidateFileMappings(): void {
    this.quiesce(this);
    for (const v of this.vmas) {
      if (!v.file || !v.extent) continue;
      const cut = Math.max(v.start, v.start + (pageUp(hostFileSize(v.file.hostFd)) - v.fileOffset));
      if (cut < v.end) this.resetPages(v, cut, v.end);
    }
  }

  /**
   * An engine touched an address it has no region for: map the VMA there if it allows the
   * access (the engine then retries), evicting the engine's oldest region when it has too many.
   */
  engineFault(engine: CpuBackend, addr: number, access: 'read' | 'write' | 'exec'): boolean {
    const v = this.accessible(addr, access);
    const mapped = this.engines.get(engine);
    if (!v || !mapped) return false;
    if (engine.mapsPages) {
      const [s, e] = faultAround(v, addr);
      mapped.mapPart(v, s, e, this.hostAddress(v, s));
      return true;
    }
    if (mapped.has(v)) return false;
    mapped.map(v, v.prot, this.hostAddress(v, v.start));
    return true;
  }

  /** The VMA at addr if it allows the access and has pages. */
  accessible(addr: number, access: 'read' | 'write' | 'exec'): Vma | undefined {
    const v = this.findVma(addr);
    return v && v.extent && allows(v.prot, access) ? v : undefined;
  }

  /** What an engine on another vCPU may map, in address order. */
  engineRegions(): EngineRegion[] {
    return this.vmas.filter((v) => v.extent).map((v) => ({
      start: v.start, end: v.end, prot: v.prot, hostAddress: this.hostAddress(v, v.start), serial: v.serial,
    }));
  }

  /**
   * fork: a new address space with the same mappings. Shared mappings share their pool
   * pages; private ones get pages of their own, holding a copy of every page the parent has
   * touched (found with the host's mincore), so untouched memory stays untouched.
   */
  fork(): AddressSpace {
    this.quiesce(this);
    const child = new AddressSpace(this.pool, this.poolAddress, this.quiesce);
    child.brkStart = this.brkStart;
    child.brk = this.brk;
    const mem = new Uint8Array(this.pool.memory);
    for (const v of this.vmas) {
      const copy: Vma = { ...v, file: v.file?.ref() ?? null };
      if (v.extent && v.shared) {
        v.extent.livePages += (v.end - v.start) / PAGE_SIZE;
      } else if (v.extent) {
        child.reserveBacking(copy);
        child.fill(copy, copy.start, copy.end);
        const from = this.hostAddress(v, v.start) - this.poolAddress, to = child.hostAddress(copy, copy.start) - this.poolAddress;
        for (const [offset, len] of this.residentRuns(v)) mem.copyWithin(to + offset, from + offset, from + offset + len);
      }
      child.vmas.push(copy);
    }
    child.layoutVersion++;
    return child;
  }

  /** Byte runs of v that the host has in memory (touched pages), relative to v.start. */
  private residentRuns(v: Vma): Array<[number, number]> {
    const pages = (v.end - v.start) / PAGE_SIZE;
    const runs: Array<[number, number]> = [];
    const window = 1 << 18;
    for (let first = 0; first < pages; first += window) {
      const n = Math.min(window, pages - first);
      const vec = scratch.bounce(n);
      const r = hostSyscall(HOST_MINCORE, this.hostAddress(v, v.start + first * PAGE_SIZE), n * PAGE_SIZE, vec.address);
      for (let i = 0; i < n; i++) {
        if (r >= 0 && !(vec.view[i] & 1)) continue;
        const at = (first + i) * PAGE_SIZE;
        const last = runs[runs.length - 1];
        if (last && last[0] + last[1] === at) last[1] += PAGE_SIZE;
        else runs.push([at, PAGE_SIZE]);
      }
    }
    return runs;
  }

  /** Releases every mapping (process exit or exec). */
  destroy(): void {
    this.unmap(0, USER_END);
  }

  // ---- Internals ----

  private hostAddress(v: Vma, addr: number): number {
    return this.poolAddress + v.extent!.offset + v.extentOffset + (addr - v.start);
  }

  private reserveBacking(v: Vma): void {
    const len = v.end - v.start;
    const frames = Math.ceil(len / CHUNK_SIZE);
    const offset = this.pool.allocateRun(frames);
    if (offset < 0) throw new Errno(E.ENOMEM);
    v.extent = new Extent(offset, frames, len / PAGE_SIZE);
    v.extentOffset = 0;
  }

  /** Initial contents of [s, e) of v: file pages mapped from the host file, the rest zero. */
  private fill(v: Vma, s: number, e: number): void {
    if (!v.file) return;
    const fileOffset = v.fileOffset + (s - v.start);
    // Pages wholly past the end of the file stay anonymous zeros: a host mapping there would
    // raise SIGBUS on the host when touched (Linux gives the guest SIGBUS; we give zeros).
    const inFile = Math.min(e - s, Math.max(0, pageUp(hostFileSize(v.file.hostFd)) - fileOffset));
    if (inFile <= 0) return;
    // Host mappings are all writable: growing guest memory makes the whole pool writable in one
    // mprotect (V8's), which fails, and kills the machine, if one page of it cannot be. So a
    // shared mapping of a file opened read-only is private on the host: the guest can never
    // write it (mprotect gives EACCES), so it is never copied, and it shows the file's pages
    // as they change, as a shared one does (the vDSO's [vvar] page is one).
    const hostShared = v.shared && v.file.writable;
    const r = hostSyscall(HOST_MMAP, this.hostAddress(v, s), inFile, HOST_PROT_READ | HOST_PROT_WRITE,
      (hostShared ? HOST_MAP_SHARED : HOST_MAP_PRIVATE) | HOST_MAP_FIXED, v.file.hostFd, fileOffset);
    if (r < 0) throw new Errno(-r);
  }

  /** Fresh anonymous zero pages over host bytes (dropping file pages and touched memory). */
  private plug(hostAddress: number, len: number): void {
    hostSyscall(HOST_MMAP, hostAddress, len, HOST_PROT_READ | HOST_PROT_WRITE,
      HOST_MAP_PRIVATE | HOST_MAP_FIXED | HOST_MAP_ANONYMOUS, -1, 0);
  }

  private resetPages(v: Vma, s: number, e: number): void {
    this.plug(this.hostAddress(v, s), e - s);
  }

  private releasePages(v: Vma, s: number, e: number): void {
    this.resetPages(v, s, e);
    const extent = v.extent!;
    extent.livePages -= (e - s) / PAGE_SIZE;
    if (extent.livePages === 0) this.pool.freeRun(extent.offset, extent.frames);
  }

  /** The part [s, e) of v as a VMA of its own, sharing v's file and backing. */
  private slice(v: Vma, s: number, e: number): Vma {
    return { ...v, start: s, end: e, fileOffset: v.fileOffset + (s - v.start), extentOffset: v.extentOffset + (s - v.start), file: v.file?.ref() ?? null };
  }

  /**
   * Rewrites the VMAs overlapping [start, end): the parts outside stay as they were, each part
   * inside becomes what change returns (null: nothing). Engines follow the list.
   */
  private replaceRange(start: number, end: number, change: (v: Vma, s: number, e: number) => Vma | null): void {
    if (this.vmas.some((v) => v.end > start && v.start < end)) this.quiesce(this);
    const next: Vma[] = [];
    for (const v of this.vmas) {
      if (v.end <= start || v.start >= end) {
        next.push(v);
        continue;
      }
      const s = Math.max(v.start, start), e = Math.min(v.end, end);
      for (const mapped of this.engines.values()) if (!mapped.engine.mapsPages) mapped.unmap(v);
      const before = v.start < s ? this.slice(v, v.start, s) : null;
      const inside = change(v, s, e);
      const after = e < v.end ? this.slice(v, e, v.end) : null;
      const outside = [before, after].filter((x) => x !== null);
      for (const mapped of this.engines.values()) {
        if (mapped.engine.mapsPages) mapped.reshape(v, s, e, outside, inside);
      }
      v.file?.unref();
      next.push(...[before, inside, after].filter((x) => x !== null));
    }
    this.vmas = next;
    this.flushCode(start, end);
  }

  private insert(v: Vma): void {
    const i = this.vmas.findIndex((x) => x.start >= v.end);
    this.vmas.splice(i < 0 ? this.vmas.length : i, 0, v);
    this.flushCode(v.start, v.end);
  }

  /** Drops code translated from [start, end) here, and gives the VMAs there new serials so that other vCPUs drop theirs. */
  private flushCode(start: number, end: number): void {
    for (const e of this.engines.keys()) e.flushCode(start, end - start);
    for (const v of this.vmas) if (v.end > start && v.start < end) v.serial = nextVmaSerial++;
    this.layoutVersion++;
  }

  // ---- Kernel access to guest memory. Every guest pointer goes through these. ----

  /**
   * Pool spans backing [addr, addr+len) for the given access, as [poolOffset, length] pairs.
   * EFAULT when any byte is outside a VMA that allows the access.
   */
  spans(addr: number, len: number, access: 'read' | 'write', privileged = false): Array<[number, number]> {
    if (len === 0) return [];
    if (!Number.isSafeInteger(addr) || addr < 0 || len < 0 || addr + len > USER_END) throw new Errno(E.EFAULT);
    const out: Array<[number, number]> = [];
    const end = addr + len;
    for (let a = addr; a < end; ) {
      const v = this.findVma(a);
      if (!v || !v.extent || (!privileged && !allows(v.prot, access))) throw new Errno(E.EFAULT);
      const stop = Math.min(end, v.end);
      const at = v.extent.offset + v.extentOffset + (a - v.start);
      const last = out[out.length - 1];
      if (last && last[0] + last[1] === at) last[1] += stop - a;
      else out.push([at, stop - a]);
      a = stop;
    }
    return out;
  }

  /** Host addresses of the spans, for passing guest buffers straight to host syscalls. */
  hostSpans(addr: number, len: number, access: 'read' | 'write'): Array<[number, number]> {
    return this.spans(addr, len, access).map(([off, n]) => [this.poolAddress + off, n]);
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
      const v = this.findVma(a);
      if (!v) throw new Errno(E.EFAULT);
      const n = Math.min(v.end - a, max + 1 - s.length);
      const [[off]] = this.spans(a, n, 'read');
      for (let i = 0; i < n; i++) {
        const b = mem[off + i];
        if (b === 0) return s;
        s += String.fromCharCode(b);
      }
      if (s.length > max) throw new Errno(E.ENAMETOOLONG);
      a += n;
    }
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
}
