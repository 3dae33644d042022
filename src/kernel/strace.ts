// Syscall tracing in the exact text of `strace -f` (strace 6.1 with default options: strings
// cut at 32 bytes, structs abbreviated, results aligned at column 40), so a guest's trace can
// be diffed against the same program traced on a real Linux host.
//
// Each ArgFormat maps to one small formatter. strace decodes some calls by name rather than by
// argument type (out-params our tables declare as plain pointers, fcntl's third argument that
// depends on the command...), so a second, smaller table holds per-syscall overrides.
import { E, ERRNO_MESSAGE, ERRNO_NAME, Errno } from './errno.js';
import { SYSCALL_NAMES } from './syscall-names.js';
import type { ArgFormat, RetFormat, SyscallEntry } from './syscall.js';
import type { Thread } from './task.js';

/** strace's default -s: bytes of a string or buffer shown, and elements of an array. */
const MAX_STRLEN = 32;
const PATH_MAX = 4096;
/** strace's default -a: the column where " = result" starts. */
const RESULT_COLUMN = 40;
/** Bounds the walk over an unterminated argv/envp in guest memory. */
const MAX_VECTOR = 1 << 16;

// ---- Numbers ----

const u64 = (v: number | bigint): bigint =>
  BigInt.asUintN(64, typeof v === 'bigint' ? v : BigInt(Number.isFinite(v) ? Math.trunc(v) : 0));
/** C's %#lx: "0" for zero, otherwise 0x-prefixed. */
const hex = (v: number | bigint): string => {
  const u = u64(v);
  return u === 0n ? '0' : `0x${u.toString(16)}`;
};
const addr = (v: number | bigint): string => (u64(v) === 0n ? 'NULL' : hex(v));
const int32 = (v: number): number => v | 0;
/** C's %#03o, strace's rendering of a numeric mode. */
const octal = (m: number): string => (m === 0 ? '000' : `0${m.toString(8)}`.padStart(3, '0'));
const view = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);

// ---- Symbol tables: [value, name] pairs in strace's own order, which decides print order ----

type Table = ReadonlyArray<readonly [bigint, string]>;
const xlat = (...entries: ReadonlyArray<readonly [number | bigint, string]>): Table =>
  entries.map(([v, name]) => [BigInt(v), name] as const);

/** strace's printflags: known bits in table order, leftover bits in hex, 0 only with a default. */
function flags(table: Table, value: number | bigint, dflt: string | null): string {
  let rest = u64(value);
  const names: string[] = [];
  for (const [v, name] of table) {
    if (rest === v || (v !== 0n && (rest & v) === v)) {
      names.push(name);
      rest &= ~v;
    }
    // A zero-valued name only matches as the table's first entry, as in strace.
    if (rest === 0n) break;
  }
  if (names.length) return rest ? `${names.join('|')}|${hex(rest)}` : names.join('|');
  if (rest) return dflt ? `${hex(rest)} /* ${dflt} */` : hex(rest);
  return dflt ? '0' : '';
}

/** strace's printxval: one name, or the value in hex followed by a PREFIX_??? comment. */
function xval(table: Table, value: number | bigint, dflt: string): string {
  const v = u64(value);
  const hit = table.find(([x]) => x === v);
  return hit ? hit[1] : `${hex(v)} /* ${dflt} */`;
}

const O_ACCMODE = xlat([0, 'O_RDONLY'], [1, 'O_WRONLY'], [2, 'O_RDWR'], [3, 'O_ACCMODE']);
const O_FLAGS = xlat(
  [0o100, 'O_CREAT'], [0o200, 'O_EXCL'], [0o400, 'O_NOCTTY'], [0o1000, 'O_TRUNC'], [0o2000, 'O_APPEND'],
  [0o4000, 'O_NONBLOCK'], [0o4010000, 'O_SYNC'], [0o10000, 'O_DSYNC'], [0o40000, 'O_DIRECT'],
  [0o100000, 'O_LARGEFILE'], [0o400000, 'O_NOFOLLOW'], [0o1000000, 'O_NOATIME'], [0o2000000, 'O_CLOEXEC'],
  [0o10000000, 'O_PATH'], [0o20200000, 'O_TMPFILE'], [0o200000, 'O_DIRECTORY'], [0o20000, 'FASYNC'],
);
const O_CREAT = 0o100, O_TMPFILE_BIT = 0o20000000;

const AT_FLAGS = xlat(
  [0x100, 'AT_SYMLINK_NOFOLLOW'], [0x200, 'AT_REMOVEDIR'], [0x400, 'AT_SYMLINK_FOLLOW'],
  [0x800, 'AT_NO_AUTOMOUNT'], [0x1000, 'AT_EMPTY_PATH'], [0x8000, 'AT_RECURSIVE'],
);
// faccessat2 gives 0x200 its other meaning.
const FACCESSAT_FLAGS = xlat([0x100, 'AT_SYMLINK_NOFOLLOW'], [0x200, 'AT_EACCESS'], [0x1000, 'AT_EMPTY_PATH']);
const AT_STATX_SYNC_TYPE = 0x6000;
const STATX_SYNC = xlat([0, 'AT_STATX_SYNC_AS_STAT'], [0x2000, 'AT_STATX_FORCE_SYNC'], [0x4000, 'AT_STATX_DONT_SYNC']);

const STATX_MASK = xlat(
  [0xfff, 'STATX_ALL'], [0x7ff, 'STATX_BASIC_STATS'], [0x1, 'STATX_TYPE'], [0x2, 'STATX_MODE'],
  [0x4, 'STATX_NLINK'], [0x8, 'STATX_UID'], [0x10, 'STATX_GID'], [0x20, 'STATX_ATIME'], [0x40, 'STATX_MTIME'],
  [0x80, 'STATX_CTIME'], [0x100, 'STATX_INO'], [0x200, 'STATX_SIZE'], [0x400, 'STATX_BLOCKS'],
  [0x800, 'STATX_BTIME'], [0x1000, 'STATX_MNT_ID'], [0x2000, 'STATX_DIOALIGN'],
);
const STATX_ATTRS = xlat(
  [0x4, 'STATX_ATTR_COMPRESSED'], [0x10, 'STATX_ATTR_IMMUTABLE'], [0x20, 'STATX_ATTR_APPEND'],
  [0x40, 'STATX_ATTR_NODUMP'], [0x800, 'STATX_ATTR_ENCRYPTED'], [0x1000, 'STATX_ATTR_AUTOMOUNT'],
  [0x2000, 'STATX_ATTR_MOUNT_ROOT'], [0x100000, 'STATX_ATTR_VERITY'], [0x200000, 'STATX_ATTR_DAX'],
);

