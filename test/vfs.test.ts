// The VFS on its own: path resolution stays inside the guest root and the binds whatever
// symlinks are in the way, errors are Linux's, and the synthetic filesystems answer.
import t from 'tap';
import { chmodSync, closeSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { E, Errno } from '../src/kernel/errno.js';
import { FdTable, O, type OpenFile } from '../src/kernel/files.js';
import type { AddressSpace } from '../src/kernel/mm/address-space.js';
import { monotonicMs } from '../src/kernel/sys-time.js';
import { Process, Thread, type Kernel } from '../src/kernel/task.js';
import { AT } from '../src/kernel/vfs/host.js';
import { Vfs } from '../src/kernel/vfs/vfs.js';

// ---- a small world: a guest root, a bind, a read-only bind, and a secret outside all of them ----

const base = mkdtempSync(join(tmpdir(), 'starling-vfs-'));
t.teardown(() => rmSync(base, { recursive: true, force: true }));
const SECRET = `secret-${process.pid}-must-not-leak`;
writeFileSync(join(base, 'secret.txt'), SECRET);

const root = join(base, 'root');
mkdirSync(join(root, 'etc'), { recursive: true });
mkdirSync(join(root, 'd', 'e'), { recursive: true });
mkdirSync(join(root, 'usr', 'bin'), { recursive: true });
writeFileSync(join(root, 'etc', 'hello.txt'), 'hello\n');
writeFileSync(join(root, 'd', 'e', 'f.txt'), 'deep\n');
writeFileSync(join(root, 'usr', 'bin', 'tool'), '#!/bin/sh\n');
chmodSync(join(root, 'usr', 'bin', 'tool'), 0o755);
writeFileSync(join(root, 'usr', 'bin', 'noexec'), 'data');
symlinkSync('../../../..', join(root, 'escape'));
symlinkSync('/etc', join(root, 'abs'));
symlinkSync(join(base, 'secret.txt'), join(root, 'abs-secret'));
symlinkSync('../secret.txt', join(root, 'dotdot-secret'));
symlinkSync('chain2', join(root, 'chain1'));
symlinkSync('escape', join(root, 'chain2'));
symlinkSync('loop2', join(root, 'loop1'));
symlinkSync('loop1', join(root, 'loop2'));
symlinkSync('../../..', join(root, 'd', 'up'));
symlinkSync('usr/bin', join(root, 'bin'));
symlinkSync('missing-target', join(root, 'dangling'));

const bound = join(base, 'bound');
mkdirSync(join(bound, 'sub'), { recursive: true });
writeFileSync(join(bound, 'ok.txt'), 'inside the bind\n');
symlinkSync('../../..', join(bound, 'up'));
symlinkSync(base, join(bound, 'abs-host'));
symlinkSync('/', join(bound, 'abs-root'));

const robound = join(base, 'ro');
mkdirSync(robound);
writeFileSync(join(robound, 'file.txt'), 'read only\n');

const CPUS = 3;
const vfs = new Vfs(root, [
  { host: bound, guest: '/mnt/b', readOnly: false },
  { host: robound, guest: '/ro/', readOnly: true },
], { cpus: CPUS, consolePath: null });

const kernel = {
  cpus: CPUS, pool: { used: 0 }, poolAddress: 0, memBytes: 1 << 30, vfs, strace: null,
  bootTimeMs: monotonicMs(), warnOnce: () => {}, allocateId: () => 0,
} as unknown as Kernel;
const mm = { regions: [], brkStart: 0 } as unknown as AddressSpace;
const files = new FdTable();
const proc = new Process(kernel, 42, 1, mm, files, { cwd: '/', umask: 0o022 });
proc.exePath = '/usr/bin/tool';
proc.cmdline = ['tool', '--flag'];
proc.environ = ['PATH=/bin', 'HOME=/root'];
const thread = new Thread(42, proc, 'tool');
thread.cpu = 1;
proc.threads.add(thread);

// ---- helpers ----

function errnoOf(fn: () => unknown): number {
  try {
    fn();
  } catch (e) {
    if (e instanceof Errno) return e.errno;
    throw e;
  }
  return 0;
}

function contents(file: OpenFile): string {
  const buf = Buffer.alloc(65536);
  const n = readSync(file.hostFd, buf, 0, buf.length, 0);
  return buf.subarray(0, n).toString('latin1');
}

/** Opens path read-only and returns what it reads, or the errno name. */
function readPath(path: string, dirfd: number = AT.FDCWD): string {
  let file: OpenFile | undefined;
  try {
    file = vfs.open(thread, dirfd, path, O.RDONLY, 0);
    return contents(file);
  } catch (e) {
    if (e instanceof Errno) return e.message;
    throw e;
  } finally {
    file?.unref();
  }
}

const canonical = (path: string, follow = true, dirfd: number = AT.FDCWD) => vfs.lookup(thread, dirfd, path, { follow }, (r) => r.path);
const hostFds = () => readdirSync('/proc/self/fd').length;

// ---- the jail ----

t.test('hostile paths never reach the secret outside the root', (tt) => {
  const rel = join(base, 'secret.txt').slice(1);
  const attempts = [
    `/${rel}`, `/../../../../${rel}`, `/escape/${rel}`, '/escape/../secret.txt', '/abs-secret', '/dotdot-secret',
    `/chain1/${rel}`, `/d/up/${rel}`, `/d/up/../../secret.txt`, `/mnt/b/up/${rel}`, '/mnt/b/../../secret.txt',
    '/mnt/b/abs-host/secret.txt', `/mnt/b/abs-root/${rel}`, `/mnt/b/../../../${rel}`, `/proc/self/root/${rel}`,
    `/proc/self/cwd/../../${rel}`, `/dev/fd/../../../${rel}`,
  ];
  for (const path of attempts) {
    const got = readPath(path);
    tt.not(got, SECRET, `${path} does not leak`);
    tt.equal(got, 'ENOENT', `${path} is ENOENT inside the guest`);
  }
  tt.end();
});

t.test('hostile symlinks resolve in guest terms', (tt) => {
  tt.equal(readPath('/escape/etc/hello.txt'), 'hello\n', 'a relative link far up stops at /');
  tt.equal(readPath('/abs/hello.txt'), 'hello\n', 'an absolute link is relative to the guest root');
  tt.equal(readPath('/chain1/etc/hello.txt'), 'hello\n', 'a chain of links');
  tt.equal(readPath('/d/up/etc/hello.txt'), 'hello\n', 'a relative link from a subdirectory');
  tt.equal(readPath('/mnt/b/up/etc/hello.txt'), 'hello\n', 'a link inside a bind pointing up leaves the bind in guest terms');
  tt.equal(readPath('/mnt/b/abs-root/etc/hello.txt'), 'hello\n', 'an absolute link inside a bind');
  tt.equal(readPath('/mnt/b/ok.txt'), 'inside the bind\n', 'the bind itself');
  tt.equal(readPath('/mnt/b/sub/../ok.txt'), 'inside the bind\n');
  tt.equal(canonical('/escape'), '/');
  tt.equal(canonical('/chain1'), '/');
  tt.equal(canonical('/mnt/b/up'), '/');
  tt.equal(canonical('/mnt/b/..'), '/mnt');
  tt.equal(canonical('/mnt/b/sub/..'), '/mnt/b');
  tt.equal(canonical('/abs'), '/etc');
  tt.equal(canonical('/abs', false), '/abs', 'no follow: the link itself');
  tt.equal(canonical('/ro'), '/ro', 'a bind target is made canonical');
  tt.end();
});

t.test('Linux errors', (tt) => {
  tt.equal(readPath('/loop1'), 'ELOOP');
  tt.equal(readPath('/etc/hello.txt/x'), 'ENOTDIR');
  tt.equal(readPath('/etc/hello.txt/'), 'ENOTDIR', 'a trailing slash needs a directory');
  tt.equal(readPath('/etc/missing'), 'ENOENT');
  tt.equal(readPath('/missing/x'), 'ENOENT');
  tt.equal(readPath('/dangling'), 'ENOENT');
  tt.equal(readPath(`/etc/${'n'.repeat(256)}`), 'ENAMETOOLONG');
  tt.equal(readPath('/' + 'a/'.repeat(2048)), 'ENAMETOOLONG');
  tt.equal(readPath(''), 'ENOENT');
  tt.equal(errnoOf(() => vfs.open(thread, AT.FDCWD, '/abs', O.RDONLY | O.NOFOLLOW, 0)), E.ELOOP, 'O_NOFOLLOW on a link');
  tt.equal(errnoOf(() => vfs.open(thread, 12345, 'x', O.RDONLY, 0)), E.EBADF);
  let chain = '';
  for (let i = 0; i < 41; i++) {
    symlinkSync(i === 0 ? 'etc' : `l${i - 1}`, join(root, `l${i}`));
    chain = `l${i}`;
  }
  tt.equal(readPath('/l39/hello.txt'), 'hello\n', '40 links are followed');
  tt.equal(readPath(`/${chain}/hello.txt`), 'ELOOP', 'the 41st is ELOOP');
  tt.end();
});

t.test('relative paths: the working directory and directory fds', (tt) => {
  proc.fs.cwd = '/mnt/b/sub';
  tt.equal(readPath('../ok.txt'), 'inside the bind\n');
  tt.equal(readPath('../../../etc/hello.txt'), 'hello\n', '.. leaves the bind for its parent mount');
  tt.equal(readPath('../../../../../../etc/hello.txt'), 'hello\n', '.. stops at /');
  tt.equal(canonical('.'), '/mnt/b/sub');
  proc.fs.cwd = '/';

  const dir = vfs.open(thread, AT.FDCWD, '/mnt/b/sub', O.RDONLY | O.DIRECTORY, 0);
  const fd = files.install(dir, false);
  tt.equal(readPath('../ok.txt', fd), 'inside the bind\n', 'from a dirfd, .. goes up in guest terms');
  tt.equal(canonical('../../..', true, fd), '/', 'from a dirfd, .. cannot climb above /');
  tt.equal(canonical('..', true, fd), '/mnt/b');
  tt.equal(readPath(`/proc/self/fd/${fd}/../ok.txt`), 'inside the bind\n', 'walking through /proc/self/fd/N of a directory');
  const file = vfs.open(thread, AT.FDCWD, '/etc/hello.txt', O.RDONLY, 0);
  const ffd = files.install(file, false);
  tt.equal(readPath('x', ffd), 'ENOTDIR', 'a file as dirfd');
  files.close(ffd);
  files.close(fd);
  tt.end();
});

t.test('mount points need not exist in the rootfs', (tt) => {
  const mnt = vfs.open(thread, AT.FDCWD, '/mnt', O.RDONLY | O.DIRECTORY, 0);
  tt.same(mnt.syntheticDir?.map((e) => e.name), ['.', '..', 'b'], '/mnt is a stub listing the way to /mnt/b');
  mnt.unref();
  tt.equal(errnoOf(() => vfs.open(thread, AT.FDCWD, '/mnt/other', O.RDONLY, 0)), E.ENOENT);
  tt.equal(canonical('/mnt/b/../../mnt/./b'), '/mnt/b');
  tt.end();
});

t.test('read-only binds', (tt) => {
  tt.equal(readPath('/ro/file.txt'), 'read only\n');
  const open = (path: string, flags: number) => errnoOf(() => vfs.open(thread, AT.FDCWD, path, flags, 0o644).unref());
  tt.equal(open('/ro/file.txt', O.WRONLY), E.EROFS);
  tt.equal(open('/ro/file.txt', O.RDONLY | O.TRUNC), E.EROFS);
  tt.equal(open('/ro/new.txt', O.WRONLY | O.CREAT), E.EROFS);
  tt.equal(open('/ro/new.txt', O.RDONLY | O.CREAT), E.EROFS);
  tt.equal(open('/ro/file.txt', O.RDONLY | O.CREAT), 0, 'O_CREAT of an existing file without writing is allowed');
  tt.equal(open('/ro/file.txt', O.WRONLY | O.CREAT | O.EXCL), E.EEXIST);
  tt.equal(open('/ro/missing.txt', O.RDONLY), E.ENOENT);
  tt.ok(vfs.isReadOnly('/ro/file.txt'));
  tt.notOk(vfs.isReadOnly('/mnt/b/ok.txt'));
  tt.end();
});

t.test('creating files applies the guest umask exactly', (tt) => {
  proc.fs.umask = 0o027;
  const f = vfs.open(thread, AT.FDCWD, '/mnt/b/created.txt', O.WRONLY | O.CREAT | O.EXCL, 0o777);
  f.unref();
  tt.equal(statMode(join(bound, 'created.txt')), 0o750);
  proc.fs.umask = 0;
  const g = vfs.open(thread, AT.FDCWD, '/mnt/b/open-created.txt', O.WRONLY | O.CREAT, 0o666);
  g.unref();
  tt.equal(statMode(join(bound, 'open-created.txt')), 0o666, 'the host umask is not applied on top');
  chmodSync(join(bound, 'open-created.txt'), 0o600);
  vfs.open(thread, AT.FDCWD, '/mnt/b/open-created.txt', O.WRONLY | O.CREAT, 0o666).unref();
  tt.equal(statMode(join(bound, 'open-created.txt')), 0o600, 'an existing file keeps its mode');
  proc.fs.umask = 0o022;
  tt.end();
});

function statMode(path: string): number {
  return lstatSync(path).mode & 0o7777;
}

// ---- synthetic filesystems ----

t.test('/proc', (tt) => {
  tt.equal(vfs.lookup(thread, AT.FDCWD, '/proc/self', { follow: false }, (r) => vfs.readlink(r)), '42');
  tt.equal(canonical('/proc/self'), '/proc/42');
  tt.equal(canonical('/proc/thread-self'), '/proc/42/task/42');
  tt.equal(vfs.lookup(thread, AT.FDCWD, '/proc/self/exe', { follow: false }, (r) => vfs.readlink(r)), '/usr/bin/tool');
  tt.equal(readPath('/proc/self/exe'), '#!/bin/sh\n', 'opening exe opens the executable');
  tt.equal(readPath('/proc/self/cmdline'), 'tool\0--flag\0');
  tt.equal(readPath('/proc/self/environ'), 'PATH=/bin\0HOME=/root\0');
  tt.equal(readPath('/proc/sys/net/core/somaxconn'), '4096\n');
  tt.equal(readPath('/proc/self/comm'), 'tool\n');
  tt.equal(readPath('/proc/thread-self/comm'), 'tool\n');
  tt.match(readPath('/proc/self/status'), /^Name:\ttool\n[^]*\nPid:\t42\nPPid:\t1\n[^]*\nThreads:\t1\n/);
  const stat = readPath('/proc/self/stat').trim().split(' ');
  tt.equal(stat.length, 52, '52 fields');
  tt.same([stat[0], stat[1], stat[3]], ['42', '(tool)', '1']);
  tt.equal(stat[38], '1', 'field 39 is the vCPU the thread runs on');
  tt.equal(readPath('/proc/sys/vm/overcommit_memory'), '0\n');
  tt.equal(readPath('/proc/sys/kernel/pid_max'), '4194304\n');
  tt.equal(readPath('/proc/99/stat'), 'ENOENT', 'other pids are not invented');
  const cpuinfo = readPath('/proc/cpuinfo');
  tt.equal(cpuinfo.match(/^processor\t: \d+$/gm)?.length, CPUS);
  tt.match(cpuinfo, /model name\t: Starling virtual CPU/);
  tt.notMatch(cpuinfo, /\bavx\b|\bsse4/, 'only baseline flags');
  tt.match(readPath('/proc/meminfo'), /^MemTotal:\s+1048576 kB$/m);
  tt.match(readPath('/proc/mounts'), /^proc \/proc proc /m);
  tt.match(readPath('/proc/mounts'), /^hostfs \/ro bind ro,/m);
  tt.match(readPath('/proc/uptime'), /^\d+\.\d\d \d+\.\d\d\n$/);
  tt.equal(errnoOf(() => vfs.open(thread, AT.FDCWD, '/proc/cpuinfo', O.WRONLY, 0)), E.EACCES);
  tt.equal(errnoOf(() => vfs.open(thread, AT.FDCWD, '/proc/new', O.WRONLY | O.CREAT, 0o644)), E.ENOENT, 'procfs has no such name to create');

  const file = vfs.open(thread, AT.FDCWD, '/mnt/b/ok.txt', O.RDONLY, 0);
  const fd = files.install(file, false);
  tt.equal(vfs.lookup(thread, AT.FDCWD, `/proc/self/fd/${fd}`, { follow: false }, (r) => vfs.readlink(r)), '/mnt/b/ok.txt');
  const again = vfs.open(thread, AT.FDCWD, `/proc/self/fd/${fd}`, O.RDONLY, 0);
  tt.not(again.hostFd, file.hostFd, 'a new open file description');
  tt.equal(contents(again), 'inside the bind\n');
  again.unref();
  tt.equal(errnoOf(() => vfs.open(thread, AT.FDCWD, `/proc/self/fd/${fd}`, O.WRONLY, 0).unref()), 0);
  const dir = vfs.open(thread, AT.FDCWD, '/proc/self/fd', O.RDONLY | O.DIRECTORY, 0);
  tt.ok(dir.syntheticDir?.some((e) => e.name === String(fd)), 'fd/ lists open descriptors');
  dir.unref();
  files.close(fd);
  tt.end();
});

t.test('/proc/PID/maps', (tt) => {
  const saved = proc.mm;
  proc.mm = {
    regions: [
      { start: 0x400000, end: 0x401000, prot: 5, shared: false, file: { guestPath: '/usr/bin/tool' }, fileOffset: 0x1000, label: '' },
      { start: 0x7ffff000, end: 0x80000000, prot: 3, shared: true, file: null, fileOffset: 0, label: '' },
      { start: 0x7ffffffde000, end: 0x7ffffffff000, prot: 3, shared: false, file: null, fileOffset: 0, label: '[stack]' },
    ],
    brkStart: 0,
  } as unknown as AddressSpace;
  const lines = readPath('/proc/self/maps').split('\n');
  proc.mm = saved;
  tt.equal(lines[0], `00400000-00401000 r-xp 00001000 00:00 0${' '.repeat(34)}/usr/bin/tool`);
  tt.equal(lines[0].indexOf('/usr'), 73, 'the name starts at column 73, as Linux pads it');
  tt.equal(lines[1], '7ffff000-80000000 rw-s 00000000 00:00 0 ', 'anonymous lines keep the trailing space');
  tt.match(lines[2], /^7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0 +\[stack\]$/);
  tt.end();
});

t.test('/sys and /dev', (tt) => {
  tt.equal(readPath('/sys/devices/system/cpu/online'), '0-2\n');
  tt.equal(readPath('/sys/devices/system/cpu/possible'), '0-2\n');
  tt.equal(readPath('/sys/devices/system/cpu/present'), '0-2\n');
  const cpu = vfs.open(thread, AT.FDCWD, '/sys/devices/system/cpu', O.RDONLY | O.DIRECTORY, 0);
  tt.same(cpu.syntheticDir?.map((e) => e.name).filter((n) => /^cpu\d/.test(n)), ['cpu0', 'cpu1', 'cpu2']);
  cpu.unref();
  tt.equal(readPath('/dev/null'), '');
  tt.equal(readPath('/dev/zero').length, 65536);
  tt.equal(vfs.lookup(thread, AT.FDCWD, '/dev/stdin', { follow: false }, (r) => vfs.readlink(r)), '/proc/self/fd/0');
  tt.equal(canonical('/dev/fd'), '/proc/42/fd');
  tt.equal(readPath('/dev/sda'), 'ENOENT', 'only whitelisted devices');
  const devs = vfs.open(thread, AT.FDCWD, '/dev', O.RDONLY | O.DIRECTORY, 0);
  tt.same(devs.syntheticDir?.map((e) => e.name).sort(), ['.', '..', 'fd', 'full', 'null', 'pts', 'random', 'shm', 'stderr', 'stdin', 'stdout', 'tty', 'urandom', 'zero']);
  devs.unref();
  tt.end();
});

// ---- for exec ----

t.test('openExecutable and lookupInPath', (tt) => {
  const exe = vfs.openExecutable(thread, '/bin/tool');
  tt.equal(exe.guestPath, '/usr/bin/tool', 'the canonical path through the /bin link');
  const buf = Buffer.alloc(64);
  tt.equal(buf.subarray(0, readSync(exe.hostFd, buf, 0, 64, 0)).toString(), '#!/bin/sh\n');
  readSync(exe.hostFd, buf, 0, 1, 0);
  closeSync(exe.hostFd);
  tt.equal(errnoOf(() => vfs.openExecutable(thread, '/usr/bin/noexec')), E.EACCES, 'no execute bit');
  tt.equal(errnoOf(() => vfs.openExecutable(thread, '/usr/bin')), E.EACCES, 'a directory');
  tt.equal(errnoOf(() => vfs.openExecutable(thread, '/proc/cpuinfo')), E.EACCES, 'a synthetic file');
  tt.equal(errnoOf(() => vfs.openExecutable(thread, '/usr/bin/none')), E.ENOENT);
  tt.equal(errnoOf(() => vfs.openExecutable(thread, '/escape/usr/bin/tool')), 0, 'through a hostile link, still inside');
  tt.equal(vfs.lookupInPath(thread, 'tool', '/nope:/usr/bin:/bin'), '/usr/bin/tool');
  tt.equal(vfs.lookupInPath(thread, 'noexec', '/usr/bin'), null, 'skips files without an execute bit');
  tt.equal(vfs.lookupInPath(thread, 'tool', '/escape/bin'), '/escape/bin/tool');
  tt.equal(vfs.lookupInPath(thread, './x', '/usr/bin'), './x', 'a name with a slash is not searched');
  tt.end();
});

t.test('lookups do not leak host fds', (tt) => {
  const before = hostFds();
  for (let i = 0; i < 50; i++) {
    readPath('/escape/d/up/mnt/b/up/etc/hello.txt');
    readPath('/loop1');
    readPath('/proc/self/status');
    canonical('/mnt/b/sub/../../b/sub/..');
    errnoOf(() => vfs.openExecutable(thread, '/usr/bin/noexec'));
  }
  tt.equal(hostFds(), before);
  tt.end();
});
