// futex. Until threads land a process has exactly one thread, so no other thread can wake a
// waiter: WAIT checks the value and then sleeps until its timeout; WAKE finds no waiter.
// The SMP work replaces this with wait queues in shared memory.
import { E, Errno } from './errno.js';
import { block, int, sys, type SyscallEntry, type SyscallHandler } from './syscall.js';
import { monotonicMs, readTimespec } from './sys-time.js';

const FUTEX = {
  WAIT: 0, WAKE: 1, REQUEUE: 3, CMP_REQUEUE: 4, WAKE_OP: 5, WAIT_BITSET: 9, WAKE_BITSET: 10,
  PRIVATE_FLAG: 128, CLOCK_REALTIME: 256,
} as const;
const CMD_MASK = ~(FUTEX.PRIVATE_FLAG | FUTEX.CLOCK_REALTIME);

const futex: SyscallHandler = (t, [uaddr, opArg, val, timeoutP, uaddr2, val3]) => {
  const op = int(opArg);
  const cmd = op & CMD_MASK;
  if (uaddr % 4 !== 0) throw new Errno(E.EINVAL);
  if (op & FUTEX.CLOCK_REALTIME && cmd !== FUTEX.WAIT && cmd !== FUTEX.WAIT_BITSET) throw new Errno(E.ENOSYS);
  switch (cmd) {
    case FUTEX.WAIT:
    case FUTEX.WAIT_BITSET: {
      if (cmd === FUTEX.WAIT_BITSET && (val3 >>> 0) === 0) throw new Errno(E.EINVAL);
      let deadline = Infinity;
      if (timeoutP) {
        const { sec, nsec } = readTimespec(t, timeoutP);
        const ms = sec * 1e3 + nsec / 1e6;
        // WAIT's timeout is relative; WAIT_BITSET's is absolute on the chosen clock.
        deadline = cmd === FUTEX.WAIT ? monotonicMs() + ms
          : monotonicMs() + ms - (op & FUTEX.CLOCK_REALTIME ? Date.now() : monotonicMs());
      }
      if (t.mm.readU32(uaddr) !== val >>> 0) return -E.EAGAIN;
      if (deadline === Infinity) {
        t.kernel.warnOnce('futex-deadlock', `pid ${t.process.pid}: futex wait with no other thread to wake it`);
      }
      return block({ kind: 'sleep', deadline }, () => -E.ETIMEDOUT);
    }
    case FUTEX.WAKE:
    case FUTEX.WAKE_BITSET:
      if (cmd === FUTEX.WAKE_BITSET && (val3 >>> 0) === 0) throw new Errno(E.EINVAL);
      return 0;
    case FUTEX.CMP_REQUEUE:
      if (uaddr2 % 4 !== 0) throw new Errno(E.EINVAL);
      if (t.mm.readU32(uaddr) !== val3 >>> 0) return -E.EAGAIN;
      return 0;
    case FUTEX.REQUEUE:
      if (uaddr2 % 4 !== 0) throw new Errno(E.EINVAL);
      return 0;
    case FUTEX.WAKE_OP:
      return wakeOp(t, uaddr2, val3);
    default:
      throw new Errno(E.ENOSYS);
  }
};

/** FUTEX_WAKE_OP still performs its atomic operation on uaddr2; there is no one to wake. */
function wakeOp(t: import('./task.js').Thread, uaddr2: number, encoded: number): number {
  if (uaddr2 % 4 !== 0) throw new Errno(E.EINVAL);
  const op = (encoded >>> 28) & 7, shift = (encoded >>> 28) & 8;
  let oparg = (encoded << 8) >> 20;
  if (shift) oparg = 1 << (oparg & 31);
  const old = t.mm.readU32(uaddr2) | 0;
  const next = [oparg, old + oparg, old | oparg, old & ~oparg, old ^ oparg][op];
  if (next === undefined) throw new Errno(E.ENOSYS);
  t.mm.writeU32(uaddr2, next);
  return 0;
}

export const futexSyscalls: SyscallEntry[] = [
  sys(202, 'futex', futex, ['ptr', 'hex', 'uint', 'ptr', 'ptr', 'hex']),
];
