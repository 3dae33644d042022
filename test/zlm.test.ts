// The mission, end to end: ZLMediaKit's MediaServer -d runs in Starling, a host ffmpeg pushes
// RTSP to the guest's [::]:554 over TCP and over UDP, and the HLS recording decodes to exactly
// the source's frames. Needs a MediaServer build (its release folder) in STARLING_ZLM_DIR;
// without one the test is skipped, visibly.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { CLI, scratchDir } from './helpers.js';

const zlmDir = process.env.STARLING_ZLM_DIR;
const skip = !zlmDir ? 'STARLING_ZLM_DIR is not set (a ZLMediaKit release folder with MediaServer)'
  : !existsSync(join(zlmDir, 'MediaServer')) ? `no MediaServer in ${zlmDir}` : false;
const GUEST_DIR = '/home/ZLMediaKit/release/linux/Release';

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port }, () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
  });
}

/** Decoded-frame MD5s of the video stream (ZLMediaKit adds AUD/SPS/PPS, so packets differ; frames must not). */
function frameHashes(input: string): string[] {
  const r = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', input, '-map', '0:v', '-f', 'framemd5', '-'], { encoding: 'utf8' });
  return r.stdout.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(',').pop()!.trim());
}

t.test('MediaServer -d records a host ffmpeg RTSP push frame for frame', { skip, timeout: 300_000 }, async (tt) => {
  const work = scratchDir('zlm');
  tt.teardown(() => rmSync(work, { recursive: true, force: true }));
  const release = join(work, 'Release');
  cpSync(zlmDir!, release, { recursive: true, filter: (src) => !src.endsWith('.debug') && !src.includes('/log') });
  // segNum=0: HLS recording mode (every segment kept and listed), as the issue asks.
  const ini = join(release, 'config.ini');
  writeFileSync(ini, readFileSync(ini, 'latin1').replace(/^segNum=.*$/m, 'segNum=0'), 'latin1');
  const source = join(work, 'src.mp4');
  spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=size=640x360:rate=25', '-t', '6',
    '-c:v', 'libx264', '-g', '50', '-pix_fmt', 'yuv420p', '-threads', '1', source]);
  const expected = frameHashes(source);
  tt.equal(expected.length, 150, 'the source has 150 frames');

  const server = spawn(process.execPath, [CLI, 'run', '--cpus', '2', '--bind', `${release}:${GUEST_DIR}`, '--cwd', GUEST_DIR, '--', './MediaServer', '-d'],
    { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  server.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => server.on('exit', (code) => resolve(code)));
  try {
    let listening = false;
    for (let i = 0; i < 120 && !listening; i++) {
      await new Promise((r) => setTimeout(r, 500));
      listening = await portOpen(554);
    }
    tt.ok(listening, 'the guest listens on port 554');
    for (const transport of ['tcp', 'udp']) {
      const push = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-re', '-i', source, '-c', 'copy',
        '-rtsp_transport', transport, '-f', 'rtsp', `rtsp://127.0.0.1:554/live/${transport}`], { encoding: 'utf8', timeout: 60_000 });
      tt.equal(push.status, 0, `ffmpeg pushes over ${transport}: ${push.stderr}`);
      await new Promise((r) => setTimeout(r, 3000));
      const playlist = join(release, 'www', 'live', transport, 'hls.m3u8');
      tt.ok(existsSync(playlist), `an HLS playlist was written for the ${transport} push`);
      tt.same(frameHashes(playlist), expected, `the ${transport} recording decodes to the source's frames`);
    }
  } finally {
    server.kill('SIGTERM');
  }
  tt.equal(await exited, 0, `SIGTERM stops the supervisor and its worker cleanly (stderr: ${stderr.slice(-400)})`);
  tt.end();
});
