// The tracer against real strace 6.1 output. Every expected line below was printed by
// `strace -f` on the development host for the same call with the same memory contents; the
// calls came from small C programs that put their data at fixed addresses (0x10000000) so the
// pointers strace prints are reproducible here.
import t from 'tap';
import { E, Errno } from '../src/kernel/errno.js';
import { Strace } from '../src/kernel/strace.js';
import { sys, type ArgFormat, type RetFormat, type SyscallEntry } from '../src/kernel/syscall.js';
import type { Thread } from '../src/kernel/task.js';

const BASE = 0x10000000;
const SIZE = 0x10000;

/** Guest memory for the tracer: one mapped window; anything else faults like a bad pointer. */
class FakeMemory {
  readonly bytes = new Uint8Array(SIZE);

  private check(addr: number, len: number): void {
    if (addr < BASE || addr + len > BASE + SIZE) throw new Errno(E.EFAULT);
  }

  read(addr: number, len: number): Uint8Array {
    this.check(addr, len);
    return this.bytes.slice(addr - BASE, addr - BASE + len);
  }

  readCString(addr: number, max = 4096): string {
    let s = '';
    for (let a = addr; ; a++) {
      this.check(a, 1);
      const b = this.bytes[a - BASE];
      if (b === 0) return s;
      s += String.fromCharCode(b);
      if (s.length > max) throw new Errno(E.ENAMETOOLONG);
    }
  }

  readU64(addr: number): number {
    return Number(new DataView(this.read(addr, 8).buffer).getBigUint64(0, true));
  }

  readU32(addr: number): number {
    return new DataView(this.read(addr, 4).buffer).getUint32(0, true);
  }

  put(addr: number, data: Uint8Array | string | readonly number[]): void {
    const bytes = typeof data === 'string' ? Uint8Array.from(data, (c) => c.charCodeAt(0)) : Uint8Array.from(data);
    this.check(addr, bytes.length);
    this.bytes.set(bytes, addr - BASE);
  }

  cstr(addr: number, s: string): void {
    this.put(addr, `${s}\0`);
  }

  u64(addr: number, ...values: Array<number | bigint>): void {
    const dv = new DataView(this.bytes.buffer, addr - BASE);
    values.forEach((v, i) => dv.setBigUint64(8 * i, BigInt.asUintN(64, BigInt(v)), true));
  }

  u32(addr: number, ...values: number[]): void {
    const dv = new DataView(this.bytes.buffer, addr - BASE);
    values.forEach((v, i) => dv.setUint32(4 * i, v >>> 0, true));
  }

  u16(addr: number, ...values: number[]): void {
    const dv = new DataView(this.bytes.buffer, addr - BASE);
    values.forEach((v, i) => dv.setUint16(2 * i, v, true));
  }
}

const fakeThread = (tid: number, mm: FakeMemory) => ({ tid, process: { pid: tid }, mm }) as unknown as Thread;

const entry = (nr: number, name: string, args: readonly ArgFormat[], ret: RetFormat = 'int'): SyscallEntry =>
  sys(nr, name, () => 0, args, ret);

// Declarations as the kernel's syscall tables write them.
const SYS = {
  read: entry(0, 'read', ['fd', 'outbuf', 'size']),
  write: entry(1, 'write', ['fd', 'inbuf', 'size']),
  close: entry(3, 'close', ['fd']),
  lseek: entry(8, 'lseek', ['fd', 'off', 'whence']),
  mmap: entry(9, 'mmap', ['ptr', 'size', 'prot', 'mapflags', 'fd', 'hex'], 'hex'),
  mprotect: entry(10, 'mprotect', ['ptr', 'size', 'prot']),
  munmap: entry(11, 'munmap', ['ptr', 'size']),
  rt_sigaction: entry(13, 'rt_sigaction', ['signal', 'sigaction', 'ptr', 'size']),
  rt_sigprocmask: entry(14, 'rt_sigprocmask', ['sighow', 'sigset', 'ptr', 'size']),
  ioctl: entry(16, 'ioctl', ['fd', 'ioctlcmd', 'hex']),
  readv: entry(19, 'readv', ['fd', 'iovec_out', 'int']),
  writev: entry(20, 'writev', ['fd', 'iovec_in', 'int']),
  access: entry(21, 'access', ['path', 'accessmode']),
  pause: entry(34, 'pause', []),
  nanosleep: entry(35, 'nanosleep', ['timespec', 'ptr']),
  execve: entry(59, 'execve', ['path', 'argv', 'envp']),
  wait4: entry(61, 'wait4', ['int', 'ptr', 'int', 'ptr']),
  kill: entry(62, 'kill', ['int', 'signal']),
  uname: entry(63, 'uname', ['ptr']),
  fcntl: entry(72, 'fcntl', ['fd', 'fcntlcmd', 'hex']),
  getcwd: entry(79, 'getcwd', ['outbuf', 'size']),
  umask: entry(95, 'umask', ['mode']),
  getrlimit: entry(97, 'getrlimit', ['rlimitres', 'ptr']),
  sigaltstack: entry(131, 'sigaltstack', ['ptr', 'ptr']),
  arch_prctl: entry(158, 'arch_prctl', ['archprctl', 'hex']),
  time: entry(201, 'time', ['ptr']),
  getdents64: entry(217, 'getdents64', ['fd', 'ptr', 'size']),
  clock_gettime: entry(228, 'clock_gettime', ['clockid', 'ptr']),
  clock_nanosleep: entry(230, 'clock_nanosleep', ['clockid', 'int', 'timespec', 'ptr']),
  exit_group: entry(231, 'exit_group', ['int'], 'none'),
  openat: entry(257, 'openat', ['dirfd', 'path', 'oflags', 'mode'], 'fd'),
  mkdirat: entry(258, 'mkdirat', ['dirfd', 'path', 'mode']),
  mknodat: entry(259, 'mknodat', ['dirfd', 'path', 'mode', 'hex']),
  newfstatat: entry(262, 'newfstatat', ['dirfd', 'path', 'stat', 'atflags']),
  unlinkat: entry(263, 'unlinkat', ['dirfd', 'path', 'atflags']),
  symlinkat: entry(266, 'symlinkat', ['path', 'dirfd', 'path']),
  readlinkat: entry(267, 'readlinkat', ['dirfd', 'path', 'outbuf', 'size']),
  fchmodat: entry(268, 'fchmodat', ['dirfd', 'path', 'mode']),
  pipe2: entry(293, 'pipe2', ['ptr', 'oflags']),
  prlimit64: entry(302, 'prlimit64', ['int', 'rlimitres', 'ptr', 'ptr']),
  getrandom: entry(318, 'getrandom', ['ptr', 'size', 'hex']),
  statx: entry(332, 'statx', ['dirfd', 'path', 'atflags', 'statxmask', 'stat']),
  faccessat2: entry(439, 'faccessat2', ['dirfd', 'path', 'accessmode', 'atflags']),
};

