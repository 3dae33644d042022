// The mission, end to end: ZLMediaKit's MediaServer -d runs in Starling, a host ffmpeg pushes
// RTSP to the guest's [::]:554 over TCP and over UDP, and the HLS recording decodes to exactly
// the source's frames (checked by `starling verify-recording`); the running server also plays
// the stream back over HTTP (HLS, port 80) and RTSP. Needs a MediaServer build (its release folder) in STARLING_ZLM_DIR;
// without one the test is skipped, visibly.
import t from 'tap';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { scratchDir } from './helpers.js';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { CLI, cliArgs, starling } from './helpers.js';
import { GUEST_ZLM_DIR, makeSource, playlistOf, prepareRelease, push, startMediaServer, waitForPort } from '../src/main/rtsp-push.js';
import { compareFrames, decodeFrames, frameHashes, verifyRecording } from '../src/main/verify-recording.js';

const zlmDir = process.env.STARLING_ZLM_DIR;
/** Seconds each push lasts (STARLING_ZLM_SECONDS; the MediaServer issue asks for 60-second runs). */
const SECONDS = Number(process.env.STARLING_ZLM_SECONDS ?? 6);
const FRAMES = SECONDS * 25;
const skip = !zlmDir ? 'STARLING_ZLM_DIR is not set (a ZLMediaKit release folder with MediaServer)'
  : !existsSync(join(zlmDir, 'MediaServer')) ? `no MediaServer in ${zlmDir}` : false;

t.test('MediaServer -d records a host ffmpeg RTSP push frame for frame', { skip, timeout: 300_000 + SECONDS * 6_000 }, async (tt) => {
  const work = scratchDir('zlm');
  tt.teardown(() => rmSync(work, { recursive: true, force: true }));
  const release = prepareRelease(zlmDir!, work);
  const source = join(work, 'src.mp4');
  makeSource(source, SECONDS);
  const expected = frameHashes(source);
  tt.equal(expected.length, FRAMES, `the source has ${FRAMES} frames`);
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
      // The CLI itself proves the recording (the demo and the checks below call the same function).
      const cli = starling(['verify-recording', playlist, '--source', source]);
      tt.equal(cli.status, 0, `starling verify-recording passes the ${transport} recording: ${cli.stdout}${cli.stderr}`);
      tt.match(cli.stdout, new RegExp(`^frames decoded: ${FRAMES}$`, 'm'), `it decoded ${FRAMES} frames through the playlist`);
      tt.match(cli.stdout, /^frames: all identical to the source$/m, 'and found them identical');
      if (transport !== 'tcp') continue;
      // Playback from the running server. HLS over its HTTP port (80 in config.ini): the finished recording.
      const http = decodeFrames(`http://127.0.0.1/live/${transport}/hls.m3u8`, { timeoutMs: 60_000 });
      tt.equal(http.status, 0, `ffmpeg plays http://127.0.0.1/live/${transport}/hls.m3u8: ${http.stderr.slice(0, 400)}`);
      tt.same(http.hashes, expected, 'the HLS served over HTTP decodes to the source\'s frames');
      // RTSP playback needs a live stream: a push runs in the background while ffmpeg pulls 3 s.
      const live = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-re', '-i', source, '-c', 'copy', '-rtsp_transport', 'tcp', '-f', 'rtsp', 'rtsp://127.0.0.1:554/live/live'], { stdio: 'ignore' });
      const liveExit = new Promise<number | null>((resolve) => live.on('exit', resolve));
      await new Promise((r) => setTimeout(r, 1500));
      const rtsp = decodeFrames('rtsp://127.0.0.1:554/live/live', { inputArgs: ['-rtsp_transport', 'tcp', '-timeout', '10000000'], seconds: 3, timeoutMs: 30_000 });
      tt.equal(rtsp.status, 0, `ffmpeg plays rtsp://127.0.0.1:554/live/live: ${rtsp.stderr.slice(0, 400)}`);
      tt.ok(rtsp.hashes.length >= 25, `the RTSP pull decoded at least 25 frames (${rtsp.hashes.length})`);
      const first = expected.indexOf(rtsp.hashes[0]);
      tt.ok(first >= 0, 'the first pulled frame is one of the source\'s frames');
      const run = expected.slice(first, first + rtsp.hashes.length), problem = compareFrames(rtsp.hashes, run);
      tt.equal(problem, null, `the pulled frames are the source's frames ${first}..${first + rtsp.hashes.length - 1}, in order`
        + (problem ? ` (${problem}; source indices: ${rtsp.hashes.map((h) => expected.indexOf(h)).join(',')})` : ''));
      tt.equal(await liveExit, 0, 'the background push ends cleanly');
    }
    // Four concurrent pushes (different names). Over TCP: with four RTP-over-UDP streams a run
    // sometimes loses a few packets under Starling on a 2-core host (docs/PERFORMANCE.md).
    const names = ['multi0', 'multi1', 'multi2', 'multi3'];
    const statuses = await Promise.all(names.map((name) => new Promise<number | null>((resolve) => {
      spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-re', '-i', source, '-c', 'copy', '-rtsp_transport', 'tcp', '-f', 'rtsp', `rtsp://127.0.0.1:554/live/${name}`], { stdio: 'ignore' })
        .on('exit', resolve);
    })));
    tt.same(statuses, [0, 0, 0, 0], 'four concurrent pushes succeed');
    await new Promise((r) => setTimeout(r, 3000));
    for (const name of names) {
      const verdict = verifyRecording(playlistOf(release, name), source);
      tt.ok(verdict.ok, `concurrent stream ${name} decodes to the source's frames: ${verdict.lines.join('; ')}`);
    }
  } finally {
    server.kill('SIGTERM');
  }
  tt.equal(await exited, 0, `SIGTERM stops the supervisor and its worker cleanly (stderr: ${stderr.slice(-400)})`);
  tt.end();
});

