// `npm run demo`: the default rootfs's ffmpeg as an RTSP server on the guest's [::]:554,
// recording pushes from the host's ffmpeg over RTSP/TCP and RTSP/UDP (ffmpeg-rtsp-demo.ts).
// With STARLING_ZLM_DIR naming a ZLMediaKit release folder: MediaServer -d in Starling instead,
// a push to its port 554, and its HLS recording checked frame by frame.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ffmpegRtspDemo } from './ffmpeg-rtsp-demo.js';
import { makeSource, mediaServerArgs, playlistOf, prepareRelease, push, startMediaServer, waitForPort } from './rtsp-push.js';
import { verifyRecording } from './verify-recording.js';

const say = (line: string) => process.stdout.write(`demo: ${line}\n`);

/** The mission: MediaServer -d in Starling, a host ffmpeg push to the guest's :554, the recording checked. */
async function rtspDemo(zlmDir: string): Promise<number> {
  const work = mkdtempSync(join(tmpdir(), 'starling-demo-'));
  try {
    say(`copying ${zlmDir} (your folder stays untouched) and setting [hls] segNum=0`);
    const release = prepareRelease(zlmDir, work);
    const source = join(work, 'src.mp4');
    makeSource(source, 10);
    say(`starling ${mediaServerArgs(release).join(' ')}`);
    const server = startMediaServer(release, 'inherit');
    const exited = new Promise<number | null>((resolve) => server.on('exit', resolve));
    const started = Date.now();
    if (!(await waitForPort(554, 60_000))) {
      server.kill('SIGTERM');
      throw new Error('MediaServer did not start listening on port 554 within a minute');
    }
    say(`the guest listens on [::]:554 after ${((Date.now() - started) / 1000).toFixed(1)} s; pushing 10 s of H.264 from the host's ffmpeg`);
    const pushed = push(source, 'test', 'udp');
    await new Promise((r) => setTimeout(r, 3000));
    server.kill('SIGTERM');
    const status = await exited;
    say(`ffmpeg exited ${pushed.status}; MediaServer stopped with status ${status}`);
    const playlist = playlistOf(release, 'test');
    say(`starling verify-recording ${playlist} --source ${source}`);
    const verdict = verifyRecording(playlist, source);
    for (const line of verdict.lines) say(`  ${line}`);
    return pushed.status === 0 && status === 0 && verdict.ok ? 0 : 1;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const zlmDir = process.env.STARLING_ZLM_DIR;
(zlmDir ? rtspDemo(zlmDir) : ffmpegRtspDemo()).then((code) => process.exit(code), (e: unknown) => {
  process.stderr.write(`demo: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
