// /proc: generated from the live kernel objects each time a file is opened.
import { Prot } from '../../cpu-worker/backend.js';
import { CHUNK_SIZE, PAGE_SIZE } from '../../shared-mem/layout.js';
import { UNAME } from '../sys-info.js';
import { monotonicMs } from '../sys-time.js';
import type { Process, Thread } from '../task.js';
import { bit, SIG_DFL, SIG_IGN } from '../signals.js';
import { decimalName, dynamicDir, file, link, staticDir, unionDir, writableFile, type SynthDir, type SynthNode } from './synthetic.js';

/** The processes /proc shows; the process table belongs to the lead's process code. */
export interface ProcessDirectory {
  get(pid: number): Process | undefined;
  pids(): number[];
}

export interface ProcContext {
  readonly cpus: number;
  processes(viewer: Thread): ProcessDirectory;
  mountsText(): string;
}

/** Baseline x86-64 features only, so guests pick their most portable code paths. */
const CPU_FLAGS = 'fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 syscall nx lm';
const PID_MAX = 4194304;
/** net.core.somaxconn: Linux's default since 5.4. */
const SOMAXCONN = 4096;

export function procRoot(ctx: ProcContext, t: Thread): SynthDir {
  const k = t.kernel;
  const dir = ctx.processes(t);
  const fixed = staticDir({
    self: () => link(() => String(t.process.pid)),
    'thread-self': () => link(() => `${t.process.pid}/task/${t.tid}`),
    cpuinfo: () => file(() => cpuinfo(ctx.cpus)),
    meminfo: () => file(() => meminfo(k.memBytes, k.pool.used * CHUNK_SIZE)),
    stat: () => file(() => procStat(ctx.cpus, k.bootTimeMs, dir.pids().length)),
    uptime: () => file(() => {
      const up = uptimeSeconds(k.bootTimeMs);
      return `${up.toFixed(2)} ${(up * ctx.cpus).toFixed(2)}\n`;
    }),
    loadavg: () => file(() => `0.00 0.00 0.00 1/${dir.pids().length} ${Math.max(0, ...dir.pids())}\n`),
    version: () => file(() => `Linux version ${UNAME.release} (starling@starling) (starling) ${UNAME.version}\n`),
    filesystems: () => file(() => 'nodev\tsysfs\nnodev\ttmpfs\nnodev\tproc\nnodev\tdevtmpfs\nnodev\tdevpts\n\text4\n'),
    mounts: () => link(() => 'self/mounts'),
    sys: () => staticDir({
      net: () => staticDir({
        core: () => staticDir({ somaxconn: () => file(() => `${SOMAXCONN}\n`, 0o644) }),
      }),
      vm: () => staticDir({ overcommit_memory: () => file(() => '0\n', 0o644) }),
      kernel: () => staticDir({
        pid_max: () => file(() => `${PID_MAX}\n`, 0o644),
        osrelease: () => file(() => `${UNAME.release}\n`),
        ostype: () => file(() => `${UNAME.sysname}\n`),
        hostname: () => file(() => `${UNAME.nodename}\n`, 0o644),
      }),
    }),
  });
  const pids = dynamicDir(
    () => dir.pids().map(String),
    (name) => {
      const pid = decimalName(name);
      const p = pid === null ? undefined : dir.get(pid);
      return p ? processDir(ctx, p) : undefined;
    },
  );
  return unionDir(fixed, pids);
}

function processDir(ctx: ProcContext, p: Process): SynthDir {
  return staticDir({
    exe: () => link(() => p.exePath),
    cwd: () => link(() => p.fs.cwd),
    root: () => link(() => '/'),
    maps: () => file(() => maps(p)),
    fd: () => fdDir(p),
    comm: () => commFile(mainThread(p)),
    cmdline: () => file(() => p.cmdline.map((a) => `${a}\0`).join('')),
    environ: () => file(() => p.environ.map((e) => `${e}\0`).join(''), 0o400),
    status: () => file(() => status(p, mainThread(p), ctx.cpus)),
    stat: () => file(() => stat(p, mainThread(p))),
    statm: () => file(() => `${vmPages(p)} 0 0 0 0 0 0\n`),
    mounts: () => file(() => ctx.mountsText()),
    task: () => dynamicDir(
      () => [...p.threads].map((th) => String(th.tid)),
      (name) => {
        const th = [...p.threads].find((x) => String(x.tid) === name);
        return th && staticDir({
          comm: () => commFile(th),
          stat: () => file(() => stat(p, th)),
          status: () => file(() => status(p, th, ctx.cpus)),
        });
      },
    ),
  });
}

function fdDir(p: Process): SynthDir {
  return dynamicDir(
    () => [...p.files].map(([fd]) => String(fd)),
    (name): SynthNode | undefined => {
      const fd = decimalName(name);
      return fd !== null && p.files.has(fd) ? { kind: 'fdlink', file: p.files.get(fd) } : undefined;
    },
  );
}