const WHENCE = xlat([0, 'SEEK_SET'], [1, 'SEEK_CUR'], [2, 'SEEK_END'], [3, 'SEEK_DATA'], [4, 'SEEK_HOLE']);
const PROT = xlat(
  [0, 'PROT_NONE'], [1, 'PROT_READ'], [2, 'PROT_WRITE'], [4, 'PROT_EXEC'], [8, 'PROT_SEM'],
  [0x1000000, 'PROT_GROWSDOWN'], [0x2000000, 'PROT_GROWSUP'],
);
const MAP_TYPE = 0xf;
const MAP_TYPES = xlat([1, 'MAP_SHARED'], [2, 'MAP_PRIVATE'], [3, 'MAP_SHARED_VALIDATE'], [0, 'MAP_FILE']);
const MAP_FLAGS = xlat(
  [0x10, 'MAP_FIXED'], [0x20, 'MAP_ANONYMOUS'], [0x40, 'MAP_32BIT'], [0x4000, 'MAP_NORESERVE'],
  [0x8000, 'MAP_POPULATE'], [0x10000, 'MAP_NONBLOCK'], [0x100, 'MAP_GROWSDOWN'], [0x800, 'MAP_DENYWRITE'],
  [0x1000, 'MAP_EXECUTABLE'], [0x2000, 'MAP_LOCKED'], [0x20000, 'MAP_STACK'], [0x40000, 'MAP_HUGETLB'],
  [0x80000, 'MAP_SYNC'], [0x4000000, 'MAP_UNINITIALIZED'], [0x100000, 'MAP_FIXED_NOREPLACE'],
);
const MAP_HUGE_SHIFT = 26n, MAP_HUGE_MASK = 0x3fn;

const CLOCKS = xlat(
  [0, 'CLOCK_REALTIME'], [1, 'CLOCK_MONOTONIC'], [2, 'CLOCK_PROCESS_CPUTIME_ID'], [3, 'CLOCK_THREAD_CPUTIME_ID'],
  [4, 'CLOCK_MONOTONIC_RAW'], [5, 'CLOCK_REALTIME_COARSE'], [6, 'CLOCK_MONOTONIC_COARSE'], [7, 'CLOCK_BOOTTIME'],
  [8, 'CLOCK_REALTIME_ALARM'], [9, 'CLOCK_BOOTTIME_ALARM'], [10, 'CLOCK_SGI_CYCLE'], [11, 'CLOCK_TAI'],
);
const TIMER_FLAGS = xlat([1, 'TIMER_ABSTIME']);
const SIGHOW = xlat([0, 'SIG_BLOCK'], [1, 'SIG_UNBLOCK'], [2, 'SIG_SETMASK']);
const SA_RESTORER = 0x04000000n;
const SA_FLAGS = xlat(
  [SA_RESTORER, 'SA_RESTORER'], [0x08000000, 'SA_ONSTACK'], [0x10000000, 'SA_RESTART'], [0x20000000, 'SA_INTERRUPT'],
  [0x40000000, 'SA_NODEFER'], [0x80000000, 'SA_RESETHAND'], [4, 'SA_SIGINFO'], [1, 'SA_NOCLDSTOP'], [2, 'SA_NOCLDWAIT'],
);
const SA_HANDLERS = xlat([u64(-1), 'SIG_ERR'], [0, 'SIG_DFL'], [1, 'SIG_IGN']);
const SS_FLAGS = xlat([1, 'SS_ONSTACK'], [2, 'SS_DISABLE'], [0x80000000, 'SS_AUTODISARM']);
const ACCESS = xlat([0, 'F_OK'], [4, 'R_OK'], [2, 'W_OK'], [1, 'X_OK']);
const RLIMITS = xlat(
  [0, 'RLIMIT_CPU'], [1, 'RLIMIT_FSIZE'], [2, 'RLIMIT_DATA'], [3, 'RLIMIT_STACK'], [4, 'RLIMIT_CORE'],
  [5, 'RLIMIT_RSS'], [6, 'RLIMIT_NPROC'], [7, 'RLIMIT_NOFILE'], [8, 'RLIMIT_MEMLOCK'], [9, 'RLIMIT_AS'],
  [10, 'RLIMIT_LOCKS'], [11, 'RLIMIT_SIGPENDING'], [12, 'RLIMIT_MSGQUEUE'], [13, 'RLIMIT_NICE'],
  [14, 'RLIMIT_RTPRIO'], [15, 'RLIMIT_RTTIME'],
);
const FD_FLAGS = xlat([1, 'FD_CLOEXEC']);
const LOCK_TYPES = xlat([0, 'F_RDLCK'], [1, 'F_WRLCK'], [2, 'F_UNLCK'], [4, 'F_EXLCK'], [8, 'F_SHLCK']);
const SEALS = xlat([1, 'F_SEAL_SEAL'], [2, 'F_SEAL_SHRINK'], [4, 'F_SEAL_GROW'], [8, 'F_SEAL_WRITE'], [0x10, 'F_SEAL_FUTURE_WRITE']);
const WAIT_OPTIONS = xlat(
  [1, 'WNOHANG'], [2, 'WUNTRACED'], [4, 'WEXITED'], [8, 'WCONTINUED'], [0x1000000, 'WNOWAIT'],
  [0x20000000, '__WNOTHREAD'], [0x40000000, '__WALL'], [0x80000000, '__WCLONE'],
);
const MFD_FLAGS = xlat([1, 'MFD_CLOEXEC'], [2, 'MFD_ALLOW_SEALING'], [4, 'MFD_HUGETLB'], [8, 'MFD_NOEXEC_SEAL'], [0x10, 'MFD_EXEC']);
const CLOSE_RANGE_FLAGS = xlat([2, 'CLOSE_RANGE_UNSHARE'], [4, 'CLOSE_RANGE_CLOEXEC']);
const GRND_FLAGS = xlat([1, 'GRND_NONBLOCK'], [2, 'GRND_RANDOM'], [4, 'GRND_INSECURE']);
const MADVICE = xlat(
  [0, 'MADV_NORMAL'], [1, 'MADV_RANDOM'], [2, 'MADV_SEQUENTIAL'], [3, 'MADV_WILLNEED'], [4, 'MADV_DONTNEED'],
  [8, 'MADV_FREE'], [9, 'MADV_REMOVE'], [10, 'MADV_DONTFORK'], [11, 'MADV_DOFORK'], [12, 'MADV_MERGEABLE'],
  [13, 'MADV_UNMERGEABLE'], [14, 'MADV_HUGEPAGE'], [15, 'MADV_NOHUGEPAGE'], [16, 'MADV_DONTDUMP'],
  [17, 'MADV_DODUMP'], [18, 'MADV_WIPEONFORK'], [19, 'MADV_KEEPONFORK'], [20, 'MADV_COLD'], [21, 'MADV_PAGEOUT'],
  [22, 'MADV_POPULATE_READ'], [23, 'MADV_POPULATE_WRITE'], [100, 'MADV_HWPOISON'], [101, 'MADV_SOFT_OFFLINE'],
);
const IOC_DIRS = xlat([0, '_IOC_NONE'], [2, '_IOC_READ'], [1, '_IOC_WRITE']);

const S_IFMT = 0o170000;
const MODE_TYPES = new Map<number, string>([
  [0o100000, 'S_IFREG'], [0o140000, 'S_IFSOCK'], [0o10000, 'S_IFIFO'], [0o120000, 'S_IFLNK'],
  [0o40000, 'S_IFDIR'], [0o60000, 'S_IFBLK'], [0o20000, 'S_IFCHR'],
]);

