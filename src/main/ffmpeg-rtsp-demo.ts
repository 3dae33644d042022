// The default `npm run demo`: the default rootfs's own ffmpeg, under `starling run --cpus 2`,
// is an RTSP server in listen mode on the guest's [::]:554, recording to HLS with every
// segment kept under /www/live/test/ (a host directory bound there, so the recording is out
// of the guest the moment it is written). The host's ffmpeg pushes a 10-second test pattern
// over RTSP/TCP (interleaved) and then over RTSP/UDP (RTP to the ports negotiated in the
// exchange); each recording is proven frame by frame against the source (verify-recording.ts)
// and gets a contact sheet, a PNG grid of one frame a second, beside it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeSource } from './rtsp-push.js';
import { verifyRecording } from './verify-recording.js';

const CLI = fileURLToPath(new URL('./cli.js', import.meta.url));
const SECONDS = 10;
const GUEST_PORT = 554;
type Transport = 'tcp' | 'udp';

const say = (line: string) => process.stdout.write(`demo: ${line}\n`);

/** Whether this process may listen on host port port on every address (taken, or below 1024 without root: no). */
function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '::' }, () => server.close(() => resolve(true)));
  });
}

async function freePort(): Promise<number> {
  const server = createServer();
  const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Whether a TCP socket listens on host port port, from /proc/net/tcp{,6}: a test connection
 * would be taken by ffmpeg's listen mode as its one client.
 */
function listening(port: number): boolean {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  return ['/proc/net/tcp', '/proc/net/tcp6'].some((file) =>
    readFileSync(file, 'latin1').split('\n').some((line) => {
      const f = line.trim().split(/\s+/);
      return f[1]?.endsWith(hex) && f[3] === '0A';
    }));
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))));
}

async function waitUntil(test: () => boolean, timeoutMs: number): Promise<boolean> {
  for (const end = Date.now() + timeoutMs; Date.now() < end; await new Promise((r) => setTimeout(r, 200))) if (test()) return true;
  return false;
}

/** The host's ffmpeg pushes source in real time, with a progress line every two seconds of stream. */
function pushWithProgress(source: string, url: string, transport: Transport, tag: string): Promise<number | null> {
  const ffmpeg = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostats', '-progress', 'pipe:1', '-re', '-i', source, '-c', 'copy',
    '-rtsp_transport', transport, '-f', 'rtsp', url], { stdio: ['ignore', 'pipe', 'inherit'] });
  let reported = 0;
  ffmpeg.stdout!.on('data', (chunk: Buffer) => {
    for (const m of chunk.toString().matchAll(/out_time_us=(\d+)/g)) {
      const s = Number(m[1]) / 1e6;
      if (s >= reported + 2) {
        reported = Math.floor(s);
        say(`${tag} streaming: ${reported} s of ${SECONDS} s pushed`);
      }
    }
  });
  return exitOf(ffmpeg);
}

/** A PNG grid of one recorded frame a second (ffmpeg's tile filter). */
function contactSheet(playlist: string, png: string): boolean {
  const r = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-i', playlist,
    '-vf', "select='not(mod(n\\,25))',scale=256:-1,tile=5x2:padding=4:margin=4", '-frames:v', '1', png], { encoding: 'utf8' });
  return r.status === 0 && existsSync(png);
}

