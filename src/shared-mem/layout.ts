// Every SharedArrayBuffer layout of the machine, declared once.
//
// Three buffers exist:
//   guest memory: the physical page pool (frames), one growable SharedArrayBuffer;
//   control:      the fixed-size words below, viewed as an Int32Array;
//   slots:        one execution slot per vCPU, laid out in exec-slot.ts.
// Each field names the lock that guards it; "atomic" means it is only touched with
// Atomics operations and needs no lock.

/** A frame is the unit the pool hands out: 64 KiB, aligned in guest virtual memory too. */
export const CHUNK_SHIFT = 16;
export const CHUNK_SIZE = 1 << CHUNK_SHIFT;
export const PAGE_SIZE = 4096;

/** Largest pool a growable SharedArrayBuffer supports on Node 20. */
export const MAX_POOL_BYTES = 4 * 1024 ** 3;
export const MAX_CPUS = 64;

/** Int32 indexes into the control buffer. */
export const Control = {
  /** 0 while the machine runs, 1 once it is shutting down. atomic. */
  STATE: 0,
  /** Spin lock word of the frame pool (0 free, 1 held). */
  POOL_LOCK: 1,
  /** Frames in use. guarded by POOL_LOCK. */
  POOL_USED: 2,
  /** Next pid/tid to hand out. atomic (Atomics.add). */
  NEXT_ID: 3,
  /** Signals the host sent to starling, to forward to the guest (bit N-1 for signal N). atomic. */
  HOST_SIGNALS: 4,
  /** Processes alive (zombies included), and the most --max-procs allows. atomic; MAX_PROCS written once at boot. */
  PROCESS_COUNT: 5,
  MAX_PROCS: 6,
  /** 1 once the main thread's monitor has posted requests on vCPU 0's port (main/monitor/kernel-link.ts); vCPU 0 exchanges it to 0 and serves them. atomic. */
  MONITOR_REQUEST: 7,
  /**
   * The KVM VM's fd when its vCPUs are kicked by KVM_SIGNAL_MSI (an in-kernel irqchip); 0 when
   * they are kicked by a host signal, or are not KVM vCPUs. Written once by the main thread
   * before the vCPUs start. atomic.
   */
  KVM_MSI_VM_FD: 8,
  /**
   * 1 + the vCPU whose syscall-mailbox request vCPU 0's worker is taking or serving, 0 when
   * none (cpu-worker/kvm/syscall-mailbox.ts): set before the take and cleared after the
   * answer, so that a worker waiting for an answer knows a TAKEN state is real and not the
   * guest's own write. Written only by vCPU 0's worker. atomic.
   */
  MAILBOX_SERVING: 9,
  /** Per vCPU: the host eventfd its run loop waits on besides guest fds (written to wake it); only vCPU 0 has one. Written once by the vCPU. atomic. */
  DOORBELL_FD_BASE: 64,
  /** Per vCPU: 1 asks its running engine to stop (Unicorn: at the next translation block, cleared by cpu-worker/native/preempt.c; KVM: at its next exit, cleared by its worker). atomic. */
  PREEMPT_REQUEST_BASE: 64 + MAX_CPUS,
  /** Per vCPU: 1 while other threads wait for its CPU, so its next tick (the ticker's, or its LAPIC timer's on KVM) should preempt it. atomic. */
  TICK_WANTED_BASE: 64 + 2 * MAX_CPUS,
  /** Per vCPU: the host thread id to signal so that it leaves KVM_RUN (0: not a KVM vCPU, the word alone suffices). Written once by the vCPU. atomic. */
  KICK_TID_BASE: 64 + 3 * MAX_CPUS,
  /**
   * Per vCPU, with MSI kicks: 1 while its worker is inside KvmBackend.run, where only an
   * interrupt reaches it (a kick sends one then; otherwise the word suffices, as the worker
   * checks PREEMPT_REQUEST after raising this one). Written by the vCPU's worker. atomic.
   */
  KVM_IN_GUEST_BASE: 64 + 4 * MAX_CPUS,
  /**
   * Per vCPU, with an irqchip: 1 while its LAPIC timer ticks. The timer starts when the vCPU
   * runs a thread while TICK_WANTED is set, and stops when the worker goes idle; vCPU 0 sends
   * an interrupt to a vCPU in guest code whose TICK_WANTED rose while this is 0, so that it
   * starts it. Written by the vCPU's worker. atomic.
   */
  KVM_TIMER_ON_BASE: 64 + 5 * MAX_CPUS,
  /** Frame bitmap: one bit per frame, set while the frame is in use. guarded by POOL_LOCK. */
  FRAME_BITMAP_BASE: 64 + 6 * MAX_CPUS,
} as const;

export const CONTROL_WORDS = Control.FRAME_BITMAP_BASE + MAX_POOL_BYTES / CHUNK_SIZE / 32;
export const CONTROL_BYTES = CONTROL_WORDS * 4;

export const MachineState = { RUNNING: 0, SHUTTING_DOWN: 1 } as const;
