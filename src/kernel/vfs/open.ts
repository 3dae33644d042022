// open(2) on a resolved path: host objects (the final openat with O_NOFOLLOW from the parent's
// fd), synthetic files (a memfd filled now), synthetic directories, whitelisted devices, and
// /proc/PID/fd links (a fresh open of the same object through the host's /proc).
import { readSync, writeSync } from 'node:fs';
import { E, Errno } from '../errno.js';
import { O, OpenFile } from '../files.js';
import { hostSyscall, HostNr } from '../host/libc.js';
import type { Thread } from '../task.js';
import { AT, check, cName, closeFd, fdMode, HostNrExtra, modeAt, procFdPath, S } from './host.js';
import type { Resolved, Target } from './path-walk.js';
import { isDir, isLnk, isReg } from './synth-stat.js';
import { listDir, type SynthDir, type SynthNode } from './synthetic.js';

const O_SYNC_BIT = 0o4000000;
const O_TMPFILE_BIT = 0o20000000;
const VALID_OPEN_FLAGS = O.ACCMODE | O.CREAT | O.EXCL | O.NOCTTY | O.TRUNC | O.APPEND | O.NONBLOCK | O.DSYNC |
  O.ASYNC | O.DIRECT | O.LARGEFILE | O.DIRECTORY | O.NOFOLLOW | O.NOATIME | O.CLOEXEC | O_SYNC_BIT | O.PATH | O_TMPFILE_BIT;
const F_DUPFD_CLOEXEC = 1030;
const MFD_CLOEXEC = 1;

/** The flags F_GETFL reports for a file opened with flags (64-bit Linux adds O_LARGEFILE). */
export function openFileFlags(flags: number): number {
  const f = flags & VALID_OPEN_FLAGS;
  if (f & O.PATH) return f & (O.PATH | O.DIRECTORY | O.NOFOLLOW);
  return (f | O.LARGEFILE) & ~(O.CREAT | O.EXCL | O.NOCTTY | O.TRUNC | O.CLOEXEC);
}

/** What opening needs from the Vfs. */
export interface OpenEnv {
  readonly emptyDirFd: number;
  readonly hostUmask: number;
  isJailed(file: OpenFile): boolean;
  markJailed(file: OpenFile): OpenFile;
  isReadOnly(guestPath: string): boolean;
  /** Remembers the node behind an open synthetic directory, to list it afresh on rewind. */
  rememberDirectory(file: OpenFile, dir: SynthDir): OpenFile;
  /** Opens a canonical guest path again (a synthetic directory reached through /proc/PID/fd). */
  reopenPath(t: Thread, path: string, flags: number, mode: number): OpenFile;
}

interface Intent {
  flags: number;
  write: boolean;
  create: boolean;
  tmpfile: boolean;
  /** Mode for a created file: the guest's umask applied. */
  perm: number;
}

function intentOf(t: Thread, rawFlags: number, mode: number): Intent {
  let flags = rawFlags & VALID_OPEN_FLAGS;
  if (flags & O.PATH) flags &= O.PATH | O.DIRECTORY | O.NOFOLLOW | O.CLOEXEC;
  const acc = flags & O.ACCMODE;
  const tmpfile = (flags & O_TMPFILE_BIT) !== 0;
  return {
    flags,
    write: !(flags & O.PATH) && (acc === O.WRONLY || acc === O.RDWR),
    create: (flags & O.CREAT) !== 0,
    tmpfile,
    perm: mode & 0o7777 & ~t.process.fs.umask,
  };
}

/**
 * Flags for the host open: close-on-exec, and O_NONBLOCK so that opening a FIFO cannot hang
 * the vCPU's thread. Host fds stay non-blocking (their open file descriptions are the VFS's
 * own): the guest's O_NONBLOCK lives in OpenFile.flags, and fd-io.ts waits by polling.
 */
const hostFlagsOf = (flags: number) => (flags & ~O.ASYNC) | O.CLOEXEC | (flags & O.PATH ? 0 : O.NONBLOCK);

/**
 * A blocking open of a FIFO for writing that has no reader yet: Linux waits for one, so the
 * caller retries later instead of failing with ENXIO.
 */
