// Installing a new program image into a process: execve and the machine's first program.
import { loadImage } from './loader.js';
import type { Thread } from '../task.js';
import type { ExecAt } from '../vfs/vfs.js';

const SIG_IGN = 1;

/** Loads path and, once that has succeeded, replaces the calling process's image with it. */
export function execImage(t: Thread, path: string, argv: string[], envp: string[], at?: ExecAt): void {
  const image = loadImage(t, path, argv, envp, 0, at);
  const p = t.process;
  // The old address space is still under the running engine: the vCPU retires both once
  // the engine has stopped (see Vcpu.switchEngine).
  p.mm = image.mm;
  p.exePath = image.exePath;
  p.execed = true;
  p.cmdline = image.argv;
  p.environ = envp;
  p.files.closeOnExec();
  // Caught signals revert to their default action; ignored ones stay ignored.
  for (const [sig, action] of p.sigactions) if (action.handler !== SIG_IGN) p.sigactions.delete(sig);
  t.altStack = { sp: 0, flags: 2, size: 0 };
  t.rseq = null;
  t.name = (path.split('/').pop() ?? path).slice(0, 15);
  t.startRegisters = { rip: image.entry, rsp: image.stackPointer };
  // A vfork parent waits for exactly this: its child no longer uses its memory.
  if (p.vforkParent) {
    t.kernel.scheduler.wake(p.vforkParent);
    p.vforkParent = null;
  }
}