t.test('the -d supervisor restarts a worker killed with SIGKILL inside the guest', { skip, timeout: 300_000 }, async (tt) => {
  const work = scratchDir('zlm-restart');
  tt.teardown(() => rmSync(work, { recursive: true, force: true }));
  const release = prepareRelease(zlmDir!, work);
  const ctl = join(work, 'ctl');
  mkdirSync(ctl);
  // The guest shell starts MediaServer -d as a user would, then kills the worker (the newest
  // MediaServer process) when told to, and finally stops the supervisor with SIGTERM.
  const script = [
    `cd ${GUEST_ZLM_DIR} && ./MediaServer -d > /dev/null 2>&1 &`,
    'while [ ! -f /ctl/kill ]; do sleep 0.2; done',
    'set -- $(pidof MediaServer); worker=0; for p in "$@"; do [ "$p" -gt "$worker" ] && worker=$p; done',
    // Where the worker's threads run: comm, then stat fields 39-41 (processor, rt_priority, policy).
    'echo "processes: $#"; (for t in /proc/$worker/task/*; do set -- $(sed "s/.*) //" $t/stat); echo "thread $(cat $t/comm): cpu ${37} prio ${38} policy ${39}"; done)',
    'kill -9 $worker',
    'while [ ! -f /ctl/stop ]; do sleep 0.2; done',
    'set -- $(pidof MediaServer); echo "processes after restart: $#"',
    'kill -TERM %1 2>/dev/null || kill -TERM $(pidof MediaServer | tr " " "\\n" | sort -n | head -1); wait; echo "stopped"',
  ].join('\n');
  const guest = spawn(process.execPath, [CLI, ...cliArgs(['run', '--cpus', '4', '--bind', `${release}:${GUEST_ZLM_DIR}`, '--bind', `${ctl}:/ctl`, '--', '/bin/sh', '-c', script])],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  guest.stdout.on('data', (d) => (stdout += d));
  const exited = new Promise<number | null>((resolve) => guest.on('exit', (code) => resolve(code)));
  tt.ok(await waitForPort(554, 60_000), 'the first worker listens on port 554');
  writeFileSync(join(ctl, 'kill'), '');
  let closed = false;
  for (let i = 0; i < 40 && !closed; i++) {
    await new Promise((r) => setTimeout(r, 250));
    closed = !(await waitForPort(554, 100));
  }
  tt.ok(closed, 'killing the worker closes port 554');
  tt.ok(await waitForPort(554, 60_000), 'a new worker listens on port 554 again');
  writeFileSync(join(ctl, 'stop'), '');
  tt.equal(await exited, 0, 'the guest shell ends');
  tt.match(stdout, /processes: 2\n/, 'supervisor and worker were running');
  const pollers = [...stdout.matchAll(/thread event poller (\d+): cpu (\d+) prio (\d+) policy (\d+)/g)];
  tt.equal(pollers.length, 4, 'one event poller per vCPU');
  tt.same(pollers.map((m) => m[2]).sort(), ['0', '1', '2', '3'], 'each poller runs on its own vCPU (stat field 39)');
  tt.ok(pollers.every((m) => m[3] === '99' && m[4] === '1'), 'every poller is SCHED_FIFO 99');
  tt.match(stdout, /processes after restart: 2\n/, 'the supervisor started one new worker');
  tt.match(stdout, /stopped/, 'SIGTERM to the supervisor stops it');
  tt.end();
});