/** One traced call; `during` plays the kernel, writing out-params between entry and exit. */
function trace(
  mm: FakeMemory, tid: number, e: SyscallEntry | undefined, args: readonly number[], result: number,
  during?: () => void,
): string {
  const lines: string[] = [];
  const s = new Strace((line) => lines.push(line));
  const th = fakeThread(tid, mm);
  s.enter(th, e, e?.nr ?? 500, args);
  during?.();
  s.exit(th, result);
  return lines.join('\n');
}

const P = (off: number) => BASE + off;

// Offsets shared with the C program that produced the golden lines.
const O = {
  FILE: 0x0, DATA: 0x40, HELLO: 0x80, IOV: 0xa0, IOV2: 0xc0, STAT: 0x100, OUT: 0x200, OUT2: 0x280, OUT3: 0x300,
  SA: 0x400, OLDSA: 0x440, SET: 0x480, OLDSET: 0x488, ARGV: 0x500, ENVP: 0x540, STRS: 0x580, TS: 0x600,
  INT: 0x610, PTR: 0x618, RLIM: 0x620, STATX: 0x700, MISSING: 0x800, DIR: 0x840, NOENT: 0x860,
};
// A C char[45] initialised from a longer literal: the alphabet stops at 'v'.
const DATA = 'GET /\t"q"\\ \n\r\x0001\x7f\x80\xff\x1b[0mabcdefghijklmnopqrstuvwxyz'.slice(0, 45);
const FILE_BYTES = `${DATA}hello, world\nhello,${DATA.slice(0, 40)}`;

function goldenMemory(): FakeMemory {
  const mm = new FakeMemory();
  mm.cstr(P(O.FILE), '/tmp/golden/file.txt');
  mm.put(P(O.DATA), DATA);
  mm.put(P(O.HELLO), 'hello, world\n');
  mm.u64(P(O.IOV), P(O.HELLO), 6, P(O.DATA), 40);
  mm.u64(P(O.IOV2), P(O.OUT2), 8, P(O.OUT3), 100);
  mm.u64(P(O.SA), 0x401000, 0x04000000 | 0x10000000 | 4, 0x402000, (1n << 1n) | (1n << 14n));
  mm.u64(P(O.SET), ~((1n << 31n) | (1n << 32n)));
  mm.cstr(P(O.STRS), 'sh');
  mm.cstr(P(O.STRS + 8), '-c');
  mm.cstr(P(O.STRS + 16), 'echo hi');
  mm.cstr(P(O.STRS + 32), 'PATH=/bin');
  mm.cstr(P(O.STRS + 48), 'HOME=/');
  mm.u64(P(O.ARGV), P(O.STRS), P(O.STRS + 8), P(O.STRS + 16), 0);
  mm.u64(P(O.ENVP), P(O.STRS + 32), P(O.STRS + 48), 0);
  mm.u64(P(O.TS), 0, 1000);
  mm.cstr(P(O.MISSING), '/tmp/golden/missing');
  mm.cstr(P(O.DIR), '/tmp/golden');
  mm.cstr(P(O.NOENT), '/nonexistent/dir');
  mm.cstr(P(0x900), '');
  return mm;
}

const PID = 3875, CHILD = 3876;
const AT_FDCWD = -100;

