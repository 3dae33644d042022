// Macro cases: whole programs from the rootfs (busybox, ffmpeg) on real work.
import type { Case } from '../case.js';
import { BenchError } from '../case.js';
import type { Runner } from '../runners.js';
import { VIDEO, type Workspace } from '../workspace.js';
import { cpuShareSince, freePort, listening, mustSucceed, runToEnd, sleep, start } from '../proc.js';
import { wallTime } from './kinds.js';

/** ffmpeg -benchmark's real time of the transcode itself (after start-up and opening the files), in ms. */
const transcodeTime = (threads: number) => async (runner: Runner, ws: Workspace): Promise<number> => {
  // -benchmark's line is printed at level info.
  const argv = ['/usr/bin/ffmpeg', '-hide_banner', '-nostats', '-loglevel', 'info', '-benchmark', '-threads', String(threads), '-i', '/bench/video.mp4',
    '-c:v', 'libx264', '-preset', 'veryfast', '-threads', String(threads), '-f', 'null', '-'];
  const r = mustSucceed('ffmpeg', await runToEnd(ws.command(runner, { argv })));
  const m = /rtime=([\d.]+)s/.exec(r.stdout + r.stderr);
  if (!m) throw new BenchError('ffmpeg -benchmark printed no rtime');
  return Number(m[1]) * 1000;
};

/**
 * A guest ffmpeg listens for an RTSP publisher (-rtsp_flags listen) and ingests the stream to
 * the null muxer; the host ffmpeg pushes the test pattern in real time over TCP. The figure is
 * the guest's host CPU (its whole process: the emulator under qemu-x86_64 and Starling) over
 * the push, as a share of a core.
 */
async function rtspIngest(runner: Runner, ws: Workspace): Promise<number> {
  const port = await freePort();
  const url = `rtsp://127.0.0.1:${port}/live/bench`;
  const guest = start(ws.command(runner, { argv: ['/usr/bin/ffmpeg', '-hide_banner', '-loglevel', 'error', '-rtsp_flags', 'listen', '-timeout', '120',
    '-i', url, '-c', 'copy', '-f', 'null', '-'] }));
  try {
    // A probe connection would be taken for the publisher: watch the socket table instead.
    for (let waited = 0; !listening(port); waited += 20) {
      if (guest.child.exitCode !== null) throw new BenchError(`the guest ffmpeg ended before listening: ${guest.stderr().trim().split('\n')[0]}`);
      if (waited > 120_000) throw new BenchError(`the guest ffmpeg did not listen on ${port} within 120 s`);
      await sleep(20);
    }
    const share = cpuShareSince(guest.child.pid!);
    const pushed = runToEnd(['ffmpeg', '-hide_banner', '-loglevel', 'error', '-re', '-i', ws.path('video.mp4'), '-c', 'copy',
      '-rtsp_transport', 'tcp', '-f', 'rtsp', url]);
    // The guest ends with the stream and is reaped at once: read its CPU time while the push
    // (real time, -re) still has a fifth of the video to go.
    await sleep(ws.videoSeconds * 800);
    if (guest.child.exitCode !== null) throw new BenchError(`the guest ffmpeg ended during the push: ${guest.stderr().trim().split('\n')[0]}`);
    const percent = share();
    mustSucceed('the host ffmpeg push', await pushed);
    mustSucceed('the guest ffmpeg', await guest.exited);
    return percent;
  } finally {
    guest.child.kill('SIGKILL');
  }
}

export function macroCases(): Case[] {
  const cases: Omit<Case, 'group'>[] = [
    { name: 'busybox sha256sum of 64 MiB', unit: 'ms', lowerIsBetter: true, method: 'wall time of the whole command',
      measure: wallTime(() => ({ argv: ['/usr/bin/busybox', 'sha256sum', '/bench/data.bin'] })) },
    { name: 'ffmpeg -version (start-up, about 130 libraries)', unit: 'ms', lowerIsBetter: true, method: 'wall time of the whole command',
      measure: wallTime(() => ({ argv: ['/usr/bin/ffmpeg', '-hide_banner', '-version'] })) },
    ...[1, 2].map((threads) => ({
      name: `ffmpeg transcode of a ${VIDEO.fullSeconds} s ${VIDEO.width}x${VIDEO.height} test pattern to H.264, -threads ${threads}`, unit: 'ms', lowerIsBetter: true,
      method: 'ffmpeg -benchmark\'s real time of the transcode (start-up and opening excluded); libx264 veryfast to the null muxer',
      measure: transcodeTime(threads),
    })),
    { name: `guest ffmpeg RTSP listener ingesting a ${VIDEO.fullSeconds} s push: host CPU`, unit: '% of a core', lowerIsBetter: true,
      method: 'the receiving process\'s user+system time (/proc/PID/stat) over the first 80% of a real-time host push (-re, TCP), as a share of that wall time',
      measure: rtspIngest },
  ];
  return cases.map((c) => ({ ...c, group: 'macro' }));
}
