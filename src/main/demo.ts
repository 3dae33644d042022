// `npm run demo`: with STARLING_ZLM_DIR naming a ZLMediaKit release folder, the mission: run
// MediaServer -d in Starling, push a test stream from the host's ffmpeg to the guest's port
// 554, and check the HLS recording frame by frame. Without it, a tour of the default rootfs.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeSource, mediaServerArgs, playlistOf, prepareRelease, push, startMediaServer, waitForPort } from './rtsp-push.js';
import { verifyRecording } from './verify-recording.js';

const CLI = fileURLToPath(new URL('./cli.js', import.meta.url));

const RUNS: Array<{ title: string; args: string[] }> = [
  { title: 'a static busybox shell builtin', args: ['--', '/bin/sh', '-c', 'echo "Hello from a Starling guest"'] },
  { title: 'uname -a (busybox)', args: ['--', 'uname', '-a'] },
  { title: 'ls / (the rootfs jail)', args: ['--', 'ls', '/'] },
  { title: 'the vCPUs the guest sees', args: ['--cpus', '2', '--', 'cat', '/sys/devices/system/cpu/online'] },
  { title: 'sha256sum /etc/passwd', args: ['--', 'sha256sum', '/etc/passwd'] },
  { title: 'ffmpeg -version (dynamic glibc, 100+ shared libraries)', args: ['--', 'ffmpeg', '-hide_banner', '-version'] },
];

function tour(): number {
  let failures = 0;
  for (const run of RUNS) {
  process.stdout.write(`\n== starling run ${run.args.join(' ')}   # ${run.title}\n`);
  const started = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [CLI, 'run', ...run.args], { stdio: 'inherit' });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  process.stdout.write(`-- exit status ${r.status}, ${ms.toFixed(0)} ms\n`);
  if (r.status !== 0) failures++;
  }
  process.stdout.write('\nSet STARLING_ZLM_DIR to a ZLMediaKit release folder (with MediaServer) for the RTSP push demo.\n');
  return failures;
}

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
if (zlmDir) {
  rtspDemo(zlmDir).then((code) => process.exit(code), (e: unknown) => {
    process.stderr.write(`demo: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
} else {
  process.exit(tour() ? 1 : 0);
}
