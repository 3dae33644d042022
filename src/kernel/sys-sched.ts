// Scheduling syscalls: policies and priorities (sched/run-queue.ts orders threads by them),
// nice values, yielding, affinity masks (the scheduler places threads within them), rseq and
// getcpu.
import { E, Errno } from './errno.js';
import { Policy } from './sched/run-queue.js';
import { Reg, type CpuBackend } from '../cpu-worker/backend.js';
import { int, sys, type SyscallEntry, type SyscallHandler } from './syscall.js';
import type { Thread } from './task.js';

/** The thread a pid argument names: 0 is the caller, otherwise a thread of the caller's process. */
function targetThread(t: Thread, pid: number): Thread {
  if (pid < 0) throw new Errno(E.EINVAL);
  if (pid === 0) return t;
  for (const other of t.process.threads) if (other.tid === pid) return other;
  throw new Errno(E.ESRCH);
}

const SCHED_RESET_ON_FORK = 0x40000000;
const REAL_TIME = new Set<number>([Policy.FIFO, Policy.RR]);
const POLICIES = new Set<number>([Policy.OTHER, Policy.FIFO, Policy.RR, Policy.BATCH, Policy.IDLE]);
/** Linux's SCHED_RR time slice (sched_rr_timeslice_ms) and the tick that slices normal threads. */
const RR_INTERVAL_NS = 100_000_000, TICK_NS = 4_000_000;

const priorityMax: SyscallHandler = (_t, [policy]) => {
  if (!POLICIES.has(int(policy))) throw new Errno(E.EINVAL);
  return REAL_TIME.has(int(policy)) ? 99 : 0;
};

const priorityMin: SyscallHandler = (_t, [policy]) => {
  if (!POLICIES.has(int(policy))) throw new Errno(E.EINVAL);
  return REAL_TIME.has(int(policy)) ? 1 : 0;
};

/** Sets policy and priority after Linux's checks; the scheduler re-sorts the thread. */
function setScheduling(t: Thread, target: Thread, policy: number, priority: number): void {
  if (!POLICIES.has(policy)) throw new Errno(E.EINVAL);
  if (REAL_TIME.has(policy) ? priority < 1 || priority > 99 : priority !== 0) throw new Errno(E.EINVAL);
  target.policy = policy;
  target.rtPriority = priority;
  t.kernel.scheduler.reprioritize(target);
}

const schedSetscheduler: SyscallHandler = (t, [pid, policyArg, paramP]) => {
  if (!paramP) throw new Errno(E.EINVAL);
  const target = targetThread(t, int(pid));
  setScheduling(t, target, int(policyArg) & ~SCHED_RESET_ON_FORK, t.mm.readU32(paramP) | 0);
  return 0;
};

const schedGetscheduler: SyscallHandler = (t, [pid]) => targetThread(t, int(pid)).policy;

const schedSetparam: SyscallHandler = (t, [pid, paramP]) => {
  if (!paramP) throw new Errno(E.EINVAL);
  const target = targetThread(t, int(pid));
  setScheduling(t, target, target.policy, t.mm.readU32(paramP) | 0);
  return 0;
};

const schedGetparam: SyscallHandler = (t, [pid, paramP]) => {
  if (!paramP) throw new Errno(E.EINVAL);
  t.mm.writeU32(paramP, targetThread(t, int(pid)).rtPriority);
  return 0;
};

/** struct sched_attr (SCHED_ATTR_SIZE_VER0 = 48 bytes): size, policy, flags, nice, priority, deadline fields. */
const SCHED_ATTR_SIZE = 48;

const schedSetattr: SyscallHandler = (t, [pid, attrP, flags]) => {
  if (!attrP || int(flags) !== 0) throw new Errno(E.EINVAL);
  const size = t.mm.readU32(attrP) || SCHED_ATTR_SIZE;
  if (size < SCHED_ATTR_SIZE || size > 4096) {
    t.mm.writeU32(attrP, SCHED_ATTR_SIZE);
    throw new Errno(E.E2BIG);
  }
  const a = new DataView(t.mm.read(attrP, SCHED_ATTR_SIZE).buffer);
  const target = targetThread(t, int(pid));
  const policy = a.getUint32(4, true), nice = a.getInt32(16, true);
  setScheduling(t, target, policy, a.getUint32(20, true));
  if (!REAL_TIME.has(policy)) target.nice = Math.max(-20, Math.min(19, nice));
  return 0;
};

