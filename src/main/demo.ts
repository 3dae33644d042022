// `npm run demo`: with STARLING_ZLM_DIR naming a ZLMediaKit release folder, the mission: run
// MediaServer -d in Starling, push a test stream from the host's ffmpeg to the guest's port
// 554, and check the HLS recording frame by frame. Without it, a tour of the default rootfs.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

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

const GUEST_DIR = '/home/ZLMediaKit/release/linux/Release';
const say = (line: string) => process.stdout.write(`demo: ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const portOpen = (port: number) => new Promise<boolean>((resolve) => {
  const s = connect({ host: '127.0.0.1', port }, () => { s.destroy(); resolve(true); });
  s.on('error', () => resolve(false));
});
function frameHashes(input: string): string[] {
  const r = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', input, '-map', '0:v', '-f', 'framemd5', '-'], { encoding: 'utf8' });
  return r.stdout.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(',').pop()!.trim());
}

/** The mission: MediaServer -d in Starling, a host ffmpeg push to the guest's :554, the recording checked. */
async function rtspDemo(zlmDir: string): Promise<number> {
  const work = mkdtempSync(join(tmpdir(), 'starling-demo-'));
  try {
    const release = join(work, 'Release');
    say(`copying ${zlmDir} (your folder stays untouched) and setting [hls] segNum=0`);
    cpSync(zlmDir, release, { recursive: true, filter: (src) => !src.endsWith('.debug') && !src.includes('/log') });
    const ini = join(release, 'config.ini');
    writeFileSync(ini, readFileSync(ini, 'latin1').replace(/^segNum=.*$/m, 'segNum=0'), 'latin1');
    const source = join(work, 'src.mp4');
    spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=size=640x360:rate=25', '-t', '10',
      '-c:v', 'libx264', '-g', '50', '-pix_fmt', 'yuv420p', '-threads', '1', source]);
    say(`starling run --cpus 2 --bind ${release}:${GUEST_DIR} --cwd ${GUEST_DIR} -- ./MediaServer -d`);
    const server = spawn(process.execPath, [CLI, 'run', '--cpus', '2', '--bind', `${release}:${GUEST_DIR}`, '--cwd', GUEST_DIR, '--', './MediaServer', '-d'],
      { stdio: ['ignore', 'ignore', 'inherit'] });
    const exited = new Promise<number | null>((resolve) => server.on('exit', resolve));
    const started = Date.now();
    let listening = false;
    for (let i = 0; i < 120 && !listening; i++) {
      await sleep(500);
      listening = await portOpen(554);
    }
    if (!listening) throw new Error('MediaServer did not start listening on port 554 within a minute');
    say(`the guest listens on [::]:554 after ${((Date.now() - started) / 1000).toFixed(1)} s; pushing 10 s of H.264 from the host's ffmpeg`);
    const push = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-re', '-i', source, '-c', 'copy', '-f', 'rtsp', 'rtsp://127.0.0.1:554/live/test'], { stdio: 'inherit' });
    await sleep(3000);
    server.kill('SIGTERM');
    const status = await exited;
    const playlist = join(release, 'www', 'live', 'test', 'hls.m3u8');
    const expected = frameHashes(source), recorded = existsSync(playlist) ? frameHashes(playlist) : [];
    const same = expected.length > 0 && JSON.stringify(expected) === JSON.stringify(recorded);
    say(`ffmpeg exited ${push.status}; MediaServer stopped with status ${status}`);
    say(`recorded ${recorded.length} frames of ${expected.length}; decoded frames ${same ? 'identical to the source' : 'DIFFER from the source'}`);
    return push.status === 0 && status === 0 && same ? 0 : 1;
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
