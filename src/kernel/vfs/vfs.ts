// The guest's filesystem tree: a host directory as `/` (a jail), bind mounts, and the
// synthetic /proc, /sys and /dev. Every lookup goes through path-walk.ts, so no host path
// outside the root and the binds is ever reached, whatever symlinks the guest makes.
import { mkdtempSync, readFileSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { E, ERRNO_NAME, Errno } from '../errno.js';
import { O, type OpenFile, type SyntheticDirEntry } from '../files.js';
import { hostPathToBytes, hostSyscall, HostNr } from '../host/libc.js';
import type { Process, Thread } from '../task.js';
import { devRoot } from './devfs.js';
import { AT, check, cName, closeFd, fdMode, modeAt, procFdPath, readLinkAt, S, X_OK } from './host.js';
import { MountTable, type HostMount, type Mount, type SynthMount } from './mounts.js';
import { openResolved, type OpenEnv } from './open.js';
import { components, joinPath, PATH_MAX } from './path.js';
import { fileResolved, mountFrame, Walk, type Frame, type Resolved, type WalkContext } from './path-walk.js';
import { procRoot, type ProcContext, type ProcessDirectory } from './procfs.js';
import { encodeDev, FS_MAGIC, isLnk, isReg, type StatInfo } from './synth-stat.js';
import { sysRoot } from './sysfs.js';
import { listDir, type SynthDir, type SynthNode } from './synthetic.js';

export { fileResolved, type Resolved, type Target, type LastType } from './path-walk.js';
export type { ProcessDirectory } from './procfs.js';

export interface LookupOptions {
  /** Follow a symlink in the final component. */
  follow: boolean;
  /** Stop at the final component without looking it up (creating and removing calls). */
  parent?: boolean;
  /** An empty path means dirfd itself (AT_EMPTY_PATH). */
  emptyPath?: boolean;
}

/** A host object as the arguments of an *at() call: fd, name and the AT_ flags that pin it. */
export interface AtRef {
  fd: number;
  name: string;
  flags: number;
}

/** Where execveat looks for the program. */
export interface ExecAt {
  dirfd: number;
  follow: boolean;
  emptyPath: boolean;
}

export interface BindSpec {
  host: string;
  guest: string;
  readOnly: boolean;
}

export class Vfs {
  readonly mounts: MountTable;
  private readonly jailed = new WeakSet<OpenFile>();
  private readonly directories = new WeakMap<OpenFile, SynthDir>();
  private readonly inodes = new Map<string, number>();
  /** Set by the process code once it keeps a process table; until then /proc shows the caller. */
  private processDirectory: ((viewer: Thread) => ProcessDirectory) | null = null;
  /** Timestamps of synthetic objects: when this filesystem came up. */
  private readonly bornAt = Math.floor(Date.now() / 1000);
  private readonly openEnv: OpenEnv;

  constructor(rootHostDir: string, binds: readonly BindSpec[], info: { cpus: number; consolePath: string | null }) {
    const root = openHostMount('/', rootHostDir, false);
    const proc: ProcContext = {
      cpus: info.cpus,
      processes: (viewer) => this.processDirectory?.(viewer) ?? onlyCaller(viewer.process),
      mountsText: () => this.mountsText(),
    };
    const synthetic: SynthMount[] = [
      { kind: 'synth', at: '/proc', fsType: 'proc', magic: FS_MAGIC.proc, minor: 20, options: 'rw,nosuid,nodev,noexec,relatime', root: (t) => procRoot(proc, t) },
      { kind: 'synth', at: '/sys', fsType: 'sysfs', magic: FS_MAGIC.sysfs, minor: 21, options: 'ro,nosuid,nodev,noexec,relatime', root: () => sysRoot(info.cpus) },
      { kind: 'synth', at: '/dev', fsType: 'devtmpfs', magic: FS_MAGIC.tmpfs, minor: 5, options: 'rw,nosuid,relatime', root: () => devRoot(info.consolePath) },
    ];
    const bound = binds.map((b) => openHostMount(canonicalMountPoint(b.guest), b.host, b.readOnly));
    this.mounts = new MountTable(root, [...synthetic, ...bound]);
    const emptyDirFd = openEmptyDirectory();
    this.openEnv = {
      emptyDirFd,
      hostUmask: readHostUmask(),
      isJailed: (f) => this.jailed.has(f),
      markJailed: (f) => (this.jailed.add(f), f),
      isReadOnly: (p) => this.isReadOnly(p),
      rememberDirectory: (f, dir) => (this.directories.set(f, dir), f),
      reopenPath: (t, p, flags, mode) => this.open(t, AT.FDCWD, p, flags, mode),
    };
  }

  /** Opens the root and every bind now, throwing an Error that names a directory that will not do. */
  checkMounts(): void {
    for (const m of this.mounts.all) if (m.kind === 'host') void m.rootFd;
  }

  /** Lets /proc list every process (the process table lives with the process code). */
  setProcessDirectory(dir: (viewer: Thread) => ProcessDirectory): void {
    this.processDirectory = dir;
  }

  /**
   * Resolves path as t sees it, relative to dirfd (AT_FDCWD: the working directory), and
   * runs fn on the result; host fds the walk opened stay valid until fn returns.
   */
  lookup<T>(t: Thread, dirfd: number, path: string, opts: LookupOptions, fn: (r: Resolved) => T): T {
    if (path.length >= PATH_MAX) throw new Errno(E.ENAMETOOLONG);
    if (path === '') {
      if (!opts.emptyPath) throw new Errno(E.ENOENT);
      if (dirfd !== AT.FDCWD) return fn(fileResolved(t.process.files.get(dirfd)));
      path = '.';
    }
    const { start, prefix } = this.startOf(t, dirfd, path);
    const walk = new Walk(this.walkContext(t));
    try {
      return fn(walk.resolve(start, path, opts, prefix));
    } finally {
      walk.release();
    }
  }

  open(t: Thread, dirfd: number, path: string, flags: number, mode: number): OpenFile {
    const follow = !(flags & O.NOFOLLOW) && !(flags & O.CREAT && flags & O.EXCL);
    return this.lookup(t, dirfd, path, { follow }, (r) => openResolved(this.openEnv, t, r, flags, mode));
  }

  /**
   * Opens path for execve: a regular file with an execute bit; the fd is O_RDONLY|O_CLOEXEC.
   * execveat resolves relative to dirfd, may refuse a final symlink (ELOOP, as Linux) and, with
   * AT_EMPTY_PATH, executes dirfd itself.
   */
  openExecutable(t: Thread, path: string, at: ExecAt = { dirfd: AT.FDCWD, follow: true, emptyPath: false }): { hostFd: number; guestPath: string } {
    if (path === '' && !at.emptyPath) throw new Errno(E.ENOENT);
    return this.lookup(t, at.dirfd, path, { follow: at.follow, emptyPath: at.emptyPath }, (r) => {
      const ref = this.atRef(r);
      const mode = ref ? check(modeAt(ref.fd, ref.name)) : this.synthStat(r)!.mode;
      if (isLnk(mode)) throw new Errno(E.ELOOP);
      if (!ref || !isReg(mode)) throw new Errno(E.EACCES);
      if (hostSyscall(HostNr.faccessat2, ref.fd, cName(ref.name), X_OK, ref.flags | AT.EACCESS) < 0) throw new Errno(E.EACCES);
      // O_NONBLOCK: should the file have been swapped for a FIFO meanwhile, opening cannot hang.
      const { hostFd } = openResolved(this.openEnv, t, r, O.RDONLY | O.NONBLOCK, 0);
      if (!isReg(fdMode(hostFd))) {
        closeFd(hostFd);
        throw new Errno(E.EACCES);
      }
      return { hostFd, guestPath: r.path };
    });
  }

  /** The guest path execvp would run for name: the first executable regular file along PATH. */
  lookupInPath(t: Thread, name: string, PATH: string): string | null {
    if (name === '') return null;
    if (name.includes('/')) return name;
    for (const dir of PATH.split(':')) {
      const candidate = dir === '' ? name : dir.endsWith('/') ? dir + name : `${dir}/${name}`;
      try {
        const { hostFd } = this.openExecutable(t, candidate);
        closeFd(hostFd);
        return candidate;
      } catch (e) {
        if (!(e instanceof Errno)) throw e;
      }
    }
    return null;
  }

  /** Checks that r names a directory the guest may enter (chdir): ENOENT, ENOTDIR, EACCES. */
  requireDirectory(r: Resolved): void {
    const target = r.target;
    if (target.kind === 'synth') {
      if (!target.node) throw new Errno(E.ENOENT);
      if (target.node.kind !== 'dir') throw new Errno(E.ENOTDIR);
      return;
    }
    if (target.kind === 'file' && target.file.syntheticDir) return;
    const ref = this.atRef(r)!;
    const mode = target.kind === 'file' ? fdMode(target.file.hostFd) : check(modeAt(ref.fd, ref.name));
    if ((mode & S.IFMT) !== S.IFDIR) throw new Errno(E.ENOTDIR);
    check(hostSyscall(HostNr.faccessat2, ref.fd, cName(ref.name), X_OK, ref.flags));
  }

  /** The canonical guest path of a directory (chdir, and the initial working directory). */
  resolveDirectory(t: Thread, path: string): string {
    return this.lookup(t, AT.FDCWD, path, { follow: true }, (r) => {
      this.requireDirectory(r);
      return r.path;
    });
  }

  /**
   * After creating dirFd/name with perm (the guest's umask applied): the host applied its own
   * umask too, so give the new object exactly perm when that took bits away.
   */
  applyCreatedMode(dirFd: number, name: string, perm: number): void {
    if (!(perm & this.openEnv.hostUmask)) return;
    const fd = hostSyscall(HostNr.openat, dirFd, cName(name), O.PATH | O.NOFOLLOW | O.CLOEXEC);
    if (fd < 0) return;
    hostSyscall(HostNr.fchmodat, AT.FDCWD, cName(procFdPath(fd)), perm);
    closeFd(fd);
  }

  /** The *at() arguments naming r's object on the host, or null for a synthetic object. */
  atRef(r: Resolved): AtRef | null {
    const target = r.target;
    switch (target.kind) {
      case 'host':
        return { fd: target.dirFd, name: target.name, flags: AT.SYMLINK_NOFOLLOW | (target.name === '' ? AT.EMPTY_PATH : 0) };
      case 'file':
        return target.file.syntheticDir ? null : { fd: target.file.hostFd, name: '', flags: AT.EMPTY_PATH };
      case 'synth':
        return target.node?.kind === 'device' ? { fd: AT.FDCWD, name: target.node.hostPath, flags: 0 } : null;
    }
  }

  /**
   * Runs fn with a host fd of r's object itself (O_PATH for names), for calls that have no
   * *at() form that refuses symlinks: they go through the host's /proc/self/fd/N instead.
   */
  withObjectFd<T>(r: Resolved, fn: (fd: number) => T): T {
    const ref = this.atRef(r);
    if (!ref) throw new Errno(this.synthNode(r) ? E.EPERM : E.ENOENT);
    if (ref.flags & AT.EMPTY_PATH) return fn(ref.fd);
    const fd = check(hostSyscall(HostNr.openat, ref.fd, cName(ref.name), O.PATH | O.CLOEXEC | (ref.flags & AT.SYMLINK_NOFOLLOW ? O.NOFOLLOW : 0)));
    try {
      return fn(fd);
    } finally {
      closeFd(fd);
    }
  }

  /** stat of a synthetic object (null when r names a host object); ENOENT when it does not exist. */
  synthStat(r: Resolved): StatInfo | null {
    const target = r.target;
    if (target.kind === 'file') {
      if (!target.file.syntheticDir) return null;
      return this.statInfo(target.file.guestPath, S.IFDIR | 0o555, 2);
    }
    if (target.kind !== 'synth') return null;
    const node = target.node;
    if (!node) throw new Errno(E.ENOENT);
    switch (node.kind) {
      case 'device': return null;
      case 'dir': return this.statInfo(r.path, S.IFDIR | 0o555, 2);
      case 'file': return this.statInfo(r.path, S.IFREG | node.perm, 1);
      case 'link': return this.statInfo(r.path, S.IFLNK | 0o777, 1);
      case 'fdlink': return this.statInfo(r.path, S.IFLNK | (node.file.readable ? 0o500 : 0o100) | (node.file.writable ? 0o200 : 0), 1);
    }
  }

  /** The target of the symlink r names (not followed); EINVAL when it is not a symlink. */
  readlink(r: Resolved): string {
    const node = this.synthNode(r);
    if (node) {
      if (node.kind === 'link') return node.target();
      if (node.kind === 'fdlink') return node.file.guestPath;
      throw new Errno(E.EINVAL);
    }
    const ref = this.atRef(r);
    if (!ref) throw new Errno(r.target.kind === 'synth' ? E.ENOENT : E.EINVAL);
    if (r.last !== 'norm') throw new Errno(E.EINVAL);
    const link = readLinkAt(ref.fd, ref.name);
    if (typeof link === 'number') throw new Errno(-link);
    return link;
  }

  /**
   * Lists an open synthetic directory again, as procfs does when a listing starts over, so a
   * listing of /proc/self/fd shows the descriptor it is read through.
   */
  refreshDirectory(file: OpenFile): void {
    const dir = this.directories.get(file);
    const entries = file.syntheticDir as SyntheticDirEntry[] | null;
    if (dir && entries) entries.splice(0, entries.length, ...listDir(dir));
  }

  /** The mount r's object is in. */
  mountOfTarget(r: Resolved): Mount {
    const target = r.target;
    return target.kind === 'file' ? this.mounts.containing(target.file.guestPath) : target.mount;
  }

  /** The mount a canonical guest path is in. */
  mountOf(path: string): Mount {
    return this.mounts.containing(path);
  }

  isReadOnly(path: string): boolean {
    const m = this.mounts.containing(path);
    return m.kind === 'host' && m.readOnly;
  }

  /** True when the guest can use the file as a directory fd or walk into it through /proc. */
  isJailed(file: OpenFile): boolean {
    return this.jailed.has(file);
  }

  /** Stable inode number of a synthetic path. */
  inodeOf(path: string): number {
    let ino = this.inodes.get(path);
    if (ino === undefined) this.inodes.set(path, (ino = 0x1000 + this.inodes.size));
    return ino;
  }

  /** /proc/mounts. */
  mountsText(): string {
    return this.mounts.all.map((m) => m.kind === 'host'
      ? `${m.at === '/' ? 'rootfs' : 'hostfs'} ${escapeMountField(m.at)} ${m.at === '/' ? 'rootfs' : 'bind'} ${m.readOnly ? 'ro' : 'rw'},relatime 0 0\n`
      : `${m.fsType} ${m.at} ${m.fsType} ${m.options} 0 0\n`).join('');
  }

  private synthNode(r: Resolved): SynthNode | undefined {
    return r.target.kind === 'synth' ? r.target.node : undefined;
  }

  private statInfo(path: string, mode: number, nlink: number): StatInfo {
    const m = this.mounts.containing(path);
    const minor = m.kind === 'synth' ? m.minor : 0;
    return { dev: encodeDev(0, minor), ino: this.inodeOf(path), mode, nlink, size: 0, time: this.bornAt };
  }

  private walkContext(t: Thread): WalkContext {
    return { mounts: this.mounts, t, isJailed: (f) => this.jailed.has(f) };
  }

  /** Where a walk begins: `/`, the working directory, or the directory dirfd refers to. */
  private startOf(t: Thread, dirfd: number, path: string): { start: Frame; prefix: string[] } {
    const root = mountFrame(t, this.mounts.root, '/');
    if (path.startsWith('/')) return { start: root, prefix: [] };
    if (dirfd === AT.FDCWD) return { start: root, prefix: components(t.process.fs.cwd) };
    const file = t.process.files.get(dirfd);
    if (this.jailed.has(file)) {
      const mount = this.mounts.containing(file.guestPath);
      if (mount.kind === 'host') return { start: { path: file.guestPath, dir: { kind: 'host', fd: file.hostFd, mount }, owned: false }, prefix: [] };
    }
    if (file.syntheticDir) return { start: root, prefix: components(file.guestPath) };
    throw new Errno(E.ENOTDIR);
  }
}

function onlyCaller(p: Process): ProcessDirectory {
  return { get: (pid) => (pid === p.pid ? p : undefined), pids: () => [p.pid] };
}

/**
 * A host directory as a mount. Its fd is opened on first use, so a machine can be set up
 * before its root is known to exist (idle vCPUs never walk a path); a bad directory then
 * fails the first lookup with a message naming it.
 */
function openHostMount(at: string, hostDir: string, readOnly: boolean): HostMount {
  const source = hostPathToBytes(hostDir);
  let fd = -1;
  return {
    kind: 'host', at, readOnly, source,
    get rootFd(): number {
      if (fd >= 0) return fd;
      const r = source.length < PATH_MAX ? hostSyscall(HostNr.openat, AT.FDCWD, cName(source), O.PATH | O.DIRECTORY | O.CLOEXEC) : -E.ENAMETOOLONG;
      if (r < 0) throw new Error(`cannot use ${hostDir} as ${at}: ${ERRNO_NAME.get(-r) ?? -r}`);
      return (fd = r);
    },
  };
}

/** A bind's guest path made canonical lexically (the mount point need not exist). */
function canonicalMountPoint(guest: string): string {
  const bytes = hostPathToBytes(guest);
  if (!bytes.startsWith('/')) throw new Error(`bind target must be an absolute guest path: ${guest}`);
  const out: string[] = [];
  for (const c of components(bytes)) {
    if (c === '..') out.pop();
    else if (c !== '.') out.push(c);
  }
  if (out.length === 0) throw new Error('cannot bind over the guest root /');
  return out.reduce(joinPath, '/');
}

/**
 * The host fd behind open synthetic directories: an empty directory, removed at once, so
 * fstat says "directory" and nothing can be created in it or read from it.
 */
function openEmptyDirectory(): number {
  const dir = mkdtempSync(join(tmpdir(), 'starling-empty-'));
  try {
    return check(hostSyscall(HostNr.openat, AT.FDCWD, cName(hostPathToBytes(dir)), O.RDONLY | O.DIRECTORY | O.CLOEXEC));
  } finally {
    rmdirSync(dir);
  }
}

/**
 * The host process's umask, which the host applies on top of the guest's to created files.
 * Read from /proc: process.umask() without an argument prints a deprecation warning.
 */
function readHostUmask(): number {
  try {
    const m = /^Umask:\s*([0-7]+)/m.exec(readFileSync('/proc/self/status', 'latin1'));
    return m ? parseInt(m[1], 8) : 0o022;
  } catch {
    return 0o022;
  }
}

/** /proc/mounts escapes blanks in paths as octal. */
function escapeMountField(s: string): string {
  return s.replace(/[ \t\n\\]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
}