function mainThread(p: Process): Thread | undefined {
  let first: Thread | undefined;
  for (const th of p.threads) {
    if (th.tid === p.pid) return th;
    first ??= th;
  }
  return first;
}

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');

/** Linux's show_map_vma: the name starts at column 73; anonymous lines keep a trailing space. */
export function maps(p: Process): string {
  let out = '';
  for (const v of p.mm.regions) {
    const perms = `${v.prot & Prot.READ ? 'r' : '-'}${v.prot & Prot.WRITE ? 'w' : '-'}${v.prot & Prot.EXEC ? 'x' : '-'}${v.shared ? 's' : 'p'}`;
    const head = `${hex(v.start, 8)}-${hex(v.end, 8)} ${perms} ${hex(v.file ? v.fileOffset : 0, 8)} 00:00 0 `;
    const name = v.file ? v.file.guestPath : v.label;
    out += name ? `${head.padEnd(72)} ${name}\n` : `${head}\n`;
  }
  return out;
}

function vmPages(p: Process): number {
  let bytes = 0;
  for (const v of p.mm.regions) bytes += v.end - v.start;
  return bytes / PAGE_SIZE;
}

/** Linux's letters: R running or runnable, S parked in a syscall, T stopped by a signal, Z exited. */
function stateOf(p: Process, th: Thread | undefined): string {
  if (p.exitStatus !== null || !th || th.state === 'dead') return 'Z';
  if (p.stopped) return 'T';
  return th.state === 'blocked' ? 'S' : 'R';
}

const STATE_NAMES: Record<string, string> = { R: 'R (running)', S: 'S (sleeping)', T: 'T (stopped)', Z: 'Z (zombie)' };

/** The signals whose handler passes test, as a mask (status's SigIgn and SigCgt). */
function dispositions(p: Process, test: (handler: number) => boolean): bigint {
  let mask = 0n;
  for (const [sig, action] of p.sigactions) if (test(Number(action.handler))) mask |= bit(sig);
  return mask;
}

function status(p: Process, th: Thread | undefined, cpus: number): string {
  const state = stateOf(p, th);
  const sig = (n: bigint) => n.toString(16).padStart(16, '0');
  const affinity = th?.affinity ?? 2n ** BigInt(cpus) - 1n;
  const kb = (vmPages(p) * PAGE_SIZE) / 1024;
  return [
    `Name:\t${th?.name ?? ''}`,
    `Umask:\t${p.fs.umask.toString(8).padStart(4, '0')}`,
    `State:\t${STATE_NAMES[state]}`,
    `Tgid:\t${p.pid}`,
    'Ngid:\t0',
    `Pid:\t${th?.tid ?? p.pid}`,
    `PPid:\t${p.ppid}`,
    'TracerPid:\t0',
    'Uid:\t0\t0\t0\t0',
    'Gid:\t0\t0\t0\t0',
    'FDSize:\t64',
    'Groups:\t',
    `VmPeak:\t${String(kb).padStart(8)} kB`,
    `VmSize:\t${String(kb).padStart(8)} kB`,
    `VmRSS:\t${String(0).padStart(8)} kB`,
    `Threads:\t${p.threads.size}`,
    `SigQ:\t0/${PID_MAX}`,
    `SigPnd:\t${sig(th?.pendingSignals ?? 0n)}`,
    `ShdPnd:\t${sig(p.pendingSignals)}`,
    `SigBlk:\t${sig(th?.sigmask ?? 0n)}`,
    `SigIgn:\t${sig(dispositions(p, (h) => h === SIG_IGN))}`,
    `SigCgt:\t${sig(dispositions(p, (h) => h !== SIG_IGN && h !== SIG_DFL))}`,
    `Cpus_allowed:\t${affinity.toString(16).padStart(8, '0')}`,
    `Cpus_allowed_list:\t${cpuList(affinity, cpus)}`,
    'voluntary_ctxt_switches:\t0',
    'nonvoluntary_ctxt_switches:\t0',
    '',
  ].join('\n');
}

/** Linux's list format of a CPU mask: 0-2,5. */
function cpuList(mask: bigint, cpus: number): string {
  const ranges: string[] = [];
  for (let c = 0; c < cpus; c++) {
    if (!((mask >> BigInt(c)) & 1n)) continue;
    let last = c;
    while (last + 1 < cpus && (mask >> BigInt(last + 1)) & 1n) last++;
    ranges.push(last > c ? `${c}-${last}` : `${c}`);
    c = last;
  }
  return ranges.join(',');
}

/** stat's priority field: -1 - rt_priority for real-time threads, 20 + nice for the others. */
function priorityOf(th: Thread | undefined): number {
  if (!th) return 20;
  return th.rtPriority > 0 ? -1 - th.rtPriority : 20 + th.nice;
}