t.test('calls traced with `strace -f` on the host, byte for byte', async (t) => {
  const mm = goldenMemory();
  const line = (e: SyscallEntry | undefined, args: readonly number[], result: number, during?: () => void) =>
    trace(mm, PID, e, args, result, during);

  t.equal(line(SYS.openat, [AT_FDCWD, P(O.FILE), 0o1000 | 0o100 | 0o1 | 0o2000000, 0o644], 3),
    '[pid  3875] openat(AT_FDCWD, "/tmp/golden/file.txt", O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC, 0644) = 3');
  t.equal(line(SYS.write, [3, P(O.DATA), 45], 45),
    '[pid  3875] write(3, "GET /\\t\\"q\\"\\\\ \\n\\r\\00001\\177\\200\\377\\33[0mabcdefghi"..., 45) = 45');
  t.equal(line(SYS.write, [3, P(O.HELLO), 13], 13), '[pid  3875] write(3, "hello, world\\n", 13) = 13');
  t.equal(line(SYS.writev, [3, P(O.IOV), 2], 46),
    '[pid  3875] writev(3, [{iov_base="hello,", iov_len=6}, {iov_base="GET /\\t\\"q\\"\\\\ \\n\\r\\00001\\177\\200\\377\\33[0mabcdefghi"..., iov_len=40}], 2) = 46');
  t.equal(line(SYS.close, [3], 0), '[pid  3875] close(3)                    = 0');
  t.equal(line(SYS.openat, [AT_FDCWD, P(O.FILE), 0, 0x7fff], 3),
    '[pid  3875] openat(AT_FDCWD, "/tmp/golden/file.txt", O_RDONLY) = 3');
  t.equal(line(SYS.newfstatat, [3, P(0x900), P(O.STAT), 0x1000], 0, () => {
    mm.u32(P(O.STAT + 24), 0o100644);
    mm.u64(P(O.STAT + 48), FILE_BYTES.length);
  }), '[pid  3875] newfstatat(3, "", {st_mode=S_IFREG|0644, st_size=104, ...}, AT_EMPTY_PATH) = 0');
  t.equal(line(SYS.read, [3, P(O.OUT), 16], 16, () => mm.put(P(O.OUT), FILE_BYTES.slice(0, 16))),
    '[pid  3875] read(3, "GET /\\t\\"q\\"\\\\ \\n\\r\\00001", 16) = 16');
  t.equal(line(SYS.readv, [3, P(O.IOV2), 2], 88, () => {
    mm.put(P(O.OUT2), FILE_BYTES.slice(16, 24));
    mm.put(P(O.OUT3), FILE_BYTES.slice(24));
  }), '[pid  3875] readv(3, [{iov_base="\\177\\200\\377\\33[0ma", iov_len=8}, {iov_base="bcdefghijklmnopqrstuvhello, worl"..., iov_len=100}], 2) = 88');
  t.equal(line(SYS.read, [3, P(O.OUT), 16], 0), '[pid  3875] read(3, "", 16)             = 0');
  t.equal(line(SYS.lseek, [3, -5, 2], 99), '[pid  3875] lseek(3, -5, SEEK_END)      = 99');
  t.equal(line(SYS.ioctl, [3, 0x541b, P(O.INT)], 0, () => mm.u32(P(O.INT), 5)),
    '[pid  3875] ioctl(3, FIONREAD, [5])     = 0');
  t.equal(line(SYS.read, [99, P(O.OUT), 10], -E.EBADF),
    '[pid  3875] read(99, 0x10000200, 10)    = -1 EBADF (Bad file descriptor)');
  t.equal(line(SYS.mmap, [0x20000000, 8192, 3, 0x2 | 0x10 | 0x20, -1, 0], 0x20000000),
    '[pid  3875] mmap(0x20000000, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_FIXED|MAP_ANONYMOUS, -1, 0) = 0x20000000');
  t.equal(line(SYS.mmap, [0x20000000, 4096, 1, 0x2 | 0x10, 3, 0x1000], 0x20000000),
    '[pid  3875] mmap(0x20000000, 4096, PROT_READ, MAP_PRIVATE|MAP_FIXED, 3, 0x1000) = 0x20000000');
  t.equal(line(SYS.mprotect, [0x20000000, 4096, 0], 0), '[pid  3875] mprotect(0x20000000, 4096, PROT_NONE) = 0');
  t.equal(line(SYS.munmap, [0x20000000, 8192], 0), '[pid  3875] munmap(0x20000000, 8192)    = 0');
  t.equal(line(SYS.rt_sigaction, [10, P(O.SA), P(O.OLDSA), 8], 0),
    '[pid  3875] rt_sigaction(SIGUSR1, {sa_handler=0x401000, sa_mask=[INT TERM], sa_flags=SA_RESTORER|SA_RESTART|SA_SIGINFO, sa_restorer=0x402000}, {sa_handler=SIG_DFL, sa_mask=[], sa_flags=0}, 8) = 0');
  t.equal(line(SYS.rt_sigaction, [10, 0, P(O.OLDSA), 8], 0, () => mm.put(P(O.OLDSA), mm.read(P(O.SA), 32))),
    '[pid  3875] rt_sigaction(SIGUSR1, NULL, {sa_handler=0x401000, sa_mask=[INT TERM], sa_flags=SA_RESTORER|SA_RESTART|SA_SIGINFO, sa_restorer=0x402000}, 8) = 0');
  t.equal(line(SYS.rt_sigaction, [40, 0, 0, 8], 0), '[pid  3875] rt_sigaction(SIGRT_8, NULL, NULL, 8) = 0');
  t.equal(line(SYS.rt_sigprocmask, [0, P(O.SET), P(O.OLDSET), 8], 0),
    '[pid  3875] rt_sigprocmask(SIG_BLOCK, ~[RTMIN RT_1], [], 8) = 0');
  t.equal(line(SYS.rt_sigprocmask, [2, P(O.OLDSET), 0, 8], 0), '[pid  3875] rt_sigprocmask(SIG_SETMASK, [], NULL, 8) = 0');
  mm.cstr(P(0x980), '/nonexistent');
  t.equal(line(SYS.execve, [P(0x980), P(O.ARGV), P(O.ENVP)], -E.ENOENT),
    '[pid  3875] execve("/nonexistent", ["sh", "-c", "echo hi"], 0x10000540 /* 2 vars */) = -1 ENOENT (No such file or directory)');
  t.equal(line(SYS.access, [P(O.DIR), 4 | 1], 0), '[pid  3875] access("/tmp/golden", R_OK|X_OK) = 0');
  t.equal(line(SYS.faccessat2, [AT_FDCWD, P(O.FILE), 2, 0x200], 0),
    '[pid  3875] faccessat2(AT_FDCWD, "/tmp/golden/file.txt", W_OK, AT_EACCESS) = 0');
  t.equal(line(SYS.unlinkat, [AT_FDCWD, P(O.MISSING), 0x200], -E.ENOENT),
    '[pid  3875] unlinkat(AT_FDCWD, "/tmp/golden/missing", AT_REMOVEDIR) = -1 ENOENT (No such file or directory)');
  t.equal(line(SYS.mkdirat, [AT_FDCWD, P(O.NOENT), 0o755], -E.ENOENT),
    '[pid  3875] mkdirat(AT_FDCWD, "/nonexistent/dir", 0755) = -1 ENOENT (No such file or directory)');
  t.equal(line(SYS.clock_nanosleep, [1, 0, P(O.TS), 0], 0),
    '[pid  3875] clock_nanosleep(CLOCK_MONOTONIC, 0, {tv_sec=0, tv_nsec=1000}, NULL) = 0');
  t.equal(line(SYS.fcntl, [3, 2, 1], 0), '[pid  3875] fcntl(3, F_SETFD, FD_CLOEXEC) = 0');
  t.equal(line(SYS.fcntl, [3, 1, 0], 1), '[pid  3875] fcntl(3, F_GETFD)           = 0x1 (flags FD_CLOEXEC)');
  t.equal(line(SYS.fcntl, [3, 3, 0], 0x8000), '[pid  3875] fcntl(3, F_GETFL)           = 0x8000 (flags O_RDONLY|O_LARGEFILE)');
  t.equal(line(SYS.ioctl, [3, 0x5401, P(O.OUT)], -E.ENOTTY),
    '[pid  3875] ioctl(3, TCGETS, 0x10000200) = -1 ENOTTY (Inappropriate ioctl for device)');
  t.equal(line(SYS.arch_prctl, [0x1004, P(O.PTR)], 0), '[pid  3875] arch_prctl(ARCH_GET_GS, [NULL]) = 0');
  t.equal(line(SYS.prlimit64, [0, 7, 0, P(O.RLIM)], 0, () => mm.u64(P(O.RLIM), 20000, 20000)),
    '[pid  3875] prlimit64(0, RLIMIT_NOFILE, NULL, {rlim_cur=20000, rlim_max=20000}) = 0');
  t.equal(line(SYS.statx, [AT_FDCWD, P(O.FILE), 0, 0x7ff, P(O.STATX)], 0, () => {
    mm.u32(P(O.STATX), 0x17ff);
    mm.u16(P(O.STATX + 28), 0o100644);
    mm.u64(P(O.STATX + 40), 104);
  }), '[pid  3875] statx(AT_FDCWD, "/tmp/golden/file.txt", AT_STATX_SYNC_AS_STAT, STATX_BASIC_STATS, {stx_mask=STATX_BASIC_STATS|STATX_MNT_ID, stx_attributes=0, stx_mode=S_IFREG|0644, stx_size=104, ...}) = 0');
  t.equal(line(SYS.openat, [AT_FDCWD, 1, 0, 0], -E.EFAULT), '[pid  3875] openat(AT_FDCWD, 0x1, O_RDONLY) = -1 EFAULT (Bad address)');
  t.equal(line(undefined, [1, 2, 3, 0, 0, 0], -E.ENOSYS),
    '[pid  3875] syscall_0x1f4(0x1, 0x2, 0x3, 0, 0, 0) = -1 ENOSYS (Function not implemented)');
  t.equal(line(SYS.kill, [CHILD, 9], 0), '[pid  3875] kill(3876, SIGKILL)         = 0');
});

