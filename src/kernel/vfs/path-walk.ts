// Path resolution inside the jail. The walk holds a host fd for every directory it is in
// and opens each component with openat(O_PATH|O_NOFOLLOW) relative to it, so the host never
// resolves more than one name and never follows a symlink: the walk reads symlinks itself
// and resolves them in guest terms (absolute targets from the guest root). `..` is
// lexical on the canonical guest path, so it can never climb above a mount's host directory.
import { E, Errno } from '../errno.js';
import { O, type OpenFile } from '../files.js';
import { hostSyscall, HostNr } from '../host/libc.js';
import type { Thread } from '../task.js';
import { cName, closeFd, modeAt, readLinkAt } from './host.js';
import type { HostMount, Mount, MountTable, SynthMount } from './mounts.js';
import { components, joinPath, MAX_SYMLINKS, NAME_MAX, parentPath } from './path.js';
import type { SynthDir, SynthNode } from './synthetic.js';

/** Where the object a path names lives; the caller applies its operation there. */
export type Target =
  /** dirFd/name on the host; name '' means dirFd itself. exists: null when not checked. */
  | { kind: 'host'; dirFd: number; name: string; mount: HostMount; exists: boolean | null }
  /** A synthetic node (undefined: no such entry in parent); name '' means node is the directory reached. */
  | { kind: 'synth'; mount: SynthMount; parent: SynthDir | null; name: string; node: SynthNode | undefined }
  /** An open file reached through a /proc/PID/fd link or AT_EMPTY_PATH. */
  | { kind: 'file'; file: OpenFile };

/** What the final component was: a name, `.`, `..`, or a root (`/` or a mount point). */
export type LastType = 'norm' | 'dot' | 'dotdot' | 'root';

export interface Resolved {
  /** Canonical guest path of the object. */
  path: string;
  target: Target;
  last: LastType;
  /** The path ended in `/`: the object must be a directory. */
  trailingSlash: boolean;
}

/** An open file as a resolved object (fstat, fchmod, AT_EMPTY_PATH). */
export function fileResolved(file: OpenFile): Resolved {
  return { path: file.guestPath, target: { kind: 'file', file }, last: 'norm', trailingSlash: false };
}

export interface WalkOptions {
  /** Follow a symlink in the final component. */
  follow: boolean;
  /** Stop at the final component without looking it up (creating and removing calls). */
  parent?: boolean;
}

export interface WalkContext {
  readonly mounts: MountTable;
  readonly t: Thread;
  /** True for files the VFS opened on a host object inside the jail (usable as dirfds). */
  isJailed(file: OpenFile): boolean;
}

type DirRef =
  | { kind: 'host'; fd: number; mount: HostMount }
  | { kind: 'synth'; node: SynthDir; mount: SynthMount };

export interface Frame {
  path: string;
  dir: DirRef;
  /** The walk opened dir's fd and closes it. */
  owned: boolean;
}

/** Queued after a re-resolved parent when `..` was the final component (cannot be a name: NUL). */
const DOTDOT_END = '\0..';
const WALK_FLAGS = O.PATH | O.NOFOLLOW | O.CLOEXEC;

export function mountFrame(t: Thread, mount: Mount, path: string): Frame {
  return mount.kind === 'host'
    ? { path, dir: { kind: 'host', fd: mount.rootFd, mount }, owned: false }
    : { path, dir: { kind: 'synth', node: mount.root(t), mount }, owned: false };
}

function closeFrame(f: Frame): void {
  if (f.owned && f.dir.kind === 'host') closeFd(f.dir.fd);
}

export class Walk {
  private stack: Frame[] = [];
  private pending: string[] = [];
  private links = 0;
  private trailing = false;

  constructor(private readonly ctx: WalkContext) {}

  resolve(start: Frame, path: string, opts: WalkOptions, prefix: readonly string[] = []): Resolved {
    this.stack = [start];
    this.pending = [...prefix, ...components(path)];
    this.trailing = path.endsWith('/') && components(path).length > 0;
    for (;;) {
      const c = this.pending.shift();
      if (c === undefined) return this.self('root');
      const isLast = this.pending.length === 0;
      if (c === DOTDOT_END) {
        if (isLast) return this.self('dotdot');
        continue;
      }
      if (c === '.') {
        if (isLast) return this.self('dot');
        continue;
      }
      if (c === '..') {
        const requeued = this.up(isLast);
        if (isLast && !requeued) return this.self('dotdot');
        continue;
      }
      if (c.length > NAME_MAX) throw new Errno(E.ENAMETOOLONG);
      const top = this.top;
      const childPath = joinPath(top.path, c);
      const mount = this.ctx.mounts.at(childPath);
      if (mount) {
        this.push(mountFrame(this.ctx.t, mount, childPath));
        if (isLast) return this.self('root');
        continue;
      }
      const mode: StepMode = !isLast ? 'enter' : opts.parent ? 'here' : this.trailing ? 'dir' : opts.follow ? 'follow' : 'here';
      const r = top.dir.kind === 'host'
        ? this.hostStep(top.dir, c, childPath, mode)
        : this.synthStep(top.dir, c, childPath, mode);
      if (r) return r;
    }
  }

  /** Closes every fd the walk opened. */
  release(): void {
    this.stack.forEach(closeFrame);
    this.stack = [];
  }

  private get top(): Frame {
    return this.stack[this.stack.length - 1];
  }

  private push(f: Frame): void {
    this.stack.push(f);
  }

  private pop(): void {
    closeFrame(this.stack.pop()!);
  }

  private resetTo(f: Frame): void {
    while (this.stack.length) this.pop();
    this.stack.push(f);
  }

