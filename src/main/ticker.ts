// Time slices: every TICK_MS the main thread asks each vCPU whose other threads are waiting
// for it to stop its engine at the next translation block (Linux's scheduler tick). The stop
// itself happens on the vCPU's own thread (cpu-worker/native/preempt.c): Unicorn 2.0.1
// re-executes an instruction when uc_emu_stop comes from another thread. KVM vCPUs with an
// in-kernel irqchip tick themselves (their LAPIC timer) and need no ticker.
import { Control } from '../shared-mem/layout.js';
import { TICK_MS, requestPreempt } from '../shared-mem/preempt.js';

export function startTicker(control: Int32Array, cpus: number): () => void {
  const timer = setInterval(() => {
    for (let cpu = 0; cpu < cpus; cpu++) {
      if (Atomics.load(control, Control.TICK_WANTED_BASE + cpu)) requestPreempt(control, cpu);
    }
  }, TICK_MS);
  return () => clearInterval(timer);
}