export class OpenWouldBlock extends Errno {
  constructor() {
    super(E.EAGAIN);
  }
}

const isFifo = (mode: number) => mode >= 0 && (mode & S.IFMT) === S.IFIFO;

/** Turns the host's ENXIO for a writer-side FIFO open into a wait when the guest blocks. */
function checkFifoOpen(fd: number, flags: number, isFifo: () => boolean): number {
  if (fd === -E.ENXIO && !(flags & O.NONBLOCK) && isFifo()) throw new OpenWouldBlock();
  return check(fd);
}

export function openResolved(env: OpenEnv, t: Thread, r: Resolved, rawFlags: number, mode: number): OpenFile {
  const intent = intentOf(t, rawFlags, mode);
  const target: Target = r.target;
  switch (target.kind) {
    case 'host':
      return openHost(env, r, target, intent);
    case 'synth':
      return openSynth(env, r, target.node, intent);
    case 'file':
      return reopenFile(env, t, target.file, intent, rawFlags, mode);
  }
}

function openHost(env: OpenEnv, r: Resolved, target: Target & { kind: 'host' }, intent: Intent): OpenFile {
  const { dirFd, name, mount } = target;
  let { flags } = intent;
  if (name === '') {
    if (intent.create || (intent.write && !intent.tmpfile)) throw new Errno(E.EISDIR);
  } else if (r.trailingSlash && target.exists === false) {
    throw new Errno(intent.create ? E.EISDIR : E.ENOENT);
  }
  const at = name === '' ? '.' : name;
  if (mount.readOnly) flags = readOnlyOpenFlags(dirFd, name, intent);
  const hostFlags = hostFlagsOf(flags) | O.NOFOLLOW;
  const fixMode = (intent.create || intent.tmpfile) && (intent.perm & env.hostUmask) !== 0;
  let fd: number;
  let created = intent.tmpfile || (intent.create && (flags & O.EXCL) !== 0);
  if (fixMode && intent.create && !(flags & O.EXCL)) [fd, created] = openLearningCreation(dirFd, at, hostFlags, intent.perm);
  else fd = hostSyscall(HostNr.openat, dirFd, cName(at), hostFlags, intent.perm);
  checkFifoOpen(fd, flags, () => isFifo(modeAt(dirFd, at)));
  // The host applied its own umask too; a file this call created gets exactly the guest's mode.
  if (fixMode && created) hostSyscall(HostNr.fchmod, fd, intent.perm);
  return env.markJailed(new OpenFile(fd, openFileFlags(flags), r.path));
}

/** O_CREAT without O_EXCL: first try to create, so we know whether the file is new. */
function openLearningCreation(dirFd: number, name: string, hostFlags: number, perm: number): [number, boolean] {
  for (let tries = 0; ; tries++) {
    const fd = hostSyscall(HostNr.openat, dirFd, cName(name), hostFlags | O.EXCL, perm);
    if (fd !== -E.EEXIST) return [fd, fd >= 0];
    const existing = hostSyscall(HostNr.openat, dirFd, cName(name), hostFlags & ~O.CREAT, 0);
    if (existing !== -E.ENOENT || tries >= 8) return [existing, false];
  }
}

/**
 * A read-only bind: what Linux allows on a read-only mount (opening existing objects
 * without write access, devices and FIFOs even for writing) and EROFS otherwise.
 */
function readOnlyOpenFlags(dirFd: number, name: string, intent: Intent): number {
  const { flags, create, write, tmpfile } = intent;
  const truncate = (flags & O.TRUNC) !== 0;
  if (!create && !write && !truncate && !tmpfile) return flags;
  const mode = modeAt(dirFd, name);
  if (mode === -E.ENOENT && create) throw new Errno(E.EROFS);
  check(mode);
  if (create && flags & O.EXCL) throw new Errno(E.EEXIST);
  if (isDir(mode) && (write || create)) throw new Errno(E.EISDIR);
  if (tmpfile || ((write || truncate) && (isReg(mode) || isDir(mode) || isLnk(mode)))) throw new Errno(E.EROFS);
  return flags & ~O.CREAT;
}

