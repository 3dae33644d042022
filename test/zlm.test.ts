// The mission, end to end: ZLMediaKit's MediaServer -d runs in Starling, a host ffmpeg pushes
// RTSP to the guest's [::]:554 over TCP and over UDP, and the HLS recording decodes to exactly
// the source's frames. Needs a MediaServer build (its release folder) in STARLING_ZLM_DIR;
// without one the test is skipped, visibly.
import t from 'tap';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { scratchDir } from './helpers.js';
import { frameHashes, makeSource, playlistOf, prepareRelease, push, startMediaServer, waitForPort } from '../src/main/rtsp-push.js';

const zlmDir = process.env.STARLING_ZLM_DIR;
const skip = !zlmDir ? 'STARLING_ZLM_DIR is not set (a ZLMediaKit release folder with MediaServer)'
  : !existsSync(join(zlmDir, 'MediaServer')) ? `no MediaServer in ${zlmDir}` : false;

t.test('MediaServer -d records a host ffmpeg RTSP push frame for frame', { skip, timeout: 300_000 }, async (tt) => {
  const work = scratchDir('zlm');
  tt.teardown(() => rmSync(work, { recursive: true, force: true }));
  const release = prepareRelease(zlmDir!, work);
  const source = join(work, 'src.mp4');
  makeSource(source, 6);
  const expected = frameHashes(source);
  tt.equal(expected.length, 150, 'the source has 150 frames');
  const server = startMediaServer(release, 'pipe');
  let stderr = '';
  server.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => server.on('exit', (code) => resolve(code)));
  try {
    tt.ok(await waitForPort(554, 60_000), 'the guest listens on port 554');
    for (const transport of ['tcp', 'udp'] as const) {
      const pushed = push(source, transport, transport);
      tt.equal(pushed.status, 0, `ffmpeg pushes over ${transport}: ${pushed.stderr}`);
      await new Promise((r) => setTimeout(r, 3000));
      const playlist = playlistOf(release, transport);
      tt.ok(existsSync(playlist), `an HLS playlist was written for the ${transport} push`);
      tt.same(frameHashes(playlist), expected, `the ${transport} recording decodes to the source's frames`);
    }
  } finally {
    server.kill('SIGTERM');
  }
  tt.equal(await exited, 0, `SIGTERM stops the supervisor and its worker cleanly (stderr: ${stderr.slice(-400)})`);
  tt.end();
});
