// MediaServer (ZLMediaKit) cases, when STARLING_ZLM_DIR names a release folder with MediaServer:
// start to listening, and the server's CPU per stream with 1, 4 and 16 concurrent RTSP pushes.
// The release is copied once into the workspace with every port but RTSP's switched off, and
// RTSP on a port the host picks for each start, so runs never meet another MediaServer.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { BenchError, type Case } from '../case.js';
import type { Runner } from '../runners.js';
import { VIDEO, type Workspace } from '../workspace.js';
import { cpuShareSince, freePort, listening, mustSucceed, runToEnd, sleep, start, type Started } from '../proc.js';
import { installRelease } from '../../src/main/rtsp-push.js';

/** Seconds each push lasts (STARLING_BENCH_PUSH_SECONDS; kept modest, the report says so). */
const PUSH_SECONDS_TEXT = process.env.STARLING_BENCH_PUSH_SECONDS ?? '10';
const PUSH_SECONDS = Number(PUSH_SECONDS_TEXT);
const STREAMS = [1, 4, 16];
/** The release's folder in the workspace. */
const RELEASE = 'zlm';

/** config.ini with [rtsp] port=rtspPort and every other listening port 0 (MediaServer skips a server whose port is 0). */
export function configWithOnlyRtsp(ini: string, rtspPort: number): string {
  let section = '';
  return ini.split('\n').map((l) => {
    const s = /^\[(\w+)\]/.exec(l);
    if (s) section = s[1];
    const p = /^(port|sslport)=/.exec(l);
    if (!p) return l;
    return `${p[1]}=${section === 'rtsp' && p[1] === 'port' ? rtspPort : 0}`;
  }).join('\n');
}

class MediaServerRelease {
  private prepared: { dir: string; ini: string } | null = null;
  constructor(private readonly zlmDir: string) {}

  /** The workspace's copy, made on first use, and the push source of PUSH_SECONDS. */
  prepare(ws: Workspace): { dir: string; ini: string; source: string; seconds: number } {
    const seconds = PUSH_SECONDS;
    const source = ws.path('push.mp4');
    if (!this.prepared) {
      const dir = ws.path(RELEASE);
      installRelease(this.zlmDir, dir);
      this.prepared = { dir, ini: readFileSync(join(dir, 'config.ini'), 'latin1') };
      const r = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `testsrc=size=${VIDEO.width}x${VIDEO.height}:rate=25`,
        '-t', String(seconds), '-c:v', 'libx264', '-g', '50', '-pix_fmt', 'yuv420p', '-threads', '1', source], { encoding: 'utf8' });
      if (r.status !== 0) throw new BenchError(`ffmpeg could not make the push source: ${r.stderr.trim().split('\n')[0]}`);
    }
    return { ...this.prepared, source, seconds };
  }

  /** Starts MediaServer (in the foreground, no -d supervisor) under runner; resolves when its RTSP port listens. */
  async start(runner: Runner, ws: Workspace): Promise<{ server: Started; port: number; ms: number; source: string; seconds: number }> {
    const { dir, ini, source, seconds } = this.prepare(ws);
    const port = await freePort();
    writeFileSync(join(dir, 'config.ini'), configWithOnlyRtsp(ini, port), 'latin1');
    // The copy is the workspace's zlm/, so /bench/zlm in the guest; MediaServer finds www/ and log/ from its working directory.
    const cmd = ws.command(runner, { argv: [`/bench/${RELEASE}/MediaServer`], cpus: 4, starlingOptions: ['--cwd', `/bench/${RELEASE}`] });
    const t0 = process.hrtime.bigint();
    const server = start(cmd, { cwd: dir });
    for (;;) {
      if (listening(port)) return { server, port, ms: Number(process.hrtime.bigint() - t0) / 1e6, source, seconds };
      if (server.child.exitCode !== null || server.child.signalCode !== null) throw new BenchError(`MediaServer ended before listening: ${server.stderr().trim().split('\n').pop() ?? ''}`);
      if (Number(process.hrtime.bigint() - t0) > 180e9) { server.child.kill('SIGKILL'); throw new BenchError('MediaServer did not listen within 180 s'); }
      await sleep(10);
    }
  }
}

async function stop(server: Started): Promise<void> {
  server.child.kill('SIGKILL');
  await server.exited;
}

export function mediaServerCases(): Case[] {
  if (!/^\d+$/.test(PUSH_SECONDS_TEXT) || PUSH_SECONDS < 1) throw new BenchError(`STARLING_BENCH_PUSH_SECONDS: '${PUSH_SECONDS_TEXT}' is not a whole number of seconds`);
  const dir = process.env.STARLING_ZLM_DIR;
  const skip = !dir ? 'STARLING_ZLM_DIR is not set (a ZLMediaKit release folder with MediaServer)'
    : !existsSync(join(dir, 'MediaServer')) ? `no MediaServer in ${dir}` : undefined;
  const release = new MediaServerRelease(dir ?? '');
  const startCase: Case = {
    name: 'MediaServer start to listening', group: 'mediaserver', unit: 'ms', lowerIsBetter: true, skip,
    method: 'from spawning the runner to MediaServer\'s RTSP socket appearing in /proc/net/tcp (polled every 10 ms)',
    measure: async (runner, ws) => {
      const s = await release.start(runner, ws);
      await stop(s.server);
      return s.ms;
    },
  };
  const perStream = STREAMS.map((n): Case => ({
    name: `MediaServer CPU per stream, ${n} concurrent RTSP/TCP push${n > 1 ? 'es' : ''} of ${PUSH_SECONDS} s`, group: 'mediaserver', unit: '% of a core', lowerIsBetter: true, skip,
    method: 'the server process\'s user+system time (/proc/PID/stat; the whole emulator under qemu-x86_64 and Starling) over the pushes, as a share of their wall time, divided by the number of streams; host ffmpeg pushes -re -c copy',
    measure: async (runner, ws) => {
      const s = await release.start(runner, ws);
      try {
        const share = cpuShareSince(s.server.child.pid!);
        const pushes = await Promise.all(Array.from({ length: n }, (_, i) => runToEnd(['ffmpeg', '-hide_banner', '-loglevel', 'error', '-re', '-i', s.source,
          '-c', 'copy', '-rtsp_transport', 'tcp', '-f', 'rtsp', `rtsp://127.0.0.1:${s.port}/live/bench${i}`], { timeoutMs: (s.seconds + 120) * 1000 })));
        const percent = share();
        pushes.forEach((p, i) => mustSucceed(`push ${i + 1} of ${n}`, p));
        return percent / n;
      } finally {
        await stop(s.server);
      }
    },
  }));
  return [startCase, ...perStream];
}