// Termios, for the TCGETS/TCSETS family.
const TERM_IFLAGS = xlat(
  [0o1, 'IGNBRK'], [0o2, 'BRKINT'], [0o4, 'IGNPAR'], [0o10, 'PARMRK'], [0o20, 'INPCK'], [0o40, 'ISTRIP'],
  [0o100, 'INLCR'], [0o200, 'IGNCR'], [0o400, 'ICRNL'], [0o1000, 'IUCLC'], [0o2000, 'IXON'], [0o4000, 'IXANY'],
  [0o10000, 'IXOFF'], [0o20000, 'IMAXBEL'], [0o40000, 'IUTF8'],
);
/** c_oflag's delay fields: each prints as one value, before the plain flags. */
const TERM_ODELAYS: ReadonlyArray<readonly [bigint, Table, string]> = [
  [0o400n, xlat([0, 'NL0'], [0o400, 'NL1']), 'NL?'],
  [0o3000n, xlat([0, 'CR0'], [0o1000, 'CR1'], [0o2000, 'CR2'], [0o3000, 'CR3']), 'CR?'],
  [0o14000n, xlat([0o14000, 'XTABS'], [0, 'TAB0'], [0o4000, 'TAB1'], [0o10000, 'TAB2']), 'TAB?'],
  [0o20000n, xlat([0o20000, 'BS1'], [0, 'BS0']), 'BS?'],
  [0o40000n, xlat([0, 'VT0'], [0o40000, 'VT1']), 'VT?'],
  [0o100000n, xlat([0, 'FF0'], [0o100000, 'FF1']), 'FF?'],
];
const TERM_OFLAGS = xlat(
  [0o1, 'OPOST'], [0o2, 'OLCUC'], [0o4, 'ONLCR'], [0o10, 'OCRNL'], [0o20, 'ONOCR'], [0o40, 'ONLRET'],
  [0o100, 'OFILL'], [0o200, 'OFDEL'],
);
const CBAUD = 0o10017n, CIBAUD = 0o2003600000n, IBSHIFT = 16n, CSIZE = 0o60n;
const BAUDS = xlat(
  [0, 'B0'], [1, 'B50'], [2, 'B75'], [3, 'B110'], [4, 'B134'], [5, 'B150'], [6, 'B200'], [7, 'B300'],
  [0o10, 'B600'], [0o11, 'B1200'], [0o12, 'B1800'], [0o13, 'B2400'], [0o14, 'B4800'], [0o15, 'B9600'],
  [0o16, 'B19200'], [0o17, 'B38400'], [0o10001, 'B57600'], [0o10002, 'B115200'], [0o10003, 'B230400'],
  [0o10004, 'B460800'], [0o10005, 'B500000'], [0o10006, 'B576000'], [0o10007, 'B921600'],
  [0o10010, 'B1000000'], [0o10011, 'B1152000'], [0o10012, 'B1500000'], [0o10013, 'B2000000'],
  [0o10014, 'B2500000'], [0o10015, 'B3000000'], [0o10016, 'B3500000'], [0o10017, 'B4000000'], [0o10000, 'BOTHER'],
);
const CSIZES = xlat([0, 'CS5'], [0o20, 'CS6'], [0o40, 'CS7'], [0o60, 'CS8']);
const TERM_CFLAGS = xlat(
  [0o100, 'CSTOPB'], [0o200, 'CREAD'], [0o400, 'PARENB'], [0o1000, 'PARODD'], [0o2000, 'HUPCL'],
  [0o4000, 'CLOCAL'], [0o10000000000, 'CMSPAR'], [0o20000000000, 'CRTSCTS'],
);
const TERM_LFLAGS = xlat(
  [0o1, 'ISIG'], [0o2, 'ICANON'], [0o4, 'XCASE'], [0o10, 'ECHO'], [0o20, 'ECHOE'], [0o40, 'ECHOK'],
  [0o100, 'ECHONL'], [0o200, 'NOFLSH'], [0o100000, 'IEXTEN'], [0o1000, 'ECHOCTL'], [0o2000, 'ECHOPRT'],
  [0o4000, 'ECHOKE'], [0o10000, 'FLUSHO'], [0o40000, 'PENDIN'], [0o400, 'TOSTOP'], [0o200000, 'EXTPROC'],
);

/** Index = signal number; 32 is the first real-time signal, which strace names itself. */
const SIGNAL_NAMES = [
  '', 'HUP', 'INT', 'QUIT', 'ILL', 'TRAP', 'ABRT', 'BUS', 'FPE', 'KILL', 'USR1', 'SEGV', 'USR2', 'PIPE',
  'ALRM', 'TERM', 'STKFLT', 'CHLD', 'CONT', 'STOP', 'TSTP', 'TTIN', 'TTOU', 'URG', 'XCPU', 'XFSZ',
  'VTALRM', 'PROF', 'WINCH', 'IO', 'PWR', 'SYS', 'RTMIN',
];

/** Name without the SIG prefix, or null outside 1..64. */
function signalBase(sig: number): string | null {
  if (sig > 0 && sig < SIGNAL_NAMES.length) return SIGNAL_NAMES[sig];
  if (sig >= SIGNAL_NAMES.length && sig <= 64) return `RT_${sig - 32}`;
  return null;
}

export function signalName(sig: number): string {
  const base = signalBase(sig);
  return base === null ? String(sig) : `SIG${base}`;
}

/** A 64-bit sigset: strace inverts it ("~[...]") once two thirds of the bits are set. */
function sigmask(mask: bigint): string {
  let m = BigInt.asUintN(64, mask), prefix = '';
  let count = 0;
  for (let b = m; b; b &= b - 1n) count++;
  if (count >= Math.floor((64 * 2) / 3)) {
    m = BigInt.asUintN(64, ~m);
    prefix = '~';
  }
  const names: string[] = [];
  for (let i = 0; i < 64; i++) if ((m >> BigInt(i)) & 1n) names.push(signalBase(i + 1)!);
  return `${prefix}[${names.join(' ')}]`;
}

// ---- Strings ----

const ESCAPES = new Map<number, string>([
  [0x22, '\\"'], [0x5c, '\\\\'], [0x0c, '\\f'], [0x0a, '\\n'], [0x0d, '\\r'], [0x09, '\\t'], [0x0b, '\\v'],
]);

/** strace's string_quote: C escapes, other unprintables in octal (three digits when a digit follows). */
function quote(b: Uint8Array, size: number, allHex = false): string {
  let s = '"';
  for (let i = 0; i < size; i++) {
    const c = b[i];
    if (allHex) {
      s += `\\x${c.toString(16).padStart(2, '0')}`;
      continue;
    }
    const esc = ESCAPES.get(c);
    if (esc) s += esc;
    else if (c >= 0x20 && c < 0x7f) s += String.fromCharCode(c);
    else {
      const digitFollows = i + 1 < size && b[i + 1] >= 0x30 && b[i + 1] <= 0x37;
      s += `\\${digitFollows ? c.toString(8).padStart(3, '0') : c.toString(8)}`;
    }
  }
  return `${s}"`;
}

