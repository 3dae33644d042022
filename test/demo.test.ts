// `npm run demo` (without STARLING_ZLM_DIR): the default rootfs's ffmpeg, an RTSP server on the
// guest's [::]:554 under --cpus 2, records a 10-second push from the host's ffmpeg over
// RTSP/TCP and over RTSP/UDP; each recording must decode to exactly the source's frames, and
// a contact sheet (PNG) lies beside it.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './helpers.js';

const hasFfmpeg = spawnSync('ffmpeg', ['-hide_banner', '-version']).status === 0;

t.test('the RTSP demo records both transports frame for frame', { skip: hasFfmpeg ? false : 'the host has no ffmpeg (npm run setup installs it)' }, (tt) => {
  const env = { ...process.env };
  delete env.STARLING_ZLM_DIR;
  const r = spawnSync(process.execPath, [join(ROOT, 'dist', 'src', 'main', 'demo.js')], { encoding: 'utf8', env, timeout: 600_000 });
  const out = /^demo: results in (.+)$/m.exec(r.stdout)?.[1];
  if (out) tt.teardown(() => rmSync(out, { recursive: true, force: true }));
  for (const transport of ['tcp', 'udp']) {
    tt.match(r.stdout, new RegExp(`^demo: \\[${transport}\\] the guest listens on \\[::\\]:554`, 'm'), `${transport}: the guest's ffmpeg listened on [::]:554`);
    tt.match(r.stdout, new RegExp(`^demo: \\[${transport}\\] streaming: 4 s of 10 s pushed`, 'm'), `${transport}: progress while streaming`);
    tt.match(r.stdout, new RegExp(`^demo: \\[${transport}\\]   frames decoded: 250$`, 'm'), `${transport}: 250 frames recorded`);
    tt.match(r.stdout, new RegExp(`^demo: \\[${transport}\\]   frames: all identical to the source$`, 'm'), `${transport}: every frame equals the source's`);
    const sheet = new RegExp(`^demo: \\[${transport}\\] contact sheet: (.+)$`, 'm').exec(r.stdout)?.[1];
    tt.ok(sheet && existsSync(sheet) && readFileSync(sheet).subarray(1, 4).toString() === 'PNG', `${transport}: a PNG contact sheet beside the recording`);
  }
  tt.match(r.stdout, /^demo: VERDICT: PASS: /m, 'a clear verdict');
  tt.equal(r.status, 0, `exit status 0 (stderr: ${r.stderr.slice(0, 500)})`);
  tt.end();
});
