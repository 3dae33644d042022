// The bench's scratch directory: the guest programs compiled for this host, the input files,
// and the sizes of this invocation (full or --quick). Guests see it as /bench.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BenchError } from './case.js';
import { GUEST_SRC } from './paths.js';
import { hostCommand, type GuestCommand, type Runner } from './runners.js';

/** bench/guest/NAME.c, compiled with gcc -O2 (dynamically linked against glibc). */
const PROGRAMS = ['getppid_loop', 'memcpy_loop', 'hello', 'futex_pingpong', 'futex_wake_latency', 'thread_create', 'fork_exec', 'sleep_loop', 'idle_threads',
  'compute_procs', 'compute_threads', 'ctx_switch', 'mmap_churn', 'pipe_throughput', 'net_server', 'net_client'];

/** The test pattern the ffmpeg cases transcode and push (H.264, 25 fps). */
export const VIDEO = { width: 320, height: 240, fullSeconds: 5, quickSeconds: 1 };

export class Workspace {
  readonly dir = mkdtempSync(join(tmpdir(), 'starling-bench-'));
  readonly videoSeconds: number;

  constructor(readonly quick: boolean) {
    this.videoSeconds = quick ? VIDEO.quickSeconds : VIDEO.fullSeconds;
    try {
      this.fill();
    } catch (e) {
      this.remove();
      throw e;
    }
  }

  private fill(): void {
    for (const name of PROGRAMS) this.gcc(name, [join(GUEST_SRC, `${name}.c`)]);
    writeFileSync(join(this.dir, 'true.c'), 'int main(void) { return 0; }\n');
    this.gcc('true', ['-static', join(this.dir, 'true.c')]);
    writeFileSync(join(this.dir, 'data.bin'), Buffer.alloc(this.size(64, 1) * 1024 * 1024, 0x5a));
    const ffmpeg = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `testsrc=size=${VIDEO.width}x${VIDEO.height}:rate=25`,
      '-t', String(this.videoSeconds), '-c:v', 'libx264', '-g', '50', '-pix_fmt', 'yuv420p', '-threads', '1', join(this.dir, 'video.mp4')], { encoding: 'utf8' });
    if (ffmpeg.status !== 0) throw new BenchError(`ffmpeg could not make the test pattern: ${ffmpeg.stderr.trim().split('\n')[0]}`);
  }

  /** The full figure, or the quick one under --quick. */
  size<T>(full: T, quick: T): T {
    return this.quick ? quick : full;
  }

  /** The host command running a guest command under runner. */
  command(runner: Runner, g: GuestCommand): string[] {
    return hostCommand(runner, g, this.dir);
  }

  /** A host path in the workspace. */
  path(name: string): string {
    return join(this.dir, name);
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  private gcc(out: string, args: string[]): void {
    const r = spawnSync('gcc', ['-O2', '-pthread', '-I', GUEST_SRC, '-o', join(this.dir, out), ...args], { encoding: 'utf8' });
    if (r.status !== 0) throw new BenchError(`gcc ${out}: ${(r.stderr || r.error?.message || '').trim().split('\n')[0]}`);
  }
}
