// `starling verify-recording PLAYLIST --source FILE`: checks an HLS recording frame by frame
// against the video that was pushed. The demo and the ZLMediaKit test use the same code, so
// the command is what proves a recording. Frames are compared as decoded pictures (ffmpeg's
// framemd5): ZLMediaKit inserts AUD/SPS/PPS NAL units, so packet bytes differ while frames must not.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';

export class VerifyError extends Error {}

export interface Decoded {
  /** One MD5 per decoded video frame, in presentation order. */
  hashes: string[];
  status: number | null;
  stderr: string;
}

/**
 * Decodes input's video with host ffmpeg to one MD5 per frame. input may be a file or a URL;
 * inputArgs go before -i (e.g. -rtsp_transport tcp), seconds bounds the decode (-t). Every
 * decoded frame is hashed once (-fps_mode passthrough: ffmpeg neither drops nor duplicates frames
 * to fit a frame rate, which would hide a gap or mask a repeat).
 */
export function decodeFrames(input: string, options: { inputArgs?: string[]; seconds?: number; timeoutMs?: number } = {}): Decoded {
  const r = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', ...(options.inputArgs ?? []), '-i', input, '-map', '0:v',
    ...(options.seconds !== undefined ? ['-t', String(options.seconds)] : []), '-fps_mode', 'passthrough', '-f', 'framemd5', '-'],
  { encoding: 'utf8', timeout: options.timeoutMs ?? 120_000, maxBuffer: 64 << 20 });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') throw new VerifyError('ffmpeg is not installed on the host (it decodes the frames)');
  const hashes = (r.stdout ?? '').split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(',').pop()!.trim());
  return { hashes, status: r.status, stderr: r.stderr ?? '' };
}

/** Decoded-frame MD5s of a file's video; [] when the file is missing. */
export function frameHashes(input: string): string[] {
  return existsSync(input) ? decodeFrames(input).hashes : [];
}

export interface Verdict {
  segments: number;
  /** Sum of the #EXTINF durations, seconds. */
  duration: number;
  decoded: number;
  sourceFrames: number;
  ok: boolean;
  /** One line per fact, as the command prints them. */
  lines: string[];
}

/** Compares two frame-hash lists: null when equal, else what is wrong. */
export function compareFrames(recorded: string[], source: string[]): string | null {
  const n = Math.min(recorded.length, source.length);
  for (let i = 0; i < n; i++) if (recorded[i] !== source[i]) return `frame ${i} differs from the source's frame ${i}`;
  if (recorded.length < source.length) return `${source.length - recorded.length} frames missing (the recording ends after frame ${recorded.length - 1})`;
  if (recorded.length > source.length) return `${recorded.length - source.length} frames more than the source`;
  return null;
}

function readInput(path: string, what: string): string {
  if (!existsSync(path)) throw new VerifyError(`${what} ${path}: No such file or directory`);
  if (!statSync(path).isFile()) throw new VerifyError(`${what} ${path}: not a file`);
  return readFileSync(path, 'latin1');
}

/** Verifies the HLS playlist against source; throws VerifyError for bad input. */
export function verifyRecording(playlist: string, source: string): Verdict {
  const text = readInput(playlist, 'playlist');
  if (!text.startsWith('#EXTM3U')) throw new VerifyError(`${playlist} is not an HLS playlist (no #EXTM3U header)`);
  readInput(source, 'source');
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  const segments = lines.filter((l) => l && !l.startsWith('#')).length;
  const duration = lines.filter((l) => l.startsWith('#EXTINF:')).reduce((sum, l) => sum + (parseFloat(l.slice(8)) || 0), 0);
  const src = decodeFrames(source);
  if (src.hashes.length === 0) throw new VerifyError(`source ${source}: no video frames decoded${src.stderr ? ` (${src.stderr.trim().split('\n')[0]})` : ''}`);
  const rec = segments ? decodeFrames(playlist) : { hashes: [], status: 0, stderr: '' };
  const problem = compareFrames(rec.hashes, src.hashes);
  return {
    segments, duration, decoded: rec.hashes.length, sourceFrames: src.hashes.length, ok: problem === null,
    lines: [
      `segments: ${segments}`,
      `duration: ${duration.toFixed(3)} s`,
      `frames decoded: ${rec.hashes.length}`,
      `source frames: ${src.hashes.length}`,
      problem === null ? 'frames: all identical to the source' : `frames: MISMATCH: ${problem}`,
    ],
  };
}

export const VERIFY_USAGE = 'usage: starling verify-recording PLAYLIST --source FILE';

/** Parses the command's arguments: [playlist, source], or null on a usage error. */
export function parseVerifyArgs(args: string[]): { playlist: string; source: string } | string {
  let playlist: string | undefined, source: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--source') {
      if (i + 1 >= args.length) return `--source needs a FILE (${VERIFY_USAGE})`;
      source = args[++i];
    } else if (a.startsWith('--source=')) source = a.slice(9);
    else if (a.startsWith('-') && a !== '-') return `unknown option '${a}' (${VERIFY_USAGE})`;
    else if (playlist === undefined) playlist = a;
    else return `unexpected '${a}' (${VERIFY_USAGE})`;
  }
  if (playlist === undefined) return `no PLAYLIST given (${VERIFY_USAGE})`;
  if (source === undefined) return `--source FILE is missing (${VERIFY_USAGE})`;
  return { playlist, source };
}