const schedGetattr: SyscallHandler = (t, [pid, attrP, size, flags]) => {
  if (!attrP || int(flags) !== 0 || size < SCHED_ATTR_SIZE || size > 4096) throw new Errno(E.EINVAL);
  const target = targetThread(t, int(pid));
  const a = new DataView(new ArrayBuffer(SCHED_ATTR_SIZE));
  a.setUint32(0, SCHED_ATTR_SIZE, true);
  a.setUint32(4, target.policy, true);
  a.setInt32(16, target.nice, true);
  a.setUint32(20, target.rtPriority, true);
  t.mm.write(attrP, new Uint8Array(a.buffer));
  return 0;
};

const schedRrGetInterval: SyscallHandler = (t, [pid, tsP]) => {
  const target = targetThread(t, int(pid));
  const ns = target.policy === Policy.FIFO ? 0 : target.policy === Policy.RR ? RR_INTERVAL_NS : TICK_NS;
  const ts = new DataView(new ArrayBuffer(16));
  ts.setBigInt64(0, BigInt(Math.floor(ns / 1e9)), true);
  ts.setBigInt64(8, BigInt(ns % 1e9), true);
  t.mm.write(tsP, new Uint8Array(ts.buffer));
  return 0;
};

const schedYield: SyscallHandler = (t) => {
  t.kernel.scheduler.requestReschedule();
  return 0;
};

const PRIO_PROCESS = 0, PRIO_PGRP = 1, PRIO_USER = 2;

/** The threads getpriority/setpriority address: PRIO_PROCESS names one thread (Linux's behaviour), the others our process. */
function priorityTargets(t: Thread, which: number, who: number): Thread[] {
  if (which === PRIO_PROCESS) return [targetThread(t, who)];
  if (which === PRIO_PGRP && (who === 0 || who === t.process.pgid)) return [...t.process.threads];
  if (which === PRIO_USER && (who === 0)) return [...t.process.threads];
  if (which < PRIO_PROCESS || which > PRIO_USER) throw new Errno(E.EINVAL);
  throw new Errno(E.ESRCH);
}

/** The raw syscall returns 20 - nice, so that it is never negative. */
const getpriority: SyscallHandler = (t, [which, who]) =>
  20 - Math.min(...priorityTargets(t, int(which), int(who)).map((x) => x.nice));

const setpriority: SyscallHandler = (t, [which, who, prio]) => {
  const nice = Math.max(-20, Math.min(19, int(prio)));
  for (const target of priorityTargets(t, int(which), int(who))) target.nice = nice;
  return 0;
};

/** Linux's cpumask_size(): the mask in whole longs for nr_cpu_ids (here, the vCPU count). */
function cpumaskBytes(cpus: number): number {
  return Math.ceil(cpus / 64) * 8;
}

const schedGetaffinity: SyscallHandler = (t, [pid, len, maskP]) => {
  const target = targetThread(t, int(pid));
  if (len * 8 < t.kernel.cpus || len % 8 !== 0) throw new Errno(E.EINVAL);
  const size = Math.min(len, cpumaskBytes(t.kernel.cpus));
  const bytes = new Uint8Array(size);
  for (let cpu = 0; cpu < t.kernel.cpus; cpu++) if ((target.affinity >> BigInt(cpu)) & 1n) bytes[cpu >> 3] |= 1 << (cpu & 7);
  t.mm.write(maskP, bytes);
  return size;
};

/** Reads a cpu_set_t of len bytes as a mask of this machine's vCPUs. */
function readMask(t: Thread, maskP: number, len: number): bigint {
  const bytes = t.mm.read(maskP, Math.min(len, 128));
  let mask = 0n;
  for (let cpu = 0; cpu < t.kernel.cpus && cpu < bytes.length * 8; cpu++) {
    if (bytes[cpu >> 3] & (1 << (cpu & 7))) mask |= 1n << BigInt(cpu);
  }
  return mask;
}

/** A thread whose new mask excludes its vCPU moves before it runs guest code again (for the caller: before the call returns to it). */
const schedSetaffinity: SyscallHandler = (t, [pid, len, maskP]) => {
  const target = targetThread(t, int(pid));
  const mask = readMask(t, maskP, len);
  if (mask === 0n) throw new Errno(E.EINVAL);
  target.affinity = mask;
  t.kernel.scheduler.affinityChanged(target);
  return 0;
};

const RSEQ_MIN_LEN = 32;
const RSEQ_FLAG_UNREGISTER = 1;
const RSEQ_CPU_ID_UNINITIALIZED = 0xffffffff;