/** Runs a guest-memory read; a bad pointer shows as itself in hex, as strace's printaddr does. */
function guarded(a: number, show: () => string): string {
  if (!a) return 'NULL';
  try {
    return show();
  } catch (e) {
    if (e instanceof Errno) return hex(a);
    throw e;
  }
}

/** A buffer of len bytes (strace's printstrn). */
function buffer(t: Thread, a: number, len: number, allHex = false): string {
  return guarded(a, () => {
    const want = len < 0 ? Infinity : len;
    const bytes = t.mm.read(a, Math.min(want, MAX_STRLEN + 1));
    return quote(bytes, Math.min(bytes.length, MAX_STRLEN), allHex) + (want > MAX_STRLEN ? '...' : '');
  });
}

/** A NUL-terminated string, cut at limit bytes with "..." after the quote. */
function cstring(t: Thread, a: number, limit: number): string {
  return guarded(a, () => {
    try {
      const s = t.mm.readCString(a, limit);
      return quote(Uint8Array.from(s, (ch) => ch.charCodeAt(0)), s.length);
    } catch (e) {
      if (!(e instanceof Errno) || e.errno !== E.ENAMETOOLONG) throw e;
    }
    return `${quote(t.mm.read(a, limit), limit)}...`;
  });
}

const readPtr = (t: Thread, a: number): number => Number(view(t.mm.read(a, 8)).getBigUint64(0, true));

// ---- Structs ----

function symbolicMode(mode: number): string {
  const type = mode & S_IFMT ? MODE_TYPES.get(mode & S_IFMT) : '';
  if (type === undefined) return octal(mode);
  const special = (mode & 0o4000 ? 'S_ISUID|' : '') + (mode & 0o2000 ? 'S_ISGID|' : '') + (mode & 0o1000 ? 'S_ISVTX|' : '');
  return `${type}${type ? '|' : ''}${special}${octal(mode & ~0o177000)}`;
}

function makedev(dev: bigint): string {
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
  const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
  return `makedev(${hex(major)}, ${hex(minor)})`;
}

const struct = {
  timespec: (t: Thread, a: number) => guarded(a, () => {
    const v = view(t.mm.read(a, 16));
    return `{tv_sec=${v.getBigInt64(0, true)}, tv_nsec=${v.getBigUint64(8, true)}}`;
  }),
  timeval: (t: Thread, a: number) => guarded(a, () => {
    const v = view(t.mm.read(a, 16));
    return `{tv_sec=${v.getBigInt64(0, true)}, tv_usec=${v.getBigUint64(8, true)}}`;
  }),
  sigset: (t: Thread, a: number) => guarded(a, () => sigmask(view(t.mm.read(a, 8)).getBigUint64(0, true))),
  // The kernel's struct sigaction: handler, flags, restorer, mask.
  sigaction: (t: Thread, a: number) => guarded(a, () => {
    const v = view(t.mm.read(a, 32));
    const saFlags = v.getBigUint64(8, true);
    const handler = v.getBigUint64(0, true);
    const named = SA_HANDLERS.find(([x]) => x === handler);
    const restorer = saFlags & SA_RESTORER ? `, sa_restorer=${addr(v.getBigUint64(16, true))}` : '';
    return `{sa_handler=${named ? named[1] : hex(handler)}, sa_mask=${sigmask(v.getBigUint64(24, true))}, ` +
      `sa_flags=${flags(SA_FLAGS, saFlags, 'SA_???')}${restorer}}`;
  }),
  stack: (t: Thread, a: number) => guarded(a, () => {
    const v = view(t.mm.read(a, 24));
    return `{ss_sp=${addr(v.getBigUint64(0, true))}, ss_flags=${flags(SS_FLAGS, v.getUint32(8, true), 'SS_???')}, ` +
      `ss_size=${v.getBigUint64(16, true)}}`;
  }),
  // x86-64 struct stat; strace without -v shows the mode and the size (or device), then "...".
  stat: (t: Thread, a: number) => guarded(a, () => {
    const v = view(t.mm.read(a, 144));
    const mode = v.getUint32(24, true);
    const type = mode & S_IFMT;
    const tail = type === 0o20000 || type === 0o60000
      ? `st_rdev=${makedev(v.getBigUint64(40, true))}` : `st_size=${v.getBigUint64(48, true)}`;
    return `{st_mode=${symbolicMode(mode)}, ${tail}, ...}`;
  }),
  statx: (t: Thread, a: number) => guarded(a, () => {
    const v = view(t.mm.read(a, 256));
    return `{stx_mask=${flags(STATX_MASK, v.getUint32(0, true), 'STATX_???')}, ` +
      `stx_attributes=${flags(STATX_ATTRS, v.getBigUint64(8, true), 'STATX_ATTR_???')}, ` +
      `stx_mode=${symbolicMode(v.getUint16(28, true))}, stx_size=${v.getBigUint64(40, true)}, ...}`;
  }),
  rlimit: (t: Thread, a: number) => guarded(a, () => {
    const v = view(t.mm.read(a, 16));
    const lim = (x: bigint) =>
      x === u64(-1) ? 'RLIM64_INFINITY' : x > 1024n && x % 1024n === 0n ? `${x / 1024n}*1024` : String(x);
    return `{rlim_cur=${lim(v.getBigUint64(0, true))}, rlim_max=${lim(v.getBigUint64(8, true))}}`;
  }),
  flock: (t: Thread, a: number, withPid: boolean) => guarded(a, () => {
    const v = view(t.mm.read(a, 32));
    const pid = withPid ? `, l_pid=${v.getInt32(24, true)}` : '';
    return `{l_type=${xval(LOCK_TYPES, v.getInt16(0, true), 'F_???')}, l_whence=${xval(WHENCE, v.getInt16(2, true), 'SEEK_???')}, ` +
      `l_start=${v.getBigInt64(8, true)}, l_len=${v.getBigInt64(16, true)}${pid}}`;
  }),
  termios: (t: Thread, a: number) => guarded(a, () => {
    const v = view(t.mm.read(a, 36));
    let oflag = BigInt(v.getUint32(4, true));
    const delays = TERM_ODELAYS.map(([mask, table, dflt]) => {
      const part = xval(table, oflag & mask, dflt);
      oflag &= ~mask;
      return `${part}|`;
    }).join('');
    let cflag = BigInt(v.getUint32(8, true));
    let speeds = `${xval(BAUDS, cflag & CBAUD, 'B???')}|`;
    if (cflag & CIBAUD) speeds += `${xval(BAUDS, (cflag & CIBAUD) >> IBSHIFT, 'B???')}<<IBSHIFT|`;
    speeds += `${xval(CSIZES, cflag & CSIZE, 'CS?')}|`;
    cflag &= ~(CBAUD | CIBAUD | CSIZE);
    return `{c_iflag=${flags(TERM_IFLAGS, v.getUint32(0, true), null)}, c_oflag=${delays}${flags(TERM_OFLAGS, oflag, null)}, ` +
      `c_cflag=${speeds}${flags(TERM_CFLAGS, cflag, null)}, c_lflag=${flags(TERM_LFLAGS, v.getUint32(12, true), null)}, ...}`;
  }),
  winsize: (t: Thread, a: number) => guarded(a, () => {
    const v = view(t.mm.read(a, 8));
    return `{ws_row=${v.getUint16(0, true)}, ws_col=${v.getUint16(2, true)}, ws_xpixel=${v.getUint16(4, true)}, ` +
      `ws_ypixel=${v.getUint16(6, true)}}`;
  }),
  intRef: (t: Thread, a: number) => guarded(a, () => `[${view(t.mm.read(a, 4)).getInt32(0, true)}]`),
  ptrRef: (t: Thread, a: number) => guarded(a, () => `[${addr(readPtr(t, a))}]`),
  fdPair: (t: Thread, a: number) => guarded(a, () => {
    const v = view(t.mm.read(a, 8));
    return `[${v.getInt32(0, true)}, ${v.getInt32(4, true)}]`;
  }),
  utsname: (t: Thread, a: number) => guarded(a, () => {
    const field = (at: number) => {
      const b = t.mm.read(a + at, 65);
      const end = b.indexOf(0);
      return quote(b, end < 0 ? 65 : end);
    };
    return `{sysname=${field(0)}, nodename=${field(65)}, ...}`;
  }),
  // The wait status word, as strace's printstatus spells it.
  wstatus: (t: Thread, a: number) => guarded(a, () => {
    const s = view(t.mm.read(a, 4)).getInt32(0, true);
    const low = s & 0x7f;
    if ((s & 0xff) === 0x7f) return `[{WIFSTOPPED(s) && WSTOPSIG(s) == ${signalName((s >> 8) & 0x7f)}}]`;
    if (low !== 0 && low !== 0x7f) {
      return `[{WIFSIGNALED(s) && WTERMSIG(s) == ${signalName(low)}${s & 0x80 ? ' && WCOREDUMP(s)' : ''}}]`;
    }
    if (low === 0) return `[{WIFEXITED(s) && WEXITSTATUS(s) == ${(s >> 8) & 0xff}}]`;
    return s === 0xffff ? '[{WIFCONTINUED(s)}]' : `[${hex(s >>> 0)}]`;
  }),
  dirents: (t: Thread, a: number, len: number) => guarded(a, () => {
    const b = t.mm.read(a, len);
    let n = 0;
    for (let at = 0; at + 18 < len; n++) {
      const reclen = view(b).getUint16(at + 16, true);
      if (!reclen) break;
      at += reclen;
    }
    return `${hex(a)} /* ${n} entries */`;
  }),
};