  private resetToRoot(): void {
    this.resetTo(mountFrame(this.ctx.t, this.ctx.mounts.root, '/'));
  }

  /** `..`: pop, or when the walk began below the top (a dirfd), re-resolve the parent from `/`. */
  private up(wasLast: boolean): boolean {
    const top = this.top;
    if (top.path === '/') return false;
    if (this.stack.length > 1) {
      this.pop();
      return false;
    }
    this.resetToRoot();
    this.pending.unshift(...components(parentPath(top.path)), ...(wasLast ? [DOTDOT_END] : []));
    return true;
  }

  private followLink(target: string, wasLast: boolean): void {
    if (++this.links > MAX_SYMLINKS) throw new Errno(E.ELOOP);
    if (target === '') throw new Errno(E.ENOENT);
    if (target.startsWith('/')) this.resetToRoot();
    if (wasLast && target.endsWith('/')) this.trailing = true;
    this.pending.unshift(...components(target));
  }

  /** A /proc/PID/fd link in the middle of a path: continue from the open file itself. */
  private enterFile(file: OpenFile): void {
    if (++this.links > MAX_SYMLINKS) throw new Errno(E.ELOOP);
    if (file.syntheticDir) {
      this.resetToRoot();
      this.pending.unshift(...components(file.guestPath));
      return;
    }
    const mount = this.ctx.mounts.containing(file.guestPath);
    if (!this.ctx.isJailed(file) || mount.kind !== 'host') throw new Errno(E.ENOTDIR);
    this.resetTo({ path: file.guestPath, dir: { kind: 'host', fd: file.hostFd, mount }, owned: false });
  }

  private self(last: LastType): Resolved {
    const { path, dir } = this.top;
    const target: Target = dir.kind === 'host'
      ? { kind: 'host', dirFd: dir.fd, name: '', mount: dir.mount, exists: true }
      : { kind: 'synth', mount: dir.mount, parent: null, name: '', node: dir.node };
    return { path, target, last, trailingSlash: this.trailing };
  }

  private hostStep(dir: { fd: number; mount: HostMount }, name: string, path: string, mode: StepMode): Resolved | null {
    const found = (exists: boolean | null): Resolved =>
      ({ path, target: { kind: 'host', dirFd: dir.fd, name, mount: dir.mount, exists }, last: 'norm', trailingSlash: this.trailing });
    // A missing directory on the way to a mount point is there in the guest, as an empty stub.
    if (this.ctx.mounts.leadsToMount(path) && modeAt(dir.fd, name) === -E.ENOENT) {
      const stubs = this.ctx.mounts.stubs;
      const node = this.ctx.mounts.stubDir(path);
      if (mode === 'enter') {
        this.push({ path, dir: { kind: 'synth', node, mount: stubs }, owned: false });
        return null;
      }
      return { path, target: { kind: 'synth', mount: stubs, parent: null, name, node }, last: 'norm', trailingSlash: this.trailing };
    }
    if (mode === 'here') return found(null);
    if (mode === 'follow') {
      const link = readLinkAt(dir.fd, name);
      if (typeof link === 'string') return this.followLink(link, true), null;
      if (link === -E.EINVAL) return found(true);
      if (link === -E.ENOENT) return found(false);
      throw new Errno(-link);
    }
    // The common case, a directory, costs one host call; only a failure asks what it was.
    const fd = hostSyscall(HostNr.openat, dir.fd, cName(name), WALK_FLAGS | O.DIRECTORY);
    if (fd >= 0) {
      if (mode === 'dir') {
        closeFd(fd);
        return found(true);
      }
      this.push({ path, dir: { kind: 'host', fd, mount: dir.mount }, owned: true });
      return null;
    }
    if (fd === -E.ENOENT && mode === 'dir') return found(false);
    if (fd !== -E.ENOTDIR) throw new Errno(-fd);
    const link = readLinkAt(dir.fd, name);
    if (typeof link === 'string') return this.followLink(link, mode === 'dir'), null;
    throw new Errno(link === -E.EINVAL ? E.ENOTDIR : -link);
  }

  private synthStep(dir: { node: SynthDir; mount: SynthMount }, name: string, path: string, mode: StepMode): Resolved | null {
    const node = dir.node.child(name);
    const found = (): Resolved =>
      ({ path, target: { kind: 'synth', mount: dir.mount, parent: dir.node, name, node }, last: 'norm', trailingSlash: this.trailing });
    if (!node) {
      if (mode === 'enter') throw new Errno(E.ENOENT);
      return found();
    }
    if (mode === 'here') return found();
    switch (node.kind) {
      case 'link':
        this.followLink(node.target(), mode !== 'enter');
        return null;
      case 'fdlink':
        if (mode === 'enter') {
          this.enterFile(node.file);
          return null;
        }
        if (++this.links > MAX_SYMLINKS) throw new Errno(E.ELOOP);
        return { path: node.file.guestPath, target: { kind: 'file', file: node.file }, last: 'norm', trailingSlash: this.trailing };
      case 'dir':
        if (mode === 'enter') {
          this.push({ path, dir: { kind: 'synth', node, mount: dir.mount }, owned: false });
          return null;
        }
        return found();
      default:
        if (mode !== 'follow') throw new Errno(E.ENOTDIR);
        return found();
    }
  }
}

/**
 * How to treat a component: enter it (not the last), look it up following symlinks, look it
 * up as a directory (trailing slash, follows), or return it as it is (no follow, or the
 * parent of a create/remove).
 */
type StepMode = 'enter' | 'follow' | 'dir' | 'here';
