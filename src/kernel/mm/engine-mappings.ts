// What one CPU engine has mapped of an address space. Engines map regions lazily, when guest
// code first touches them. Unicorn keeps at most ENGINE_REGION_LIMIT: its cost of mapping
// grows with the square of its region count, so the oldest region is evicted first (a later
// touch maps it again). An engine that maps pages (KVM) has no limit, and a change to part of
// a region it mapped changes only that part (reshape).
import { Prot, type CpuBackend } from '../../cpu-worker/backend.js';

const ENGINE_REGION_LIMIT = 1024;

/** What an engine may do with a page: x86 cannot express write-only or exec-only pages. */
export function enginePerms(prot: number): number {
  return prot & (Prot.WRITE | Prot.EXEC) ? prot | Prot.READ : prot;
}

export function allows(prot: number, access: 'read' | 'write' | 'exec'): boolean {
  const p = enginePerms(prot);
  return access === 'read' ? (p & Prot.READ) !== 0 : access === 'write' ? (p & Prot.WRITE) !== 0 : (p & Prot.EXEC) !== 0;
}

export interface MappableRegion {
  readonly start: number;
  readonly end: number;
  readonly prot: number;
}

/** The region of a list sorted by start (and not overlapping) that holds addr. */
export function regionAt<R extends MappableRegion>(sorted: readonly R[], addr: number): R | undefined {
  let lo = 0, hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const r = sorted[mid];
    if (addr < r.start) hi = mid - 1;
    else if (addr >= r.end) lo = mid + 1;
    else return r;
  }
  return undefined;
}

export class EngineMappings<R extends MappableRegion> {
  /** Insertion order is age order. */
  private readonly mapped = new Set<R>();

  constructor(readonly engine: CpuBackend) {}

  has(r: R): boolean {
    return this.mapped.has(r);
  }

  map(r: R, prot: number, hostAddress: number): void {
    if (!this.engine.mapsPages && this.mapped.size >= ENGINE_REGION_LIMIT) this.unmap(this.mapped.values().next().value!);
    this.mapped.add(r);
    this.engine.map(r.start, r.end - r.start, enginePerms(prot), hostAddress);
  }

  /**
   * Unmaps r if the engine has it. Code translated from it is dropped first, while its
   * addresses still translate: Unicorn 2.0.1 keeps the translations of an unmapped region,
   * and a region mapped later onto the same engine memory would run stale code, or take its
   * own stores for self-modifying code and spin in page_collection_lock.
   */
  unmap(r: R): void {
    if (!this.mapped.delete(r)) return;
    if (r.prot & Prot.EXEC) this.engine.flushCode(r.start, r.end - r.start);
    this.engine.unmap(r.start, r.end - r.start);
  }

  /** For an engine that maps pages: maps [s, e) of r (a fault-around window) onto pool bytes at hostAddress. */
  mapPart(r: R, s: number, e: number, hostAddress: number): void {
    this.mapped.add(r);
    this.engine.map(s, e - s, enginePerms(r.prot), hostAddress);
  }

  /**
   * For an engine that maps pages: r, of which it has mapped some pages, becomes the pieces outside [s, e),
   * whose pages stay as they are, and inside (or nothing) for [s, e), with r's pages: those
   * mapped are re-protected in place when it is accessible (mprotect), else unmapped. Linux
   * changes only the pages of the range too; remapping the whole VMA cost every page of the
   * untouched pieces a fault (a KVM exit) and, for pages already used, a run of the shim.
   */
  reshape(r: R, s: number, e: number, outside: readonly R[], inside: R | null): void {
    if (!this.mapped.delete(r)) return;
    for (const piece of outside) this.mapped.add(piece);
    if (inside && inside.prot !== Prot.NONE) {
      this.mapped.add(inside);
      this.engine.protect(s, e - s, enginePerms(inside.prot));
    } else {
      this.engine.unmap(s, e - s);
    }
  }

  regions(): R[] {
    return [...this.mapped];
  }
}