function argv(t: Thread, a: number): string {
  if (!a) return 'NULL';
  const items: string[] = [];
  for (let n = 0; n < MAX_VECTOR; n++) {
    let word: number;
    try {
      word = readPtr(t, a + 8 * n);
    } catch (e) {
      if (!(e instanceof Errno)) throw e;
      if (n === 0) return hex(a);
      items.push(`... /* ${hex(a + 8 * n)} */`);
      break;
    }
    if (word === 0) break;
    if (n >= MAX_STRLEN) {
      items.push('...');
      break;
    }
    items.push(cstring(t, word, MAX_STRLEN));
  }
  return `[${items.join(', ')}]`;
}

/** strace abbreviates the environment to its address and a count. */
function envp(t: Thread, a: number): string {
  if (!a) return 'NULL';
  let n = 0, unterminated = false;
  for (; n < MAX_VECTOR; n++) {
    try {
      if (readPtr(t, a + 8 * n) === 0) break;
    } catch (e) {
      if (!(e instanceof Errno)) throw e;
      if (n === 0) return hex(a);
      unterminated = true;
      break;
    }
  }
  return `${hex(a)} /* ${n} var${n === 1 ? '' : 's'}${unterminated ? ', unterminated' : ''} */`;
}

/**
 * An iovec array of count entries. dataSize caps the bytes shown across all entries (readv
 * shows only what was read); null shows each entry's own length. With bases 'addr' the
 * buffers are shown as pointers (a readv that failed).
 */
function iovec(t: Thread, a: number, count: number, dataSize: number | null, bases: 'data' | 'addr'): string {
  if (!a) return 'NULL';
  if (count === 0) return '[]';
  if (count < 0) return hex(a);
  const items: string[] = [];
  let left = dataSize;
  for (let i = 0; i < count; i++) {
    let base: number, len: number;
    try {
      const v = view(t.mm.read(a + 16 * i, 16));
      base = Number(v.getBigUint64(0, true));
      len = Number(v.getBigUint64(8, true));
    } catch (e) {
      if (!(e instanceof Errno)) throw e;
      if (i === 0) return hex(a);
      items.push(`... /* ${hex(a + 16 * i)} */`);
      break;
    }
    if (i >= MAX_STRLEN) {
      items.push('...');
      break;
    }
    let shown = len;
    if (left !== null) {
      shown = Math.min(len, left);
      left -= shown;
    }
    const data = bases === 'addr' ? addr(base) : buffer(t, base, shown);
    items.push(`{iov_base=${data}, iov_len=${len}}`);
  }
  return `[${items.join(', ')}]`;
}

// ---- Argument formatters ----

/** The call being formatted; formatters may set ret to decode the return value (fcntl F_GETFL). */
interface Call {
  readonly t: Thread;
  readonly name: string;
  readonly args: readonly number[];
  readonly formats: readonly ArgFormat[];
  ret?: (result: number) => string;
}

/** Text of an out-param, produced after the call from its result. */
type Later = (result: number) => string | null;
/** What an argument shows: text captured now, text produced after the call, or nothing. */
type Shown = string | null | Later;
type Formatter = (c: Call, v: number, i: number) => Shown;

const failed = (result: number) => result < 0 && result >= -4095;

/** An out-param: decoded after a successful call, a bare pointer after a failed one (as strace does). */
const after = (show: (c: Call, v: number, result: number) => string): Formatter =>
  (c, v) => (result) => (failed(result) ? addr(v) : show(c, v, result));

const arg = (c: Call, i: number): number => c.args[i] ?? 0;
const flagsOf = (table: Table, dflt: string | null): Formatter => (_c, v) => flags(table, v, dflt);
const xvalOf = (table: Table, dflt: string): Formatter => (_c, v) => xval(table, v, dflt);
const decimal: Formatter = (_c, v) => String(int32(v));
const hexArg: Formatter = (_c, v) => hex(v);

function openFlags(v: number | bigint): string {
  const value = u64(v);
  const access = xval(O_ACCMODE, value & 3n, 'O_???');
  const rest = value & ~3n;
  return rest ? `${access}|${flags(O_FLAGS, rest, null)}` : access;
}

