// Scheduling syscalls. Until the per-vCPU scheduler lands, a machine runs its one thread on
// vCPU 0; affinity masks are reported but not yet set.
import { E, Errno } from './errno.js';
import { int, sys, type SyscallEntry, type SyscallHandler } from './syscall.js';
import type { Thread } from './task.js';

/** The thread a pid argument names: 0 and the caller's own tid are the caller. */
function targetThread(t: Thread, pid: number): Thread {
  if (pid < 0) throw new Errno(E.EINVAL);
  if (pid !== 0 && pid !== t.tid) throw new Errno(E.ESRCH);
  return t;
}

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
  publishRseqCpu(t, t.kernel.cpu);
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

const getcpu: SyscallHandler = (t, [cpuP, nodeP]) => {
  if (cpuP) t.mm.writeU32(cpuP, t.kernel.cpu);
  if (nodeP) t.mm.writeU32(nodeP, 0);
  return 0;
};

export const schedSyscalls: SyscallEntry[] = [
  sys(204, 'sched_getaffinity', schedGetaffinity, ['int', 'size', 'ptr']),
  sys(334, 'rseq', rseq, ['ptr', 'uint', 'int', 'hex']),
  sys(309, 'getcpu', getcpu, ['ptr', 'ptr', 'ptr']),
];
