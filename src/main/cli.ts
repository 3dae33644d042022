#!/usr/bin/env node
// The `starling` command.
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { DEFAULT_ROOTFS, parseRunArgs, RUN_HELP, UsageError } from './options.js';
import { installRelease } from './rtsp-push.js';
import { runMachine } from './machine.js';
import { parseVerifyArgs, verifyRecording, VerifyError } from './verify-recording.js';
import { isMonitorCommand, MONITOR_HELP } from './monitor/commands-help.js';

const HELP = `Usage: starling COMMAND [OPTIONS]

Commands:
  run [OPTIONS] [--] PROGRAM [ARGS...]   boot a machine and run PROGRAM in it
  rootfs add-zlm DIR [--rootfs ROOTFS]   install a ZLMediaKit release folder (with MediaServer) into
                                         the rootfs at /home/ZLMediaKit/release/linux/<type>/, with
                                         [hls] segNum=0 set in the installed config.ini
  bench [--only NAME] [--quick] [--out DIR]
                                         run the benchmark suite natively, under qemu-x86_64 and
                                         under Starling; writes bench/results/ (see bench --help)
  verify-recording PLAYLIST --source FILE
                                         check an HLS recording (e.g. MediaServer's hls.m3u8)
                                         frame by frame against the source video (host ffmpeg);
                                         exit 0 when every frame is present and identical, 1 if not
${MONITOR_HELP}

Run 'starling run --help' for the options of run.`;

/** Turns a guest wait status into a shell-style exit code. */
export function exitCodeOf(status: number): number {
  const signal = status & 0x7f;
  return signal === 0 ? (status >> 8) & 0xff : 128 + signal;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '-h' || command === '--help') {
    process.stdout.write(HELP + '\n');
    return command ? 0 : 2;
  }
  if (command === 'rootfs') return rootfsCommand(rest);
  if (command === 'verify-recording') return verifyCommand(rest);
  if (command === 'bench') return benchCommand(rest);
  // Loaded only when used: the client brings in the ws library, which `run` need not wait for.
  if (isMonitorCommand(command)) return (await import('./monitor-commands.js')).monitorCommand(command, rest);
  if (command !== 'run') throw new UsageError(`unknown command '${command}' (see starling --help)`);
  if (rest[0] === '-h' || rest[0] === '--help') {
    process.stdout.write(RUN_HELP + '\n');
    return 0;
  }
  const outcome = await runMachine(parseRunArgs(rest));
  if ('error' in outcome) {
    process.stderr.write(`starling: ${outcome.error}\n`);
    return outcome.exitCode;
  }
  return exitCodeOf(outcome.status);
}

/** `starling rootfs add-zlm DIR [--rootfs ROOTFS]`. */
function rootfsCommand(args: string[]): number {
  const [sub, dir, ...rest] = args;
  if (sub !== 'add-zlm' || !dir) throw new UsageError('usage: starling rootfs add-zlm DIR [--rootfs ROOTFS]');
  let rootfs = DEFAULT_ROOTFS;
  if (rest.length === 2 && rest[0] === '--rootfs') rootfs = resolve(rest[1]);
  else if (rest.length) throw new UsageError(`unexpected '${rest.join(' ')}' (usage: starling rootfs add-zlm DIR [--rootfs ROOTFS])`);
  const from = resolve(dir);
  if (!existsSync(join(from, 'MediaServer'))) throw new UsageError(`${from} has no MediaServer (give the release folder, e.g. .../release/linux/Release)`);
  if (!existsSync(rootfs)) throw new UsageError(`the rootfs ${rootfs} is missing: run 'npm run setup' to build it`);
  // The build type is the folder's own name in ZLMediaKit's layout (release/linux/Release).
  const type = /\/release\/linux\/[^/]+$/.test(from) ? basename(from) : 'Release';
  const guestDir = `/home/ZLMediaKit/release/linux/${type}`;
  installRelease(from, join(rootfs, guestDir));
  process.stdout.write(`installed ${from} at ${guestDir} in ${rootfs} (segNum=0)\n`
    + `run it with: starling run --cpus 4 --cwd ${guestDir} -- ./MediaServer -d\n`);
  return 0;
}

/** `starling bench [--only NAME] [--quick] [--out DIR]`: the suite lives in bench/, loaded only for this command. */
async function benchCommand(args: string[]): Promise<number> {
  const { runBench, BenchUsageError } = await import('../../bench/suite.js');
  const { BenchError } = await import('../../bench/case.js');
  try {
    return await runBench(args);
  } catch (e) {
    if (e instanceof BenchUsageError) throw new UsageError(e.message);
    if (e instanceof BenchError) {
      process.stderr.write(`starling: bench: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

/** `starling verify-recording PLAYLIST --source FILE`. */
function verifyCommand(args: string[]): number {
  const parsed = parseVerifyArgs(args);
  if (typeof parsed === 'string') throw new UsageError(parsed);
  try {
    const verdict = verifyRecording(resolve(parsed.playlist), resolve(parsed.source));
    process.stdout.write(verdict.lines.join('\n') + '\n');
    return verdict.ok ? 0 : 1;
  } catch (e) {
    if (e instanceof VerifyError) throw new UsageError(e.message);
    throw e;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (e instanceof UsageError) {
      process.stderr.write(`starling: ${e.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`starling: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
    if (process.env.STARLING_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
    process.exit(125);
  },
);