function mapFlags(v: number): string {
  let rest = u64(v);
  let s = xval(MAP_TYPES, rest & BigInt(MAP_TYPE), 'MAP_???');
  rest &= ~BigInt(MAP_TYPE);
  const huge = (rest >> MAP_HUGE_SHIFT) & MAP_HUGE_MASK;
  rest &= ~(MAP_HUGE_MASK << MAP_HUGE_SHIFT);
  if (rest) s += `|${flags(MAP_FLAGS, rest, null)}`;
  if (huge) s += `|${huge}<<MAP_HUGE_SHIFT`;
  return s;
}

const ARG: Record<ArgFormat, Formatter> = {
  int: decimal,
  uint: (_c, v) => String(v >>> 0),
  hex: hexArg,
  ptr: (_c, v) => addr(v),
  size: (_c, v) => String(u64(v)),
  off: (_c, v) => String(BigInt.asIntN(64, u64(v))),
  fd: decimal,
  dirfd: (_c, v) => (int32(v) === -100 ? 'AT_FDCWD' : String(int32(v))),
  path: (c, v) => cstring(c.t, v, PATH_MAX - 1),
  str: (c, v) => cstring(c.t, v, MAX_STRLEN),
  inbuf: (c, v, i) => buffer(c.t, v, arg(c, i + 1)),
  outbuf: after((c, v, result) => buffer(c.t, v, result)),
  iovec_in: (c, v, i) => iovec(c.t, v, arg(c, i + 1), null, 'data'),
  iovec_out: (c, v, i) => (result) =>
    iovec(c.t, v, arg(c, i + 1), failed(result) ? null : result, failed(result) ? 'addr' : 'data'),
  // C-int flags (here and in atflags, accessmode, statxmask): only the register's low 32 bits count.
  oflags: (_c, v) => openFlags(v >>> 0),
  // open and openat show the mode only when the flags can create a file.
  mode: (c, v, i) => {
    if (c.formats[i - 1] === 'oflags' && !(arg(c, i - 1) & (O_CREAT | O_TMPFILE_BIT))) return null;
    return c.name === 'mknod' || c.name === 'mknodat' ? symbolicMode(v >>> 0) : octal(v >>> 0);
  },
  atflags: (c, v) => {
    if (c.name === 'faccessat2') return flags(FACCESSAT_FLAGS, v >>> 0, 'AT_???');
    if (c.name !== 'statx') return flags(AT_FLAGS, v >>> 0, 'AT_???');
    const rest = (v >>> 0) & ~AT_STATX_SYNC_TYPE;
    const sync = flags(STATX_SYNC, (v >>> 0) & AT_STATX_SYNC_TYPE, null);
    return rest ? `${sync}|${flags(AT_FLAGS, rest, null)}` : sync;
  },
  whence: xvalOf(WHENCE, 'SEEK_???'),
  prot: flagsOf(PROT, 'PROT_???'),
  mapflags: (_c, v) => mapFlags(v),
  clockid: (_c, v) => xval(CLOCKS, v >>> 0, 'CLOCK_???'),
  signal: (_c, v) => signalName(int32(v)),
  sigaction: (c, v) => struct.sigaction(c.t, v),
  sighow: xvalOf(SIGHOW, 'SIG_???'),
  sigset: (c, v) => struct.sigset(c.t, v),
  argv: (c, v) => argv(c.t, v),
  envp: (c, v) => envp(c.t, v),
  timespec: (c, v) => struct.timespec(c.t, v),
  stat: after((c, v) => (c.name === 'statx' ? struct.statx(c.t, v) : struct.stat(c.t, v))),
  accessmode: (_c, v) => flags(ACCESS, v >>> 0, '?_OK'),
  fcntlcmd: (c, v) => command(FCNTL, c, v >>> 0, () => `${hex(v >>> 0)} /* F_??? */`),
  ioctlcmd: (c, v) => command(IOCTL, c, v >>> 0, () => ioctlCode(v >>> 0)),
  archprctl: (c, v) => command(ARCH_PRCTL, c, v >>> 0, () => `${hex(v >>> 0)} /* ARCH_??? */`),
  rlimitres: xvalOf(RLIMITS, 'RLIMIT_???'),
  statxmask: (_c, v) => flags(STATX_MASK, v >>> 0, 'STATX_???'),
};

// ---- Commands whose next argument depends on the command (fcntl, ioctl, arch_prctl) ----

interface Command {
  name: string;
  /** How the argument after the command shows; null when the command takes none. */
  next: Formatter | null;
  ret?: (result: number) => string;
}

const commands = (...list: ReadonlyArray<readonly [number, string, Formatter | null, ((r: number) => string)?]>) =>
  new Map<number, Command>(list.map(([v, name, next, ret]) => [v, { name, next, ret }]));

/** The command's name; a command whose result strace decodes (fcntl F_GETFL) records that on the call. */
function command(table: Map<number, Command>, c: Call, v: number, unknown: () => string): string {
  const cmd = table.get(v);
  if (cmd?.ret) c.ret = cmd.ret;
  return cmd ? cmd.name : unknown();
}

/** Formatter for the argument after a command argument (null: none shown), or undefined when i does not follow one. */
function follower(c: Call, i: number): Formatter | null | undefined {
  const table = i > 0 ? COMMANDS[c.formats[i - 1]] : undefined;
  if (!table) return undefined;
  const cmd = table.get(arg(c, i - 1) >>> 0);
  return cmd ? cmd.next : hexArg;
}

/** fcntl's "= 0x8002 (flags O_RDWR|O_LARGEFILE)": the value in hex and decoded. */
const decodedRet = (prefix: string, show: (r: number) => string, skipZero: boolean) =>
  (r: number) => (skipZero && r === 0 ? '0' : `${hex(r)} (${prefix}${show(r)})`);

const FCNTL = commands(
  [0, 'F_DUPFD', decimal], [1, 'F_GETFD', null, decodedRet('flags ', (r) => flags(FD_FLAGS, r, null), true)],
  [2, 'F_SETFD', flagsOf(FD_FLAGS, 'FD_???')], [3, 'F_GETFL', null, decodedRet('flags ', openFlags, false)],
  [4, 'F_SETFL', (_c, v) => openFlags(v)],
  [5, 'F_GETLK', (c, v) => () => struct.flock(c.t, v, true)],
  [6, 'F_SETLK', (c, v) => struct.flock(c.t, v, false)], [7, 'F_SETLKW', (c, v) => struct.flock(c.t, v, false)],
  [8, 'F_SETOWN', decimal], [9, 'F_GETOWN', null], [10, 'F_SETSIG', (_c, v) => signalName(int32(v))],
  [11, 'F_GETSIG', null], [15, 'F_SETOWN_EX', hexArg], [16, 'F_GETOWN_EX', hexArg], [17, 'F_GETOWNER_UIDS', hexArg],
  [36, 'F_OFD_GETLK', (c, v) => () => struct.flock(c.t, v, true)],
  [37, 'F_OFD_SETLK', (c, v) => struct.flock(c.t, v, false)], [38, 'F_OFD_SETLKW', (c, v) => struct.flock(c.t, v, false)],
  [1024, 'F_SETLEASE', xvalOf(LOCK_TYPES, 'F_???')], [1025, 'F_GETLEASE', null],
  [1026, 'F_NOTIFY', hexArg], [1029, 'F_CANCELLK', hexArg], [1030, 'F_DUPFD_CLOEXEC', decimal],
  [1031, 'F_SETPIPE_SZ', decimal], [1032, 'F_GETPIPE_SZ', null],
  [1033, 'F_ADD_SEALS', flagsOf(SEALS, 'F_SEAL_???')],
  [1034, 'F_GET_SEALS', null, decodedRet('seals ', (r) => flags(SEALS, r, null), true)],
);