function openSynth(env: OpenEnv, r: Resolved, node: SynthNode | undefined, intent: Intent): OpenFile {
  const { flags } = intent;
  if (!node) throw new Errno(E.ENOENT);
  if (intent.create && flags & O.EXCL) throw new Errno(E.EEXIST);
  switch (node.kind) {
    case 'dir': {
      if (intent.write || intent.create || intent.tmpfile) throw new Errno(E.EISDIR);
      const fd = check(hostSyscall(HostNr.fcntl, env.emptyDirFd, F_DUPFD_CLOEXEC, 0));
      return env.rememberDirectory(new OpenFile(fd, openFileFlags(flags), r.path, listDir(node)), node);
    }
    case 'file': {
      if (flags & O.DIRECTORY) throw new Errno(E.ENOTDIR);
      const store = node.store;
      if ((intent.write || flags & O.TRUNC) && !store) throw new Errno(E.EACCES);
      const fd = contentFd(flags & O.TRUNC ? '' : node.content(), node.perm);
      const file = new OpenFile(fd, openFileFlags(flags), r.path);
      if (intent.write && store) file.onWritten = () => store(readAllFd(fd));
      return file;
    }
    case 'device': {
      // A guest's terminal never becomes starling's controlling terminal: which session a
      // terminal controls is the guest kernel's record (TIOCSCTTY).
      const fd = check(hostSyscall(HostNr.openat, AT.FDCWD, cName(node.hostPath), (hostFlagsOf(flags) & ~O.CREAT) | O.NOCTTY));
      return new OpenFile(fd, openFileFlags(flags), r.path);
    }
    default:
      // Reached only when the final link is not to be followed.
      if (!(flags & O.PATH)) throw new Errno(E.ELOOP);
      return new OpenFile(contentFd('', 0o777), openFileFlags(flags), r.path);
  }
}

/** /proc/PID/fd/N: a new open file description of the very object N refers to. */
function reopenFile(env: OpenEnv, t: Thread, file: OpenFile, intent: Intent, rawFlags: number, mode: number): OpenFile {
  const { flags } = intent;
  if (intent.create && flags & O.EXCL) throw new Errno(E.EEXIST);
  if (file.syntheticDir) return env.reopenPath(t, file.guestPath, rawFlags, mode);
  if ((intent.write || flags & O.TRUNC) && env.isReadOnly(file.guestPath)) {
    const m = fdMode(file.hostFd);
    if (isReg(m) || isDir(m) || isLnk(m)) throw new Errno(E.EROFS);
  }
  const fd = hostSyscall(HostNr.openat, AT.FDCWD, cName(procFdPath(file.hostFd)), hostFlagsOf(flags) & ~O.CREAT);
  checkFifoOpen(fd, flags, () => isFifo(fdMode(file.hostFd)));
  const reopened = new OpenFile(fd, openFileFlags(flags), file.guestPath);
  return env.isJailed(file) ? env.markJailed(reopened) : reopened;
}

/** A host memfd holding content, positioned at 0, so read, lseek, fstat and mmap just work. */
/** The whole content of a (small, synthetic) file. */
function readAllFd(fd: number): Uint8Array {
  const chunks: Buffer[] = [];
  for (let pos = 0; ; ) {
    const buf = Buffer.alloc(4096);
    const n = readSync(fd, buf, 0, buf.length, pos);
    if (n <= 0) break;
    chunks.push(buf.subarray(0, n));
    pos += n;
  }
  return Buffer.concat(chunks);
}

export function contentFd(content: string | Uint8Array, perm: number): number {
  const fd = check(hostSyscall(HostNrExtra.memfd_create, cName('starling-synthetic'), MFD_CLOEXEC));
  try {
    const bytes = typeof content === 'string' ? Buffer.from(content, 'latin1') : content;
    for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off, bytes.length - off);
    check(hostSyscall(HostNr.lseek, fd, 0, 0));
    hostSyscall(HostNr.fchmod, fd, perm);
    return fd;
  } catch (e) {
    closeFd(fd);
    throw e;
  }
}