/** /proc/PID/stat in Linux's field order (man 5 proc); field 39 is the vCPU the thread last ran on. */
function stat(p: Process, th: Thread | undefined): string {
  let vsize = 0, startCode = 0, endCode = 0, startStack = 0;
  for (const v of p.mm.regions) {
    vsize += v.end - v.start;
    if (v.file && v.prot & Prot.EXEC && !startCode) [startCode, endCode] = [v.start, v.end];
    if (v.label === '[stack]') startStack = v.end - 8;
  }
  const comm = (th?.name ?? '').replace(/\n/g, '?');
  const fields: Array<number | string> = [
    th?.tid ?? p.pid, `(${comm})`, stateOf(p, th), p.ppid, p.pgid, p.sid,
    0, -1, 4194560, 0, 0, 0, 0, // tty_nr tpgid flags minflt cminflt majflt cmajflt
    0, 0, 0, 0, priorityOf(th), th?.nice ?? 0, p.threads.size, 0, 0, // utime stime cutime cstime priority nice num_threads itrealvalue starttime
    vsize, 0, '18446744073709551615', startCode, endCode, startStack, 0, 0, // vsize rss rsslim startcode endcode startstack kstkesp kstkeip
    0, 0, 0, 0, 0, 0, 0, 17, th?.cpu ?? 0, th?.rtPriority ?? 0, th?.policy ?? 0, 0, 0, 0, // signal blocked sigignore sigcatch wchan nswap cnswap exit_signal processor rt_priority policy delayacct guest_time cguest_time
    0, 0, p.mm.brkStart, 0, 0, 0, 0, p.exitStatus ?? 0, // start_data end_data start_brk arg_start arg_end env_start env_end exit_code
  ];
  return `${fields.join(' ')}\n`;
}

function cpuinfo(cpus: number): string {
  let out = '';
  for (let i = 0; i < cpus; i++) {
    out += [
      `processor\t: ${i}`, 'vendor_id\t: GenuineIntel', 'cpu family\t: 6', 'model\t\t: 0',
      'model name\t: Starling virtual CPU', 'stepping\t: 0', 'cpu MHz\t\t: 2000.000', 'cache size\t: 4096 KB',
      'physical id\t: 0', `siblings\t: ${cpus}`, `core id\t\t: ${i}`, `cpu cores\t: ${cpus}`, `apicid\t\t: ${i}`,
      `initial apicid\t: ${i}`, 'fpu\t\t: yes', 'fpu_exception\t: yes', 'cpuid level\t: 13', 'wp\t\t: yes',
      `flags\t\t: ${CPU_FLAGS}`, 'bogomips\t: 4000.00', 'clflush size\t: 64', 'cache_alignment\t: 64',
      'address sizes\t: 48 bits physical, 48 bits virtual', 'power management:', '', '',
    ].join('\n');
  }
  return out;
}

function meminfo(total: number, used: number): string {
  const line = (label: string, bytes: number) => `${`${label}:`.padEnd(16)}${String(Math.floor(bytes / 1024)).padStart(8)} kB\n`;
  const free = Math.max(0, total - used);
  return line('MemTotal', total) + line('MemFree', free) + line('MemAvailable', free) + line('Buffers', 0) +
    line('Cached', 0) + line('SwapCached', 0) + line('Active', used) + line('Inactive', 0) + line('SwapTotal', 0) +
    line('SwapFree', 0) + line('Dirty', 0) + line('Shmem', 0) + line('CommitLimit', total) + line('Committed_AS', used);
}

function uptimeSeconds(bootTimeMs: number): number {
  return Math.max(0, (monotonicMs() - bootTimeMs) / 1000);
}

function procStat(cpus: number, bootTimeMs: number, processes: number): string {
  const zeros = ' 0 0 0 0 0 0 0 0 0 0';
  let out = `cpu ${zeros}\n`;
  for (let i = 0; i < cpus; i++) out += `cpu${i}${zeros}\n`;
  const btime = Math.floor((Date.now() - uptimeSeconds(bootTimeMs) * 1000) / 1000);
  return `${out}intr 0\nctxt 0\nbtime ${btime}\nprocesses ${processes}\nprocs_running 1\nprocs_blocked 0\n`;
}

/** /proc/PID/comm and /proc/PID/task/TID/comm: reading gives the name, writing sets it (15 bytes at most, as PR_SET_NAME). */
function commFile(th: Thread | undefined) {
  return writableFile(() => `${th?.name ?? ''}\n`, (bytes) => {
    if (!th) return;
    const nul = bytes.indexOf(0);
    th.name = Buffer.from(bytes.subarray(0, Math.min(nul < 0 ? bytes.length : nul, 15))).toString('latin1');
  });
}
