// The mount table: the rootfs, the binds and the synthetic filesystems, each at a canonical
// guest path. Lookups cross into a mount when a walk reaches its mount point, whatever the
// directory underneath holds, so mount points need not exist in the rootfs.
import type { Thread } from '../task.js';
import { FS_MAGIC } from './synth-stat.js';
import { baseName, joinPath, parentPath } from './path.js';
import { dynamicDir, type SynthDir } from './synthetic.js';

export interface HostMount {
  readonly kind: 'host';
  readonly at: string;
  /** O_PATH|O_DIRECTORY fd of the host directory shown at `at`; lives as long as the Vfs. */
  readonly rootFd: number;
  readonly readOnly: boolean;
  /** Host path (byte string), for /proc/mounts. */
  readonly source: string;
}

export interface SynthMount {
  readonly kind: 'synth';
  readonly at: string;
  readonly fsType: string;
  readonly magic: number;
  /** Minor device number for st_dev. */
  readonly minor: number;
  readonly options: string;
  /** The root directory as the calling thread sees it (/proc/self depends on who asks). */
  root(t: Thread): SynthDir;
}

export type Mount = HostMount | SynthMount;

export class MountTable {
  private readonly byPath = new Map<string, Mount>();
  /** Each directory on the way to a mount point, with the names leading on towards mounts. */
  private readonly ancestors = new Map<string, Set<string>>();
  /**
   * Stands in for ancestors of mount points that the directory underneath lacks (a bind at
   * /mnt/b when the rootfs has no /mnt): read-only empty directories leading to the mounts.
   */
  readonly stubs: SynthMount;

  constructor(readonly root: HostMount, others: readonly Mount[]) {
    this.byPath.set('/', root);
    for (const m of others) {
      this.byPath.set(m.at, m);
      for (let p = m.at; p !== '/'; p = parentPath(p)) {
        const names = this.ancestors.get(parentPath(p)) ?? new Set<string>();
        names.add(baseName(p));
        this.ancestors.set(parentPath(p), names);
      }
    }
    this.stubs = {
      kind: 'synth', at: '/', fsType: 'tmpfs', magic: FS_MAGIC.tmpfs, minor: 30, options: 'ro',
      root: () => this.stubDir('/'),
    };
  }

  /** True when path is a directory on the way to a mount point (not `/`). */
  leadsToMount(path: string): boolean {
    return path !== '/' && this.ancestors.has(path);
  }

  /** The stub directory at path, listing the names that lead on towards mount points. */
  stubDir(path: string): SynthDir {
    return dynamicDir(
      () => [...(this.ancestors.get(path) ?? [])],
      (name) => (this.ancestors.get(path)?.has(name) ? this.stubDir(joinPath(path, name)) : undefined),
    );
  }

  /** The mount whose mount point is exactly path. */
  at(path: string): Mount | undefined {
    return this.byPath.get(path);
  }

  /** The innermost mount containing the canonical path. */
  containing(path: string): Mount {
    for (let p = path; ; p = parentPath(p)) {
      const m = this.byPath.get(p);
      if (m) return m;
      if (p === '/') return this.root;
    }
  }

  /** The real mounts (not the stubs), for /proc/mounts. */
  get all(): Mount[] {
    return [...this.byPath.values()];
  }
}