t.test('blocked calls: <unfinished ...> and <... resumed>', async (t) => {
  const mm = goldenMemory();
  const lines: string[] = [];
  const s = new Strace((l) => lines.push(l));
  const parent = fakeThread(PID, mm), child = fakeThread(CHILD, mm);

  mm.u64(P(0xa00), 0, 100000000);
  s.enter(parent, SYS.clock_nanosleep, 230, [0, 0, P(0xa00), 0]);
  s.blocked(parent);
  s.enter(child, SYS.pause, 34, []);
  s.blocked(child);
  s.blocked(child);
  s.resumed(parent);
  s.exit(parent, 0);
  s.enter(parent, SYS.kill, 62, [CHILD, 9]);
  s.exit(parent, 0);
  s.killed(child, 9);
  s.enter(parent, SYS.wait4, 61, [CHILD, P(O.INT), 0, 0]);
  s.blocked(parent);
  mm.u32(P(O.INT), 9);
  s.exit(parent, CHILD);
  s.enter(parent, SYS.exit_group, 231, [0]);
  s.exit(parent, 0);
  s.exited(parent, 0);
  t.same(lines, [
    '[pid  3875] clock_nanosleep(CLOCK_REALTIME, 0, {tv_sec=0, tv_nsec=100000000},  <unfinished ...>',
    '[pid  3876] pause( <unfinished ...>',
    '[pid  3875] <... clock_nanosleep resumed>NULL) = 0',
    '[pid  3875] kill(3876, SIGKILL)         = 0',
    '[pid  3876] <... pause resumed>)        = ?',
    '[pid  3876] +++ killed by SIGKILL +++',
    '[pid  3875] wait4(3876,  <unfinished ...>',
    // strace dropped the prefix here (one process left); the call text is its own.
    '[pid  3875] <... wait4 resumed>[{WIFSIGNALED(s) && WTERMSIG(s) == SIGKILL}], 0, NULL) = 3876',
    '[pid  3875] exit_group(0)               = ?',
    '[pid  3875] +++ exited with 0 +++',
  ]);

  // A shell pipeline: the reader parks in read(2) while the writer's write(2) also parks.
  lines.length = 0;
  const reader = fakeThread(29489, mm), writer = fakeThread(29488, mm);
  mm.put(P(0xa40), 'x\n');
  s.enter(reader, SYS.read, 0, [0, P(0xa20), 1]);
  s.blocked(reader);
  s.enter(writer, SYS.write, 1, [1, P(0xa40), 2]);
  s.blocked(writer);
  mm.put(P(0xa20), 'x');
  s.exit(reader, 1);
  s.exit(writer, 2);
  t.same(lines, [
    '[pid 29489] read(0,  <unfinished ...>',
    '[pid 29488] write(1, "x\\n", 2 <unfinished ...>',
    '[pid 29489] <... read resumed>"x", 1)   = 1',
    '[pid 29488] <... write resumed>)        = 2',
  ]);

  // Killed while an out-param was still owed.
  lines.length = 0;
  s.enter(reader, SYS.read, 0, [0, P(0xa20), 1]);
  s.blocked(reader);
  s.killed(reader, 15);
  s.enter(writer, SYS.read, 0, [0, P(0xa20), 1]);
  s.exited(writer, 1);
  t.same(lines, [
    '[pid 29489] read(0,  <unfinished ...>',
    '[pid 29489] <... read resumed> <unfinished ...>) = ?',
    '[pid 29489] +++ killed by SIGTERM +++',
    '[pid 29488] read(0,  <unfinished ...>)  = ?',
    '[pid 29488] +++ exited with 1 +++',
  ]);
});

/**
 * Lines from `strace -o FILE` runs (no [pid] leader there): the call text is strace's; the
 * padding is redone for the "[pid %5u] " leader, whose column rule the tests above pin down.
 */
function withLeader(tid: number, bare: string): string {
  const m = /^(.*\)) +(= .*)$/.exec(bare);
  if (!m) return `[pid ${String(tid).padStart(5)}] ${bare}`;
  return `${`[pid ${String(tid).padStart(5)}] ${m[1]} `.padEnd(40)}${m[2]}`;
}