const intIn: Formatter = (c, v) => struct.intRef(c.t, v);
const intOut = after((c, v) => struct.intRef(c.t, v));

const IOCTL = commands(
  [0x5401, 'TCGETS', after((c, v) => struct.termios(c.t, v))],
  [0x5402, 'TCSETS', (c, v) => struct.termios(c.t, v)], [0x5403, 'TCSETSW', (c, v) => struct.termios(c.t, v)],
  [0x5404, 'TCSETSF', (c, v) => struct.termios(c.t, v)], [0x5409, 'TCSBRK', decimal],
  [0x540c, 'TIOCEXCL', null], [0x540d, 'TIOCNXCL', null], [0x540e, 'TIOCSCTTY', decimal],
  [0x540f, 'TIOCGPGRP', intOut], [0x5410, 'TIOCSPGRP', intIn], [0x5411, 'TIOCOUTQ', intOut],
  [0x5413, 'TIOCGWINSZ', after((c, v) => struct.winsize(c.t, v))],
  [0x5414, 'TIOCSWINSZ', (c, v) => struct.winsize(c.t, v)],
  [0x541b, 'FIONREAD', intOut], [0x5421, 'FIONBIO', intIn], [0x5422, 'TIOCNOTTY', null],
  [0x5429, 'TIOCGSID', intOut], [0x80045430, 'TIOCGPTN', intOut], [0x40045431, 'TIOCSPTLCK', intIn],
  [0x5450, 'FIONCLEX', null], [0x5451, 'FIOCLEX', null], [0x5452, 'FIOASYNC', intIn],
);

/** An ioctl number strace has no name for, split into its _IOC fields. */
function ioctlCode(code: number): string {
  const dir = flags(IOC_DIRS, code >>> 30, '_IOC_???');
  return `_IOC(${dir}, ${hex((code >>> 8) & 0xff)}, ${hex(code & 0xff)}, ${hex((code >>> 16) & 0x3fff)})`;
}

const ARCH_PRCTL = commands(
  [0x1001, 'ARCH_SET_GS', hexArg], [0x1002, 'ARCH_SET_FS', hexArg],
  [0x1003, 'ARCH_GET_FS', after((c, v) => struct.ptrRef(c.t, v))],
  [0x1004, 'ARCH_GET_GS', after((c, v) => struct.ptrRef(c.t, v))],
  [0x1011, 'ARCH_GET_CPUID', null], [0x1012, 'ARCH_SET_CPUID', hexArg],
  [0x1021, 'ARCH_GET_XCOMP_SUPP', hexArg], [0x1022, 'ARCH_GET_XCOMP_PERM', hexArg],
  [0x1023, 'ARCH_REQ_XCOMP_PERM', hexArg], [0x2001, 'ARCH_MAP_VDSO_X32', hexArg],
  [0x2002, 'ARCH_MAP_VDSO_32', hexArg], [0x2003, 'ARCH_MAP_VDSO_64', hexArg],
);

const COMMANDS: Partial<Record<ArgFormat, Map<number, Command>>> = { fcntlcmd: FCNTL, ioctlcmd: IOCTL, archprctl: ARCH_PRCTL };

// ---- Per-syscall overrides: where strace decodes by call rather than by argument type ----

interface CallStyle {
  /** Replaces the formatter of the argument at that index. */
  args?: Readonly<Record<number, Formatter>>;
  ret?: (result: number) => string;
}

const outStruct = (show: (t: Thread, a: number) => string) => after((c, v) => show(c.t, v));
const inStruct = (show: (t: Thread, a: number) => string): Formatter => (c, v) => show(c.t, v);
const timeOut = outStruct(struct.timespec);
const utcStamp = (sec: number) => `${new Date(sec * 1000).toISOString().slice(0, 19)}+0000`;
/** A sleep's remaining-time pointer: strace shows it after the call, as a bare pointer. */
const remaining: Formatter = (_c, v) => () => addr(v);
/** mknod's device number, shown only for device nodes. */
const mknodDev = (modeIndex: number): Formatter => (c, v) => {
  const type = arg(c, modeIndex) & S_IFMT;
  return type === 0o20000 || type === 0o60000 ? makedev(u64(v)) : null;
};
/** pipe2/dup3 flags: open flags without an access mode. */
const fdFlags: Formatter = (_c, v) => flags(O_FLAGS, v >>> 0, 'O_???');
/** memfd_create flags: the MFD_HUGE_* size (bits 26-31) as strace shows it, N<<MFD_HUGE_SHIFT. */
const memfdFlags: Formatter = (_c, v) => {
  const value = Number(u64(v) & 0xffffffffn);
  const huge = (value >>> 26) & 0x3f;
  const rest = value & ~(0x3f << 26);
  const shown = rest || !huge ? [flags(MFD_FLAGS, rest, 'MFD_???')] : [];
  if (huge) shown.push(`${huge}<<MFD_HUGE_SHIFT`);
  return shown.join('|');
};

const CALLS: Readonly<Record<string, CallStyle>> = {
  rt_sigaction: { args: { 2: outStruct(struct.sigaction) } },
  rt_sigprocmask: { args: { 2: outStruct(struct.sigset) } },
  sigaltstack: { args: { 0: inStruct(struct.stack), 1: outStruct(struct.stack) } },
  clock_gettime: { args: { 1: timeOut } },
  clock_getres: { args: { 1: timeOut } },
  clock_nanosleep: { args: { 1: flagsOf(TIMER_FLAGS, 'TIMER_???'), 3: remaining } },
  nanosleep: { args: { 1: remaining } },
  gettimeofday: { args: { 0: outStruct(struct.timeval) } },
  time: { ret: (r) => `${r} (${utcStamp(r)})` },
  getrlimit: { args: { 1: outStruct(struct.rlimit) } },
  setrlimit: { args: { 1: inStruct(struct.rlimit) } },
  prlimit64: { args: { 2: inStruct(struct.rlimit), 3: outStruct(struct.rlimit) } },
  umask: { ret: (r) => octal(r) },
  mknod: { args: { 2: mknodDev(1) } },
  mknodat: { args: { 3: mknodDev(2) } },
  mmap: { args: { 5: hexArg } },
  madvise: { args: { 2: xvalOf(MADVICE, 'MADV_???') } },
  pipe: { args: { 0: outStruct(struct.fdPair) } },
  pipe2: { args: { 0: outStruct(struct.fdPair), 1: fdFlags } },
  dup3: { args: { 2: fdFlags } },
  memfd_create: { args: { 1: memfdFlags } },
  close_range: { args: { 2: flagsOf(CLOSE_RANGE_FLAGS, 'CLOSE_RANGE_???') } },
  wait4: {
    args: {
      1: (c, v) => (result) => (result > 0 && v ? struct.wstatus(c.t, v) : addr(v)),
      2: flagsOf(WAIT_OPTIONS, 'W???'),
    },
  },
  getrandom: { args: { 0: after((c, v, result) => buffer(c.t, v, result, true)), 2: flagsOf(GRND_FLAGS, 'GRND_???') } },
  uname: { args: { 0: outStruct(struct.utsname) } },
  getresuid: { args: { 0: intOut, 1: intOut, 2: intOut } },
  getresgid: { args: { 0: intOut, 1: intOut, 2: intOut } },
  getcwd: { args: { 0: after((c, v) => cstring(c.t, v, PATH_MAX - 1)) } },
  getdents64: { args: { 1: after((c, v, result) => struct.dirents(c.t, v, result)) } },
};

