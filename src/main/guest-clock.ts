// The guest's clock: the function in the [vvar] page (shared-mem/vvar.ts) with which the vDSO
// turns the TSC into CLOCK_MONOTONIC and CLOCK_REALTIME without a syscall. The main thread
// keeps it, since it is idle while the machine runs, whatever the guest does on the vCPUs.
//
// The function follows the host's clocks. Every UPDATE_MS a fresh pair of TSC and host clock
// readings gives the error, and a new line takes over SWITCH_MS later, continuing from where
// the current one will stand then and at a rate that makes up the error over the following
// UPDATE_MS (at most MAX_SLEW_PPM faster or slower), as NTP slews a clock. An error beyond
// MAX_STEP_NS (the host was suspended, or this thread starved) is made up at once, and only
// forward. CLOCK_REALTIME is CLOCK_MONOTONIC plus the host's offset between the two, as on
// Linux, so a step of the host's wall clock steps it too. Syscalls that read the clock (and
// every deadline) still use the host's clocks: the two agree within a few hundred nanoseconds.
import koffi from 'koffi';
import { fileURLToPath } from 'node:url';
import { addressOf, hostSyscall, HostNr } from '../kernel/host/libc.js';
import { Slot, SLOT_BYTES, Vvar, VVAR_BYTES, VVAR_SHIFT as SHIFT } from '../shared-mem/vvar.js';

const clockLibrary = koffi.load(fileURLToPath(new URL('../../native/libstarling-clock.so', import.meta.url)));
const tscClockPair = clockLibrary.func('void starling_tsc_clock_pair(_Out_ uint64_t *out)');
const memfdCreate = koffi.load('libc.so.6').func('int memfd_create(const char *name, unsigned int flags)');

const HOST_MMAP = 9;
const MFD_CLOEXEC = 1, PROT_READ_WRITE = 3, MAP_SHARED_FIXED = 0x01 | 0x10;
const UPDATE_MS = 100n;
const SWITCH_MS = 50n;
/** How long the first two readings are apart: the first rate is good to about 20 ppm. */
const CALIBRATION_MS = 2;
const MAX_SLEW_PPM = 500n;
const MAX_STEP_NS = 1_000_000n;
const NS_PER_MS = 1_000_000n;

interface Reading {
  tsc: bigint;
  mono: bigint;
  real: bigint;
}

function read(): Reading {
  const out = new BigUint64Array(4);
  tscClockPair(out);
  return { tsc: out[0], mono: out[1], real: out[2] };
}

/** ns = mono + ((tsc - tscBase) * mult) >> SHIFT, and realtime = that + realOffset. */
interface Line {
  mult: bigint;
  tscBase: bigint;
  mono: bigint;
  realOffset: bigint;
}

const valueAt = (l: Line, tsc: bigint) => l.mono + ((tsc > l.tscBase ? (tsc - l.tscBase) * l.mult : 0n) >> SHIFT);

export class GuestClock {
  /** The memfd whose first page is the [vvar] page (the kernel maps it read-only into each process). */
  readonly fd: number;
  private readonly seq: Int32Array;
  private readonly page: DataView;
  private readonly first: Reading;
  private readonly timer: NodeJS.Timeout;
  /** The current slot's lines and switch. */
  private before: Line;
  private after: Line;

  constructor() {
    this.fd = memfdCreate('starling-vvar', MFD_CLOEXEC);
    if (this.fd < 0) throw new Error(`memfd_create: errno ${koffi.errno()}`);
    if (hostSyscall(HostNr.ftruncate, this.fd, VVAR_BYTES) < 0) throw new Error('ftruncate of the vvar memfd failed');
    // This thread's view: the memfd's page mapped over a whole page inside a buffer of our own.
    const buffer = new SharedArrayBuffer(3 * VVAR_BYTES);
    const address = addressOf(buffer);
    const offset = (VVAR_BYTES - (address % VVAR_BYTES)) % VVAR_BYTES;
    const r = hostSyscall(HOST_MMAP, address + offset, VVAR_BYTES, PROT_READ_WRITE, MAP_SHARED_FIXED, this.fd, 0);
    if (r < 0) throw new Error(`mmap of the vvar memfd: errno ${-r}`);
    this.seq = new Int32Array(buffer, offset + Vvar.SEQ, 1);
    this.page = new DataView(buffer, offset, VVAR_BYTES);
    this.first = read();
    const until = performance.now() + CALIBRATION_MS;
    while (performance.now() < until);
    const now = read();
    this.after = this.before = { mult: this.nominalMult(now), tscBase: now.tsc, mono: now.mono, realOffset: now.real - now.mono };
    this.publish(now.tsc);
    this.timer = setInterval(() => this.update(), Number(UPDATE_MS));
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** ns per TSC tick, in fixed point, measured from the first reading to r. */
  private nominalMult(r: Reading): bigint {
    return ((r.mono - this.first.mono) << SHIFT) / (r.tsc - this.first.tsc);
  }

  private update(): void {
    const r = read();
    const nominal = this.nominalMult(r);
    const ticks = (ns: bigint) => (ns << SHIFT) / nominal;
    const switchTsc = r.tsc + ticks(SWITCH_MS * NS_PER_MS);
    const inForce = switchTsc >= this.after.tscBase ? this.after : this.before;
    const start = valueAt(inForce, switchTsc);
    const hostThen = r.mono + SWITCH_MS * NS_PER_MS;
    let error = hostThen - start;
    let mult = nominal;
    let mono = start;
    if (error > MAX_STEP_NS) {
      mono = hostThen; // forward at once; never back
    } else if (error > -MAX_STEP_NS) {
      const span = UPDATE_MS * NS_PER_MS, limit = (span * MAX_SLEW_PPM) / 1_000_000n;
      error = error > limit ? limit : error < -limit ? -limit : error;
      mult = ((span + error) << SHIFT) / ticks(span);
    }
    this.before = inForce;
    this.after = { mult, tscBase: switchTsc, mono, realOffset: r.real - r.mono };
    this.publish(switchTsc);
  }

  /** Writes the slot that is not current and makes it current. */
  private publish(switchTsc: bigint): void {
    const seq = Atomics.load(this.seq, 0);
    const base = Vvar.SLOTS + ((seq + 1) & 1) * SLOT_BYTES;
    const set = (field: number, value: bigint) => this.page.setBigUint64(base + field, value, true);
    const b = this.before, a = this.after;
    set(Slot.SWITCH_TSC, switchTsc);
    set(Slot.BEFORE_MULT, b.mult);
    set(Slot.BEFORE_TSC, b.tscBase);
    set(Slot.BEFORE_MONO, b.mono);
    set(Slot.BEFORE_REAL, b.mono + b.realOffset);
    set(Slot.AFTER_MULT, a.mult);
    set(Slot.AFTER_MONO, a.mono);
    set(Slot.AFTER_REAL, a.mono + a.realOffset);
    Atomics.store(this.seq, 0, seq + 1);
  }
}
