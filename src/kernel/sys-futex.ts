// futex(2): wait queues (futex-table.ts) keyed as Linux keys them: a private operation's word by
// address space and address, a shared operation's word on a shared mapping by the pool byte
// that holds it.
import { E, Errno } from './errno.js';
import { FutexWaiter } from './futex-table.js';
import { block, int, remote, sys, type SyscallEntry, type SyscallHandler, type SyscallResult } from './syscall.js';
import { monotonicMs, readTimespec } from './sys-time.js';
import type { Thread } from './task.js';

export const FUTEX = {
  WAIT: 0, WAKE: 1, REQUEUE: 3, CMP_REQUEUE: 4, WAKE_OP: 5, WAIT_BITSET: 9, WAKE_BITSET: 10,
  PRIVATE_FLAG: 128, CLOCK_REALTIME: 256,
} as const;
const CMD_MASK = ~(FUTEX.PRIVATE_FLAG | FUTEX.CLOCK_REALTIME);
const BITSET_MATCH_ANY = 0xffffffff;
const WAKING = new Set<number>([FUTEX.WAKE, FUTEX.WAKE_BITSET, FUTEX.WAKE_OP, FUTEX.REQUEUE, FUTEX.CMP_REQUEUE]);

/** The queue a futex word belongs to. EFAULT for a word the thread cannot read. */
export function futexKey(t: Thread, addr: number, isPrivate: boolean): string {
  if (addr % 4 !== 0) throw new Errno(E.EINVAL);
  const v = t.mm.findVma(addr);
  if (!v) throw new Errno(E.EFAULT);
  if (isPrivate) return `${t.mm.id}:${addr}`;
  // A shared operation on a private mapping: Linux keys it by mm and address too, but marked
  // (FUT_OFF_MMSHARED), so private operations on the same word never meet it.
  if (!v.shared) return `${t.mm.id}:${addr}:shared`;
  return `pool:${t.mm.hostSpans(addr, 4, 'read')[0][0]}`;
}

/** Deadline on the monotonic timeline: WAIT's timeout is relative, WAIT_BITSET's absolute on its clock. */
function deadlineOf(t: Thread, cmd: number, op: number, timeoutP: number): number | undefined {
  if (!timeoutP) return undefined;
  const { sec, nsec } = readTimespec(t, timeoutP);
  const ms = sec * 1e3 + nsec / 1e6;
  if (cmd === FUTEX.WAIT) return monotonicMs() + ms;
  return monotonicMs() + ms - (op & FUTEX.CLOCK_REALTIME ? Date.now() : monotonicMs());
}

function wait(t: Thread, key: string, uaddr: number, expected: number, bitset: number, deadline: number | undefined): SyscallResult {
  if (bitset === 0) throw new Errno(E.EINVAL);
  if (t.mm.readU32(uaddr) !== expected >>> 0) return -E.EAGAIN;
  if (deadline !== undefined && deadline <= monotonicMs()) return -E.ETIMEDOUT;
  const waiter = new FutexWaiter(t, key, bitset);
  const futexes = t.kernel.futexes;
  futexes.enqueue(waiter);
  return block({ kind: 'futex', waiter, deadline }, () => {
    if (waiter.woken) return 0;
    futexes.remove(waiter);
    return -E.ETIMEDOUT;
  }, { cancel: () => futexes.remove(waiter) });
}

/** FUTEX_WAKE_OP's operation on *uaddr2: returns the old value after storing the new one. */
function applyWakeOp(t: Thread, uaddr2: number, encoded: number): number {
  const op = (encoded >>> 28) & 7, shift = (encoded >>> 31) & 1;
  let oparg = (encoded << 8) >> 20;
  if (shift) oparg = 1 << (oparg & 31);
  const old = t.mm.readU32(uaddr2) | 0;
  const next = [oparg, old + oparg, old | oparg, old & ~oparg, old ^ oparg][op];
  if (next === undefined) throw new Errno(E.ENOSYS);
  t.mm.writeU32(uaddr2, next);
  return old;
}

function wakeOpCondition(old: number, encoded: number): boolean {
  const cmp = (encoded >>> 24) & 15;
  const cmparg = (encoded << 20) >> 20;
  switch (cmp) {
    case 0: return old === cmparg;
    case 1: return old !== cmparg;
    case 2: return old < cmparg;
    case 3: return old <= cmparg;
    case 4: return old > cmparg;
    case 5: return old >= cmparg;
    default: throw new Errno(E.ENOSYS);
  }
}

const futex: SyscallHandler = (t, [uaddr, opArg, val, timeoutP, uaddr2, val3]) => {
  const op = int(opArg);
  const cmd = op & CMD_MASK;
  const isPrivate = (op & FUTEX.PRIVATE_FLAG) !== 0;
  if (op & FUTEX.CLOCK_REALTIME && cmd !== FUTEX.WAIT && cmd !== FUTEX.WAIT_BITSET) throw new Errno(E.ENOSYS);
  const futexes = t.kernel.futexes;
  const wakeCount = (n: number) => Math.max(0, int(n));
  switch (cmd) {
    case FUTEX.WAIT:
      return wait(t, futexKey(t, uaddr, isPrivate), uaddr, val, BITSET_MATCH_ANY, deadlineOf(t, cmd, op, timeoutP));
    case FUTEX.WAIT_BITSET:
      return wait(t, futexKey(t, uaddr, isPrivate), uaddr, val, val3 >>> 0, deadlineOf(t, cmd, op, timeoutP));
    case FUTEX.WAKE:
      return futexes.wake(futexKey(t, uaddr, isPrivate), wakeCount(val));
    case FUTEX.WAKE_BITSET:
      if ((val3 >>> 0) === 0) throw new Errno(E.EINVAL);
      return futexes.wake(futexKey(t, uaddr, isPrivate), wakeCount(val), val3 >>> 0);
    case FUTEX.CMP_REQUEUE:
    case FUTEX.REQUEUE: {
      // val2 (the requeue count) travels in the timeout argument's register.
      const from = futexKey(t, uaddr, isPrivate), to = futexKey(t, uaddr2, isPrivate);
      if (int(val) < 0 || int(timeoutP) < 0) throw new Errno(E.EINVAL);
      if (cmd === FUTEX.CMP_REQUEUE && t.mm.readU32(uaddr) !== val3 >>> 0) return -E.EAGAIN;
      return futexes.requeue(from, to, int(val), int(timeoutP));
    }
    case FUTEX.WAKE_OP: {
      const k1 = futexKey(t, uaddr, isPrivate), k2 = futexKey(t, uaddr2, isPrivate);
      const old = applyWakeOp(t, uaddr2, val3 >>> 0);
      let woken = futexes.wake(k1, wakeCount(val));
      if (wakeOpCondition(old, val3 >>> 0)) woken += futexes.wake(k2, wakeCount(timeoutP));
      return woken;
    }
    default:
      throw new Errno(E.ENOSYS);
  }
};

export const futexSyscalls: SyscallEntry[] = [
  // The waking operations: a wait registers its waiter before it blocks.
  remote(sys(202, 'futex', futex, ['ptr', 'hex', 'uint', 'ptr', 'ptr', 'hex']), (_t, [, op]) => WAKING.has(op & CMD_MASK)),
];