t.test('flag sets, enums and strings against more host traces', async (t) => {
  const mm = goldenMemory();
  const check = (e: SyscallEntry | undefined, args: readonly number[], result: number, expected: string, during?: () => void) =>
    t.equal(trace(mm, 100, e, args, result, during), withLeader(100, expected), expected);
  const S = (off: number, s: string) => {
    mm.cstr(P(off), s);
    return P(off);
  };
  const st = S(0x1000, '/tmp/st');

  check(SYS.openat, [AT_FDCWD, st, 0o20200000 | 2, 0o600], 4, 'openat(AT_FDCWD, "/tmp/st", O_RDWR|O_TMPFILE, 0600) = 4');
  check(SYS.openat, [AT_FDCWD, st, 0o400 | 0o2000 | 0o4000 | 0o10000 | 0o400000 | 0o1000000 | 0o2000000 | 0o200000], 5,
    'openat(AT_FDCWD, "/tmp/st", O_RDONLY|O_NOCTTY|O_APPEND|O_NONBLOCK|O_DSYNC|O_NOFOLLOW|O_NOATIME|O_CLOEXEC|O_DIRECTORY) = 5');
  check(SYS.openat, [AT_FDCWD, st, 0o10000000 | 0o200 | 0o40000 | 0x10000000, 0], 6,
    'openat(AT_FDCWD, "/tmp/st", O_RDONLY|O_EXCL|O_DIRECT|O_PATH|0x10000000) = 6');
  check(SYS.openat, [5, S(0x1010, 'rel'), 0o4010000], -E.ENOENT, 'openat(5, "rel", O_RDONLY|O_SYNC) = -1 ENOENT (No such file or directory)');
  check(SYS.openat, [AT_FDCWD, 0, 0], -E.EFAULT, 'openat(AT_FDCWD, NULL, O_RDONLY) = -1 EFAULT (Bad address)');
  const f1 = S(0x1020, '/tmp/st/f1');
  check(SYS.openat, [AT_FDCWD, f1, 3], 7, 'openat(AT_FDCWD, "/tmp/st/f1", O_ACCMODE) = 7');
  check(SYS.openat, [AT_FDCWD, f1, 0x8000 | 0o20000], 5, 'openat(AT_FDCWD, "/tmp/st/f1", O_RDONLY|O_LARGEFILE|FASYNC) = 5');

  // Escapes: octal, three digits only before a digit 0-7, C escapes for the rest.
  mm.put(P(0x1100), [...'a\x0012\t\n\r\v\f"\\\x7f\x80\xff\x008\x01x\x017 \x1b['].map((c) => c.charCodeAt(0)).concat([0, 0, 0x30]));
  check(SYS.write, [3, P(0x1100), 26], 26, 'write(3, "a\\00012\\t\\n\\r\\v\\f\\"\\\\\\177\\200\\377\\08\\1x\\0017 \\33[\\0\\0000", 26) = 26');
  mm.put(P(0x1200), Array.from({ length: 80 }, (_, i) => (i * 3) & 0xff));
  check(SYS.write, [3, P(0x1200), 80], 80, 'write(3, "\\0\\3\\6\\t\\f\\17\\22\\25\\30\\33\\36!$\'*-0369<?BEHKNQTWZ]"..., 80) = 80');
  mm.put(P(0x1300), '0123456789abcdef0123456789abcdefg');
  check(SYS.write, [3, P(0x1300), 32], 32, 'write(3, "0123456789abcdef0123456789abcdef", 32) = 32');
  check(SYS.write, [3, P(0x1300), 33], 33, 'write(3, "0123456789abcdef0123456789abcdef"..., 33) = 33');
  check(SYS.write, [3, 8, 3], -E.EFAULT, 'write(3, 0x8, 3) = -1 EFAULT (Bad address)');
  check(SYS.write, [3, P(0x1300), 0], 0, 'write(3, "", 0) = 0');
  check(SYS.writev, [3, P(O.IOV), 0], 0, 'writev(3, [], 0) = 0');
  check(SYS.lseek, [3, 0, 7], -E.EINVAL, 'lseek(3, 0, 0x7 /* SEEK_??? */) = -1 EINVAL (Invalid argument)');
  check(SYS.readlinkat, [AT_FDCWD, S(0x1400, '/proc/self/exe'), P(0x1420), 64], 10,
    'readlinkat(AT_FDCWD, "/proc/self/exe", "/tmp/st/t3", 64) = 10', () => mm.put(P(0x1420), '/tmp/st/t3'));
  check(SYS.symlinkat, [S(0x1480, 'target-string-that-is-quite-long-indeed-yes'), AT_FDCWD, S(0x14c0, '/tmp/st/x')], 0,
    'symlinkat("target-string-that-is-quite-long-indeed-yes", AT_FDCWD, "/tmp/st/x") = 0');

  // mmap: the type first (MAP_FILE when zero), then the flags in strace's table order.
  check(SYS.mmap, [0, 4096, 0, 0x2 | 0x20 | 0x4000 | 0x100 | 0x20000, -1, 0], 0x7fdd07cd5000,
    'mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_NORESERVE|MAP_GROWSDOWN|MAP_STACK, -1, 0) = 0x7fdd07cd5000');
  check(SYS.mmap, [0x7fdd07cd5000, 4096, 7 | 0x100, 0x1 | 0x10 | 0x20 | 0x8000 | 0x2000 | 0x10000, -1, 0], 0x7fdd07cd5000,
    'mmap(0x7fdd07cd5000, 4096, PROT_READ|PROT_WRITE|PROT_EXEC|0x100, MAP_SHARED|MAP_FIXED|MAP_ANONYMOUS|MAP_POPULATE|MAP_NONBLOCK|MAP_LOCKED, -1, 0) = 0x7fdd07cd5000');
  check(SYS.mmap, [0, 4096, 1, 0x3 | 0x100000 | 0x40000 | 0x1000 | 0x800 | 0x1000000, 3, 0x1000], -E.EINVAL,
    'mmap(NULL, 4096, PROT_READ, MAP_SHARED_VALIDATE|MAP_DENYWRITE|MAP_EXECUTABLE|MAP_HUGETLB|MAP_FIXED_NOREPLACE|0x1000000, 3, 0x1000) = -1 EINVAL (Invalid argument)');
  check(SYS.mmap, [0, 4096, 1, 0, -1, 0], -E.EBADF, 'mmap(NULL, 4096, PROT_READ, MAP_FILE, -1, 0) = -1 EBADF (Bad file descriptor)');

  // Signals and masks.
  mm.u64(P(0x1500), 2, 0x04000000, 0x401000, ~((1n << 8n) | (1n << 9n) | (1n << 31n)));
  check(SYS.rt_sigaction, [40, P(0x1500), 0, 8], 0,
    'rt_sigaction(SIGRT_8, {sa_handler=0x2, sa_mask=~[KILL USR1 RTMIN], sa_flags=SA_RESTORER, sa_restorer=0x401000}, NULL, 8) = 0');
  mm.u64(P(0x1500), 1, 0x04000000, 0x401000, -1);
  check(SYS.rt_sigaction, [10, P(0x1500), 0, 8], 0,
    'rt_sigaction(SIGUSR1, {sa_handler=SIG_IGN, sa_mask=~[], sa_flags=SA_RESTORER, sa_restorer=0x401000}, NULL, 8) = 0');
  mm.u64(P(0x1500), 0x5607cdd4c149, (0x04000000 | 0x08000000 | 0x10000000 | 0x40000000 | 0x80000000 | 4 | 1 | 2 | 0x100) >>> 0, 0x401000,
    (1n << 1n) | (1n << 14n) | (1n << 31n) | (1n << 32n) | (1n << 63n));
  check(SYS.rt_sigaction, [2, P(0x1500), P(0x1540), 8], 0,
    'rt_sigaction(SIGINT, {sa_handler=0x5607cdd4c149, sa_mask=[INT TERM RTMIN RT_1 RT_32], sa_flags=SA_RESTORER|SA_ONSTACK|SA_RESTART|SA_NODEFER|SA_RESETHAND|SA_SIGINFO|SA_NOCLDSTOP|SA_NOCLDWAIT|0x100, sa_restorer=0x401000}, {sa_handler=SIG_DFL, sa_mask=[], sa_flags=0}, 8) = 0');
  check(SYS.rt_sigaction, [65, 0, 0, 8], -E.EINVAL, 'rt_sigaction(65, NULL, NULL, 8) = -1 EINVAL (Invalid argument)');
  check(SYS.rt_sigaction, [2, 0x10, 0, 8], -E.EFAULT, 'rt_sigaction(SIGINT, 0x10, NULL, 8) = -1 EFAULT (Bad address)');
  check(SYS.rt_sigaction, [0, 0, 0, 8], -E.EINVAL, 'rt_sigaction(0, NULL, NULL, 8) = -1 EINVAL (Invalid argument)');
  mm.u64(P(0x1580), (1n << 42n) - 1n);
  check(SYS.rt_sigprocmask, [0, P(0x1580), P(0x1588), 8], 0,
    'rt_sigprocmask(SIG_BLOCK, ~[RT_11 RT_12 RT_13 RT_14 RT_15 RT_16 RT_17 RT_18 RT_19 RT_20 RT_21 RT_22 RT_23 RT_24 RT_25 RT_26 RT_27 RT_28 RT_29 RT_30 RT_31 RT_32], [], 8) = 0');
  mm.u64(P(0x1580), ((1n << 42n) - 1n) >> 1n);
  check(SYS.rt_sigprocmask, [1, P(0x1580), P(0x1588), 8], 0,
    'rt_sigprocmask(SIG_UNBLOCK, [HUP INT QUIT ILL TRAP ABRT BUS FPE KILL USR1 SEGV USR2 PIPE ALRM TERM STKFLT CHLD CONT STOP TSTP TTIN TTOU URG XCPU XFSZ VTALRM PROF WINCH IO PWR SYS RTMIN RT_1 RT_2 RT_3 RT_4 RT_5 RT_6 RT_7 RT_8 RT_9], [HUP INT QUIT ILL TRAP ABRT BUS FPE USR1 SEGV USR2 PIPE ALRM TERM STKFLT CHLD CONT TSTP TTIN TTOU URG XCPU XFSZ VTALRM PROF WINCH IO PWR SYS RTMIN RT_1 RT_2 RT_3 RT_4 RT_5 RT_6 RT_7 RT_8 RT_9 RT_10], 8) = 0',
    () => mm.u64(P(0x1588), ((1n << 42n) - 1n) & ~((1n << 8n) | (1n << 18n))));
  check(SYS.rt_sigprocmask, [7, 0, P(0x1588), 8], 0, 'rt_sigprocmask(0x7 /* SIG_??? */, NULL, [], 8) = 0', () => mm.u64(P(0x1588), 0));
  check(SYS.kill, [30512, 64], 0, 'kill(30512, SIGRT_32) = 0');
  check(SYS.kill, [99999999, -3], -E.ESRCH, 'kill(99999999, -3) = -1 ESRCH (No such process)');

  // Commands whose third argument depends on the command.
  mm.u16(P(0x1600), 1, 0);
  mm.u64(P(0x1608), 0, 10, 0);
  check(SYS.fcntl, [3, 6, P(0x1600)], 0, 'fcntl(3, F_SETLK, {l_type=F_WRLCK, l_whence=SEEK_SET, l_start=0, l_len=10}) = 0');
  check(SYS.fcntl, [3, 5, P(0x1600)], 0, 'fcntl(3, F_GETLK, {l_type=F_UNLCK, l_whence=SEEK_SET, l_start=0, l_len=10, l_pid=0}) = 0',
    () => mm.u16(P(0x1600), 2));
  check(SYS.fcntl, [3, 9999, 5], -E.EINVAL, 'fcntl(3, 0x270f /* F_??? */, 0x5) = -1 EINVAL (Invalid argument)');
  check(SYS.fcntl, [3, 4, 2 | 0o4000], 0, 'fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0');
  check(SYS.fcntl, [3, 0, 10], 11, 'fcntl(3, F_DUPFD, 10) = 11');
  check(SYS.fcntl, [3, 1030, 0], 4, 'fcntl(3, F_DUPFD_CLOEXEC, 0) = 4');
  check(SYS.fcntl, [3, 1033, 1], -E.EINVAL, 'fcntl(3, F_ADD_SEALS, F_SEAL_SEAL) = -1 EINVAL (Invalid argument)');
  check(SYS.fcntl, [3, 1, 0], 0, 'fcntl(3, F_GETFD) = 0');
  check(SYS.fcntl, [3, 3, 0], 0x8002, 'fcntl(3, F_GETFL) = 0x8002 (flags O_RDWR|O_LARGEFILE)');
  check(SYS.ioctl, [3, 0x5499, 0], -E.ENOTTY, 'ioctl(3, _IOC(_IOC_NONE, 0x54, 0x99, 0), 0) = -1 ENOTTY (Inappropriate ioctl for device)');
  check(SYS.ioctl, [3, 0x12345678, 7], -E.ENOTTY, 'ioctl(3, _IOC(_IOC_NONE, 0x56, 0x78, 0x1234), 0x7) = -1 ENOTTY (Inappropriate ioctl for device)');
  check(SYS.ioctl, [3, 0x80045430, 0x7ffec0631bbc], -E.ENOTTY, 'ioctl(3, TIOCGPTN, 0x7ffec0631bbc) = -1 ENOTTY (Inappropriate ioctl for device)');
  mm.u32(P(0x1640), 1);
  check(SYS.ioctl, [3, 0x5421, P(0x1640)], 0, 'ioctl(3, FIONBIO, [1]) = 0');
  check(SYS.ioctl, [3, 0x5451, 0], 0, 'ioctl(3, FIOCLEX) = 0');
  const termios = (i: number, o: number, c: number, l: number) => () => mm.u32(P(0x1680), i, o, c, l);
  check(SYS.ioctl, [0, 0x5401, P(0x1680)], 0,
    'ioctl(0, TCGETS, {c_iflag=ICRNL|IXON, c_oflag=NL0|CR0|TAB0|BS0|VT0|FF0|OPOST|ONLCR, c_cflag=B38400|CS8|CREAD, c_lflag=ISIG|ICANON|ECHO|ECHOE|ECHOK|IEXTEN|ECHOCTL|ECHOKE, ...}) = 0',
    termios(0o2400, 0o5, 0o277, 0o1 | 0o2 | 0o10 | 0o20 | 0o40 | 0o100000 | 0o1000 | 0o4000));
  check(SYS.ioctl, [0, 0x5401, P(0x1680)], 0,
    'ioctl(0, TCGETS, {c_iflag=, c_oflag=NL0|CR0|TAB0|BS0|VT0|FF0|ONLCR, c_cflag=B38400|CS8|CREAD, c_lflag=ECHOE|ECHOK|ECHOCTL|ECHOKE, ...}) = 0',
    termios(0, 0o4, 0o277, 0o20 | 0o40 | 0o1000 | 0o4000));
  check(SYS.ioctl, [1, 0x5413, P(0x16c0)], 0, 'ioctl(1, TIOCGWINSZ, {ws_row=0, ws_col=0, ws_xpixel=0, ws_ypixel=0}) = 0');
  check(SYS.arch_prctl, [0x1011, 0], 1, 'arch_prctl(ARCH_GET_CPUID) = 1');
  check(SYS.arch_prctl, [0x1012, 1], -E.ENODEV, 'arch_prctl(ARCH_SET_CPUID, 0x1) = -1 ENODEV (No such device)');
  check(SYS.arch_prctl, [0x3001, 0], -E.EINVAL, 'arch_prctl(0x3001 /* ARCH_??? */, 0) = -1 EINVAL (Invalid argument)');
  check(SYS.arch_prctl, [0x1002, 0x7feb1e288740], 0, 'arch_prctl(ARCH_SET_FS, 0x7feb1e288740) = 0');

  // Paths, at-flags, access modes, modes and stat results.
  const passwd = S(0x1700, '/etc/passwd');
  check(SYS.access, [passwd, 4 | 2 | 1 | 8], -E.EINVAL, 'access("/etc/passwd", R_OK|W_OK|X_OK|0x8) = -1 EINVAL (Invalid argument)');
  check(SYS.newfstatat, [AT_FDCWD, passwd, 0x7ffec0631ae0, 0x100 | 0x800 | 0x8000], -E.EINVAL,
    'newfstatat(AT_FDCWD, "/etc/passwd", 0x7ffec0631ae0, AT_SYMLINK_NOFOLLOW|AT_NO_AUTOMOUNT|AT_RECURSIVE) = -1 EINVAL (Invalid argument)');
  check(SYS.newfstatat, [AT_FDCWD, S(0x1720, '/dev/null'), P(0x1800), 0], 0,
    'newfstatat(AT_FDCWD, "/dev/null", {st_mode=S_IFCHR|0666, st_rdev=makedev(0x1, 0x3), ...}, 0) = 0',
    () => {
      mm.u32(P(0x1800 + 24), 0o20666);
      mm.u64(P(0x1800 + 40), 0x103);
    });
  check(SYS.newfstatat, [AT_FDCWD, S(0x1740, '/tmp'), P(0x1800), 0], 0,
    'newfstatat(AT_FDCWD, "/tmp", {st_mode=S_IFDIR|S_ISVTX|0777, st_size=4096, ...}, 0) = 0',
    () => {
      mm.u32(P(0x1800 + 24), 0o41777);
      mm.u64(P(0x1800 + 48), 4096);
    });
  check(SYS.statx, [AT_FDCWD, passwd, 0x100, 0xfff, P(0x1900)], 0,
    'statx(AT_FDCWD, "/etc/passwd", AT_STATX_SYNC_AS_STAT|AT_SYMLINK_NOFOLLOW, STATX_ALL, {stx_mask=STATX_ALL|STATX_MNT_ID, stx_attributes=0, stx_mode=S_IFREG|0644, stx_size=1221, ...}) = 0',
    () => {
      mm.u32(P(0x1900), 0x1fff);
      mm.u16(P(0x1900 + 28), 0o100644);
      mm.u64(P(0x1900 + 40), 1221);
    });
  check(SYS.statx, [AT_FDCWD, passwd, 0x2000, (0x1 | 0x2 | 0x200 | 0x80000000) >>> 0, P(0x1900)], -E.EINVAL,
    'statx(AT_FDCWD, "/etc/passwd", AT_STATX_FORCE_SYNC, STATX_TYPE|STATX_MODE|STATX_SIZE|0x80000000, 0x10001900) = -1 EINVAL (Invalid argument)');
  const d = S(0x1760, '/tmp/st/d');
  check(SYS.mkdirat, [AT_FDCWD, d, 0], -E.EEXIST, 'mkdirat(AT_FDCWD, "/tmp/st/d", 000) = -1 EEXIST (File exists)');
  check(SYS.fchmodat, [AT_FDCWD, d, 0o1777], 0, 'fchmodat(AT_FDCWD, "/tmp/st/d", 01777) = 0');
  check(SYS.umask, [0o22], 0o22, 'umask(022) = 022');
  check(SYS.mknodat, [AT_FDCWD, S(0x1780, '/tmp/st/x'), 0o10600, 0], -E.EEXIST,
    'mknodat(AT_FDCWD, "/tmp/st/x", S_IFIFO|0600) = -1 EEXIST (File exists)');

  // Resources, clocks and sleeps.
  check(SYS.getrlimit, [99, 0x7ffec06319c0], -E.EINVAL, 'getrlimit(0x63 /* RLIMIT_??? */, 0x7ffec06319c0) = -1 EINVAL (Invalid argument)');
  check(SYS.getrlimit, [3, P(0x1a00)], 0, 'getrlimit(RLIMIT_STACK, {rlim_cur=8192*1024, rlim_max=RLIM64_INFINITY}) = 0',
    () => mm.u64(P(0x1a00), 8192 * 1024, -1));
  mm.u64(P(0x1a10), 1024, 4096);
  check(SYS.prlimit64, [0, 7, P(0x1a10), P(0x1a00)], 0,
    'prlimit64(0, RLIMIT_NOFILE, {rlim_cur=1024, rlim_max=4*1024}, {rlim_cur=20000, rlim_max=20000}) = 0',
    () => mm.u64(P(0x1a00), 20000, 20000));
  check(SYS.clock_gettime, [1, P(0x1a20)], 0, 'clock_gettime(CLOCK_MONOTONIC, {tv_sec=527, tv_nsec=289617066}) = 0',
    () => mm.u64(P(0x1a20), 527, 289617066));
  check(SYS.clock_gettime, [99, 0x7ffec0631990], -E.EINVAL, 'clock_gettime(0x63 /* CLOCK_??? */, 0x7ffec0631990) = -1 EINVAL (Invalid argument)');
  check(SYS.clock_gettime, [11, 0], -E.EFAULT, 'clock_gettime(CLOCK_TAI, NULL) = -1 EFAULT (Bad address)');
  check(SYS.clock_nanosleep, [1, 1, P(O.TS), 0], 0, 'clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, {tv_sec=0, tv_nsec=1000}, NULL) = 0');
  check(SYS.nanosleep, [P(O.TS), 0x7ffec0631980], 0, 'nanosleep({tv_sec=0, tv_nsec=1000}, 0x7ffec0631980) = 0');
  check(SYS.nanosleep, [8, 0], -E.EFAULT, 'nanosleep(0x8, NULL) = -1 EFAULT (Bad address)');
  check(SYS.time, [0], 1795752835, 'time(NULL) = 1795752835 (2026-11-27T04:13:55+0000)');

  // Calls strace decodes by name though our tables declare plain pointers.
  check(SYS.pipe2, [P(0x1b00), 0o4000 | 0o2000000], 0, 'pipe2([3, 4], O_NONBLOCK|O_CLOEXEC) = 0', () => mm.u32(P(0x1b00), 3, 4));
  check(SYS.pipe2, [P(0x1b00), 0], 0, 'pipe2([5, 6], 0) = 0', () => mm.u32(P(0x1b00), 5, 6));
  check(SYS.uname, [P(0x1c00)], 0, 'uname({sysname="Linux", nodename="vm", ...}) = 0', () => {
    mm.cstr(P(0x1c00), 'Linux');
    mm.cstr(P(0x1c00 + 65), 'vm');
  });
  mm.u64(P(0x1d00), 0x56490ed242a0, 0, 8192);
  check(SYS.sigaltstack, [P(0x1d00), P(0x1d20)], 0,
    'sigaltstack({ss_sp=0x56490ed242a0, ss_flags=0, ss_size=8192}, {ss_sp=NULL, ss_flags=SS_DISABLE, ss_size=0}) = 0',
    () => mm.u64(P(0x1d20), 0, 2, 0));
  check(SYS.getrandom, [P(0x1d40), 8, 1], 8, 'getrandom("\\x04\\x66\\x83\\x0b\\x94\\x68\\xc4\\x1e", 8, GRND_NONBLOCK) = 8',
    () => mm.put(P(0x1d40), [0x04, 0x66, 0x83, 0x0b, 0x94, 0x68, 0xc4, 0x1e]));
  check(SYS.getcwd, [P(0x1d80), 4096], 8, 'getcwd("/tmp/st", 4096) = 8', () => mm.cstr(P(0x1d80), '/tmp/st'));
  check(SYS.wait4, [-1, P(0x1e00), 0, 0], 3234, 'wait4(-1, [{WIFEXITED(s) && WEXITSTATUS(s) == 3}], 0, NULL) = 3234',
    () => mm.u32(P(0x1e00), 3 << 8));
  check(SYS.wait4, [3235, 0x7fff1b3fba10, 1 | 0x40000000, 0], 0, 'wait4(3235, 0x7fff1b3fba10, WNOHANG|__WALL, NULL) = 0');
  check(SYS.wait4, [3235, 0x7fff1b3fba10, 0, 0], -E.ECHILD, 'wait4(3235, 0x7fff1b3fba10, 0, NULL) = -1 ECHILD (No child processes)');
  const dirents = () => {
    mm.u16(P(0x2000 + 16), 24);
    mm.u16(P(0x2000 + 24 + 16), 24);
  };
  check(SYS.getdents64, [12, P(0x2000), 4096], 48, 'getdents64(12, 0x10002000 /* 2 entries */, 4096) = 48', dirents);
  check(SYS.getdents64, [12, P(0x2000), 4096], 0, 'getdents64(12, 0x10002000 /* 0 entries */, 4096) = 0');

  // argv: 32 strings at most, each cut at 32 bytes; the environment is only counted.
  const strs = ['/nonexistent', '0123456789abcdef0123456789abcdefX', '0123456789abcdef0123456789abcdef',
    ...Array.from({ length: 30 }, (_, i) => String(i + 1))];
  strs.forEach((s, i) => mm.cstr(P(0x3000 + 0x40 * i), s));
  mm.u64(P(0x2800), ...strs.map((_, i) => P(0x3000 + 0x40 * i)), 0);
  mm.u64(P(0x2a00), P(0x3000), 0);
  check(SYS.execve, [P(0x3000), P(0x2800), P(0x2a00)], -E.ENOENT,
    'execve("/nonexistent", ["/nonexistent", "0123456789abcdef0123456789abcdef"..., "0123456789abcdef0123456789abcdef", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16", "17", "18", "19", "20", "21", "22", "23", "24", "25", "26", "27", "28", "29", ...], 0x10002a00 /* 1 var */) = -1 ENOENT (No such file or directory)');
});

t.test('execve arguments are captured before the image they live in is replaced', async (t) => {
  const mm = goldenMemory();
  const out = trace(mm, 7, SYS.execve, [P(O.FILE), P(O.ARGV), P(O.ENVP)], 0, () => mm.bytes.fill(0));
  t.equal(out, '[pid     7] execve("/tmp/golden/file.txt", ["sh", "-c", "echo hi"], 0x10000540 /* 2 vars */) = 0');
});