/** rseq: the cpu fields are written at registration and whenever the thread changes vCPU. */
const rseq: SyscallHandler = (t, [addr, lenArg, flagsArg, sigArg]) => {
  const len = lenArg >>> 0, flags = int(flagsArg), sig = sigArg >>> 0;
  const cur = t.rseq;
  if (flags & RSEQ_FLAG_UNREGISTER) {
    if (flags & ~RSEQ_FLAG_UNREGISTER) throw new Errno(E.EINVAL);
    if (!cur || cur.addr !== addr || cur.len !== len) throw new Errno(E.EINVAL);
    if (cur.sig !== sig) throw new Errno(E.EPERM);
    t.mm.writeU32(addr + 4, RSEQ_CPU_ID_UNINITIALIZED);
    t.rseq = null;
    return 0;
  }
  if (flags) throw new Errno(E.EINVAL);
  if (cur) {
    if (cur.addr !== addr || cur.len !== len) throw new Errno(E.EINVAL);
    if (cur.sig !== sig) throw new Errno(E.EPERM);
    throw new Errno(E.EBUSY);
  }
  if (addr % 32 !== 0 || len < RSEQ_MIN_LEN) throw new Errno(E.EINVAL);
  t.rseq = { addr, len, sig };
  publishRseqCpu(t, t.cpu);
  return 0;
};

/** Writes cpu_id_start, cpu_id, node_id and mm_cid of the thread's rseq area. */
export function publishRseqCpu(t: Thread, cpu: number): void {
  if (!t.rseq) return;
  const area = new DataView(new ArrayBuffer(32));
  area.setUint32(0, cpu, true);
  area.setUint32(4, cpu, true);
  t.mm.write(t.rseq.addr, new Uint8Array(area.buffer, 0, 8));
  t.mm.write(t.rseq.addr + 24, new Uint8Array(8)); // node_id 0, mm_cid 0
}

/**
 * A thread preempted inside its rseq critical section resumes at the section's abort
 * handler (Linux's rseq_ip_fixup), after the signature check; rseq_cs is cleared.
 * Returns false when the signature does not match: Linux kills the thread with SIGSEGV.
 */
export function restartRseqCriticalSection(t: Thread, engine: CpuBackend): boolean {
  if (!t.rseq) return true;
  try {
    const csP = t.mm.readU64(t.rseq.addr + 8);
    if (!csP) return true;
    const cs = new DataView(t.mm.read(csP, 32).buffer);
    const start = Number(cs.getBigUint64(8, true)), length = Number(cs.getBigUint64(16, true));
    const abort = Number(cs.getBigUint64(24, true));
    const rip = engine.getReg(Reg.RIP);
    t.mm.writeU64(t.rseq.addr + 8, 0);
    if (rip < start || rip >= start + length) return true;
    if (t.mm.readU32(abort - 4) !== t.rseq.sig) return false;
    engine.setReg(Reg.RIP, abort);
    return true;
  } catch (e) {
    if (e instanceof Errno) return false;
    throw e;
  }
}

const getcpu: SyscallHandler = (t, [cpuP, nodeP]) => {
  if (cpuP) t.mm.writeU32(cpuP, t.cpu);
  if (nodeP) t.mm.writeU32(nodeP, 0);
  return 0;
};

export const schedSyscalls: SyscallEntry[] = [
  sys(24, 'sched_yield', schedYield),
  sys(140, 'getpriority', getpriority, ['int', 'int']),
  sys(141, 'setpriority', setpriority, ['int', 'int', 'int']),
  sys(142, 'sched_setparam', schedSetparam, ['int', 'ptr']),
  sys(143, 'sched_getparam', schedGetparam, ['int', 'ptr']),
  sys(144, 'sched_setscheduler', schedSetscheduler, ['int', 'int', 'ptr']),
  sys(145, 'sched_getscheduler', schedGetscheduler, ['int']),
  sys(146, 'sched_get_priority_max', priorityMax, ['int']),
  sys(147, 'sched_get_priority_min', priorityMin, ['int']),
  sys(148, 'sched_rr_get_interval', schedRrGetInterval, ['int', 'ptr']),
  sys(314, 'sched_setattr', schedSetattr, ['int', 'ptr', 'hex']),
  sys(315, 'sched_getattr', schedGetattr, ['int', 'ptr', 'uint', 'hex']),
  sys(203, 'sched_setaffinity', schedSetaffinity, ['int', 'size', 'ptr']),
  sys(204, 'sched_getaffinity', schedGetaffinity, ['int', 'size', 'ptr']),
  sys(334, 'rseq', rseq, ['ptr', 'uint', 'int', 'hex']),
  sys(309, 'getcpu', getcpu, ['ptr', 'ptr', 'ptr']),
];
