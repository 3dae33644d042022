#!/usr/bin/env node
// The `starling` command.
import { parseRunArgs, RUN_HELP, UsageError } from './options.js';
import { runMachine } from './machine.js';

const HELP = `Usage: starling COMMAND [OPTIONS]

Commands:
  run [OPTIONS] [--] PROGRAM [ARGS...]   boot a machine and run PROGRAM in it

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