// ---- Results ----

/** Kernel-internal restart codes a signal can leave behind; strace names them. */
const RESTARTS = new Map<number, string>([
  [512, 'ERESTARTSYS (To be restarted if SA_RESTART is set)'],
  [513, 'ERESTARTNOINTR (To be restarted)'],
  [514, 'ERESTARTNOHAND (To be restarted if no handler)'],
  [516, 'ERESTART_RESTARTBLOCK (Interrupted by signal)'],
]);

const RET: Record<RetFormat, (r: number) => string> = {
  int: (r) => String(r),
  fd: (r) => String(r),
  hex: (r) => hex(r),
  none: () => '?',
};

function resultText(retFormat: RetFormat, decode: ((r: number) => string) | undefined, result: number): string {
  if (retFormat === 'none') return '?';
  if (failed(result)) {
    const errno = -result;
    const restart = RESTARTS.get(errno);
    if (restart) return `? ${restart}`;
    const name = ERRNO_NAME.get(errno);
    return name ? `-1 ${name} (${ERRNO_MESSAGE.get(errno)})` : `-1 (errno ${errno})`;
  }
  return (decode ?? RET[retFormat])(result);
}

// ---- The tracer ----

interface Pending {
  name: string;
  retFormat: RetFormat;
  ret?: (result: number) => string;
  /** Arguments in order; functions are out-params, formatted once the result is known. */
  shown: Shown[];
  blocked: boolean;
}

/** Unknown numbers show all six registers in hex, as strace shows a syscall it has no decoder for. */
const RAW_ARGS: readonly ArgFormat[] = ['hex', 'hex', 'hex', 'hex', 'hex', 'hex'];

export class Strace {
  private readonly pending = new Map<number, Pending>();

  constructor(private readonly write: (line: string) => void) {}

  /** Before the handler: captures everything that lives in guest memory only until the call runs. */
  enter(t: Thread, entry: SyscallEntry | undefined, nr: number, args: readonly number[]): void {
    const name = entry?.name ?? SYSCALL_NAMES[nr] ?? `syscall_${hex(nr)}`;
    const formats = entry?.args ?? RAW_ARGS;
    const style = entry && Object.hasOwn(CALLS, name) ? CALLS[name] : undefined;
    const call: Call = { t, name, args, formats };
    const shown = formats.map((f, i) => {
      const follow = follower(call, i);
      const format = style?.args?.[i] ?? (follow === undefined ? ARG[f] : follow);
      return format ? format(call, arg(call, i), i) : null;
    });
    this.pending.set(t.tid, {
      name, shown, blocked: false,
      retFormat: entry?.ret ?? 'int',
      ret: call.ret ?? style?.ret,
    });
  }

  /** After the handler: writes the call's line (or the "resumed" half of a blocked call). */
  exit(t: Thread, result: number): void {
    const p = this.pending.get(t.tid);
    if (!p) return;
    this.pending.delete(t.tid);
    const { before, later } = split(p.shown);
    const rest = later.map((s) => (typeof s === 'function' ? s(result) : s)).filter((s): s is string => s !== null);
    const head = p.blocked ? `<... ${p.name} resumed>${rest.join(', ')}` : `${p.name}(${[...before, ...rest].join(', ')}`;
    this.finish(t, head, resultText(p.retFormat, p.ret, result));
  }

  /** The call parked: strace's "<unfinished ...>" line, with the arguments known so far. */
  blocked(t: Thread): void {
    const p = this.pending.get(t.tid);
    if (!p || p.blocked) return;
    p.blocked = true;
    const { before, later } = split(p.shown);
    const sep = later.length && before.length ? ', ' : '';
    this.write(`${prefix(t)}${p.name}(${before.join(', ')}${sep} <unfinished ...>`);
  }

  /** The parked call is running again; its line is finished by exit(). */
  resumed(_t: Thread): void {}

  exited(t: Thread, status: number): void {
    this.abandon(t);
    this.write(`${prefix(t)}+++ exited with ${status} +++`);
  }

  killed(t: Thread, sig: number, coreDumped = false): void {
    this.abandon(t);
    this.write(`${prefix(t)}+++ killed by ${signalName(sig)}${coreDumped ? ' (core dumped)' : ''} +++`);
  }

  /** A signal delivered to the thread; fields is the siginfo after si_signo, e.g. "si_code=SI_USER, si_pid=1, si_uid=0". */
  signal(t: Thread, sig: number, fields = ''): void {
    const name = signalName(sig);
    this.write(`${prefix(t)}--- ${name} {si_signo=${name}${fields ? `, ${fields}` : ''}} ---`);
  }

  /**
   * A thread that dies inside a syscall never returns from it: strace ends that call with
   * "= ?", marking "<unfinished ...>" where out-params were still to be shown.
   */
  private abandon(t: Thread): void {
    const p = this.pending.get(t.tid);
    if (!p) return;
    this.pending.delete(t.tid);
    const { before, later } = split(p.shown);
    const cut = later.length ? ' <unfinished ...>' : '';
    if (p.blocked) {
      this.finish(t, `<... ${p.name} resumed>${cut}`, '?');
      return;
    }
    const sep = later.length && before.length ? ', ' : '';
    this.finish(t, `${p.name}(${before.join(', ')}${sep}${cut}`, '?');
  }

  private finish(t: Thread, head: string, result: string): void {
    const line = `${prefix(t)}${head}) `;
    this.write(`${line.padEnd(RESULT_COLUMN)}= ${result}`);
  }
}

/** strace -f's "[pid %5u] " leader. */
const prefix = (t: Thread) => `[pid ${String(t.tid).padStart(5)}] `;

/** Arguments shown on entry (up to the first out-param) and the ones completed on exit. */
function split(shown: readonly Shown[]): { before: string[]; later: Shown[] } {
  const k = shown.findIndex((s) => typeof s === 'function');
  const cut = k < 0 ? shown.length : k;
  return {
    before: shown.slice(0, cut).filter((s): s is string => typeof s === 'string'),
    later: shown.slice(cut),
  };
}