/** One push over transport: guest server up, host push, guest done, recording verified. */
async function record(out: string, source: string, hostPort: number, transport: Transport): Promise<boolean> {
  const tag = `[${transport}]`;
  const www = join(out, transport);
  mkdirSync(join(www, 'live', 'test'), { recursive: true });
  const publish = hostPort === GUEST_PORT ? [] : ['--publish', `${GUEST_PORT}:${hostPort}`];
  // The depacketized stream has no timestamps until the first RTCP report; setts numbers the
  // frames at 25 fps so the HLS muxer can place them (the pictures are copied untouched).
  const args = ['run', '--cpus', '2', ...publish, '--bind', `${www}:/www`, '--', 'ffmpeg', '-hide_banner', '-loglevel', 'error',
    '-rtsp_flags', 'listen', '-i', `rtsp://[::]:${GUEST_PORT}/live/test`, '-c', 'copy', '-bsf:v', 'setts=ts=N*3600:duration=3600',
    '-f', 'hls', '-hls_time', '2', '-hls_list_size', '0', '-hls_segment_filename', '/www/live/test/segment-%03d.ts', '/www/live/test/index.m3u8'];
  say(`${tag} starling ${args.join(' ')}`);
  const started = Date.now();
  const guest = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'inherit', 'inherit'] });
  const guestExit = exitOf(guest);
  let guestEnded = false;
  void guestExit.then(() => (guestEnded = true));
  if (!(await waitUntil(() => guestEnded || listening(hostPort), 120_000)) || guestEnded) {
    guest.kill('SIGTERM');
    say(`${tag} the guest's ffmpeg did not start listening on [::]:${GUEST_PORT}`);
    return false;
  }
  say(`${tag} the guest listens on [::]:${GUEST_PORT} (host port ${hostPort}) after ${((Date.now() - started) / 1000).toFixed(1)} s`);
  // Over TCP the push comes from 127.0.0.1 (the guest sees ::ffff:127.0.0.1); over UDP from ::1,
  // because ffmpeg's listen mode sends RTP to an address of its listener's family.
  const url = `rtsp://${transport === 'tcp' ? '127.0.0.1' : '[::1]'}:${hostPort}/live/test`;
  say(`${tag} host ffmpeg -re -i source.mp4 -c copy -rtsp_transport ${transport} -f rtsp ${url}`);
  const pushed = await pushWithProgress(source, url, transport, tag);
  const timer = setTimeout(() => guest.kill('SIGTERM'), 60_000);
  const guestStatus = await guestExit;
  clearTimeout(timer);
  say(`${tag} host ffmpeg exited ${pushed}; the guest's ffmpeg exited ${guestStatus}`);
  const dir = join(www, 'live', 'test');
  const playlist = join(dir, 'index.m3u8');
  if (!existsSync(playlist)) {
    say(`${tag} no recording: ${playlist} is missing`);
    return false;
  }
  say(`${tag} recording: ${playlist} and ${readdirSync(dir).filter((f) => f.endsWith('.ts')).length} segments`);
  say(`${tag} starling verify-recording ${playlist} --source ${source}`);
  const verdict = verifyRecording(playlist, source);
  for (const line of verdict.lines) say(`${tag}   ${line}`);
  const sheet = join(dir, 'contact-sheet.png');
  say(contactSheet(playlist, sheet) ? `${tag} contact sheet: ${sheet}` : `${tag} the contact sheet could not be made`);
  return pushed === 0 && guestStatus === 0 && verdict.ok;
}

export async function ffmpegRtspDemo(): Promise<number> {
  const out = mkdtempSync(join(tmpdir(), 'starling-demo-'));
  const source = join(out, 'source.mp4');
  makeSource(source, SECONDS);
  if (!existsSync(source)) throw new Error("the host's ffmpeg could not make the test pattern (is ffmpeg with libx264 installed?)");
  say(`a ${SECONDS} s test pattern (640x360, 25 fps, H.264): ${source}`);
  let hostPort = GUEST_PORT;
  if (!(await canListen(GUEST_PORT))) {
    hostPort = await freePort();
    say(`host port ${GUEST_PORT} is taken or needs root: the guest's port ${GUEST_PORT} is published as host port ${hostPort}`);
  }
  const results: Array<[Transport, boolean]> = [];
  for (const transport of ['tcp', 'udp'] as const) results.push([transport, await record(out, source, hostPort, transport)]);
  const passed = results.every(([, ok]) => ok);
  say(`results in ${out}`);
  say(`VERDICT: ${passed ? 'PASS' : 'FAIL'}: ${results.map(([t, ok]) => `RTSP/${t.toUpperCase()} ${ok ? 'recorded every frame of the source, identical' : 'did not match the source'}`).join('; ')}`);
  return passed ? 0 : 1;
}
