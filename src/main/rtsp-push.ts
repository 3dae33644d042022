// The mission's round trip, shared by `npm run demo` and the end-to-end test: MediaServer -d
// in Starling, a host ffmpeg pushing RTSP to the guest's :554, the HLS recording's frames.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const GUEST_ZLM_DIR = '/home/ZLMediaKit/release/linux/Release';
const CLI = fileURLToPath(new URL('./cli.js', import.meta.url));

/**
 * Copies a user's ZLMediaKit release folder to target (theirs stays untouched; debug symbols
 * and old logs are left behind) and sets [hls] segNum=0 in the copy's config.ini: HLS
 * recording mode, every segment kept and listed in the playlist.
 */
export function installRelease(zlmDir: string, target: string): void {
  cpSync(zlmDir, target, { recursive: true, filter: (src) => !src.endsWith('.debug') && !/\/log(\/|$)/.test(src.slice(zlmDir.length)) });
  const ini = join(target, 'config.ini');
  if (existsSync(ini)) writeFileSync(ini, readFileSync(ini, 'latin1').replace(/^segNum=.*$/m, 'segNum=0'), 'latin1');
}

/** A working copy of the release folder under into, for one run. */
export function prepareRelease(zlmDir: string, into: string): string {
  const release = join(into, 'Release');
  installRelease(zlmDir, release);
  return release;
}

/** A deterministic H.264 source (testsrc, one encoder thread) of seconds at 25 fps. */
export function makeSource(path: string, seconds: number): void {
  spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=640x360:rate=25', '-t', String(seconds),
    '-c:v', 'libx264', '-g', '50', '-pix_fmt', 'yuv420p', '-threads', '1', path]);
}

/** The `starling run` arguments of MediaServer -d, with the release folder bound where the guest expects it. */
export function mediaServerArgs(release: string): string[] {
  return ['run', '--cpus', '4', '--bind', `${release}:${GUEST_ZLM_DIR}`, '--cwd', GUEST_ZLM_DIR, '--', './MediaServer', '-d'];
}

export function startMediaServer(release: string, stderr: 'inherit' | 'pipe'): ChildProcess {
  return spawn(process.execPath, [CLI, ...mediaServerArgs(release)], { stdio: ['ignore', 'ignore', stderr] });
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port }, () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
  });
}

/** Waits until something listens on 127.0.0.1:port; false after timeoutMs. */
export async function waitForPort(port: number, timeoutMs: number): Promise<boolean> {
  for (const end = Date.now() + timeoutMs; Date.now() < end; ) {
    if (await portOpen(port)) return true;
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

/** Pushes source with -c copy to rtsp://127.0.0.1:554/live/NAME in real time. */
export function push(source: string, name: string, transport: 'tcp' | 'udp'): { status: number | null; stderr: string } {
  const r = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-re', '-i', source, '-c', 'copy', '-rtsp_transport', transport,
    '-f', 'rtsp', `rtsp://127.0.0.1:554/live/${name}`], { encoding: 'utf8', timeout: 600_000 });
  return { status: r.status, stderr: r.stderr };
}

/** Where MediaServer writes the playlist of stream NAME. */
export const playlistOf = (release: string, name: string) => join(release, 'www', 'live', name, 'hls.m3u8');
