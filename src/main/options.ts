// Parsing of `starling run` options into a machine configuration. Errors are UsageError:
// the CLI prints their message as one line and exits 2.
import { availableParallelism } from 'node:os';
import { statSync } from 'node:fs';
import { resolve, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MAX_CPUS, MAX_POOL_BYTES } from '../shared-mem/layout.js';
import type { Accel, MachineConfig } from './machine.js';

const ACCELS: readonly Accel[] = ['unicorn', 'kvm', 'auto'];
import { hostPathToBytes } from '../kernel/host/libc.js';
import type { PublishedPort, Transport } from '../netbridge/port-map.js';
import { NAME_PATTERN } from './monitor/runtime-dir.js';

export class UsageError extends Error {}

export const DEFAULT_ROOTFS = fileURLToPath(new URL('../../../rootfs/build', import.meta.url));
const DEFAULT_MEM = 2 * 1024 ** 3;
const DEFAULT_MAX_PROCS = 1024;
const MIN_MEM = 64 * 1024 ** 2;
const DEFAULT_ENV = ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOME=/root', 'USER=root'];

export const RUN_HELP = `Usage: starling run [OPTIONS] [--] PROGRAM [ARGS...]

Boots a machine and runs PROGRAM in it: a path inside the guest, or a name looked up in the
guest's PATH. The guest's stdin, stdout and stderr are the terminal's (see --console). starling
exits with the guest's exit status, or 128+N when the guest was killed by signal N.

Options:
  --cpus N               virtual CPUs, one worker thread each (default: the host's cores, at most ${MAX_CPUS})
  --mem SIZE             guest memory, e.g. 512M or 2G (default 2G, at most 4G)
  --rootfs DIR           host directory that is the guest's root (default: the built rootfs,
                         ${DEFAULT_ROOTFS})
  --bind HOST:GUEST[:ro] mount a host file or directory at GUEST inside the guest; :ro makes it
                         read-only (repeatable)
  --cwd DIR              the guest's working directory (default /)
  --env K=V              set a variable in the guest's environment (repeatable); the default
                         environment is PATH, HOME=/root, USER=root and the host's TERM
  --max-procs N          most guest processes alive at once; fork beyond it fails with EAGAIN
                         (default ${DEFAULT_MAX_PROCS})
  --publish GUEST:HOST[/tcp|/udp]
                         the guest's port GUEST is the host's port HOST (TCP and UDP unless
                         one is named; repeatable); other guest ports are the same host port
  --listen-all           guest listeners take connections on every host interface (default:
                         from the host's loopback only)
  --console stdio|pty    the guest's console: starling's own stdin, stdout and stderr (stdio, the
                         default), or a pseudo-terminal starling owns (pty), shown on starling's
                         terminal and open to 'starling console NAME' from elsewhere
  --strace[=FILE]        write one line per syscall, as strace -f does, to stderr or FILE
  --name NAME            the machine's name for starling ps/top/cp/kill/stop (default: the
                         program's name and a random suffix)
  --monitor PORT         serve the monitor (web page and protocol, docs/MONITOR.md) on
                         127.0.0.1:PORT and print its address (default: a free port, printed
                         only when stderr is a terminal)
  --event-log FILE       write the machine's event log (JSONL) to FILE (default:
                         NAME.events.jsonl in the runtime directory)
  --accel unicorn|kvm|auto
                         how guest code runs: unicorn (the default) emulates it; kvm runs it on
                         hardware vCPUs through /dev/kvm; auto picks kvm when /dev/kvm works,
                         else unicorn, and says which and why on stderr
  --exit-stats           with KVM: when the machine ends, print its exits to the host by cause
                         (syscall, page fault, preemption, ...) and the time around them, and
                         the syscalls served without one, per vCPU, on stderr
  -h, --help             show this help

Exit status: the guest's; 2 for a usage error, 125 when the machine cannot start, 126 when
PROGRAM cannot be executed, 127 when it is not found.`;

export function parseSize(text: string): number {
  const m = /^(\d+)([KMG]?)$/i.exec(text);
  if (!m) throw new UsageError(`--mem: '${text}' is not a size (examples: 512M, 2G)`);
  const unit = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[m[2].toUpperCase() as '' | 'K' | 'M' | 'G'];
  return Number(m[1]) * unit;
}

export function parseRunArgs(argv: string[]): MachineConfig {
  let cpus = Math.min(availableParallelism(), MAX_CPUS);
  let memBytes = DEFAULT_MEM;
  let rootfs = DEFAULT_ROOTFS;
  let cwd = '/';
  let maxProcs = DEFAULT_MAX_PROCS;
  let strace: { file: string | null } | null = null;
  const monitor: MachineConfig['monitor'] = { name: null, port: null, eventLog: null };
  let accel: Accel = 'unicorn';
  let consoleMode: MachineConfig['console'] = 'stdio';
  let exitStats = false;
  const binds: MachineConfig['boot']['binds'] = [];
  const publish: PublishedPort[] = [];
  let listenAll = false;
  const env = [...DEFAULT_ENV, `TERM=${process.env.TERM ?? 'dumb'}`];
  let i = 0;
  const value = (name: string, inline: string | undefined): string => {
    if (inline !== undefined) return inline;
    if (i + 1 >= argv.length) throw new UsageError(`${name} needs a value`);
    return argv[++i];
  };
  for (; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      i++;
      break;
    }
    if (!arg.startsWith('-')) break;
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const inline = eq > 0 ? arg.slice(eq + 1) : undefined;
    switch (name) {
      case '--cpus': {
        const v = value(name, inline);
        cpus = Number(v);
        if (!/^\d+$/.test(v) || cpus < 1 || cpus > MAX_CPUS) throw new UsageError(`--cpus: '${v}' is not a number from 1 to ${MAX_CPUS}`);
        break;
      }
      case '--mem':
        memBytes = parseSize(value(name, inline));
        if (memBytes < MIN_MEM || memBytes > MAX_POOL_BYTES) throw new UsageError('--mem: the size must be from 64M to 4G');
        break;
      case '--rootfs':
        rootfs = resolve(value(name, inline));
        break;
      case '--bind':
        binds.push(parseBind(value(name, inline)));
        break;
      case '--cwd':
        cwd = value(name, inline);
        if (!cwd.startsWith('/')) throw new UsageError(`--cwd: '${cwd}' is not an absolute guest path`);
        break;
      case '--env': {
        const v = value(name, inline);
        if (!v.includes('=') || v.startsWith('=')) throw new UsageError(`--env: '${v}' is not of the form K=V`);
        const key = v.slice(0, v.indexOf('=') + 1);
        const at = env.findIndex((e) => e.startsWith(key));
        if (at >= 0) env[at] = v;
        else env.push(v);
        break;
      }
      case '--max-procs': {
        const v = value(name, inline);
        maxProcs = Number(v);
        if (!/^\d+$/.test(v) || maxProcs < 1) throw new UsageError(`--max-procs: '${v}' is not a positive number`);
        break;
      }
      case '--publish':
        publish.push(...parsePublish(value(name, inline), publish));
        break;
      case '--listen-all':
        listenAll = true;
        break;
      case '--accel': {
        const v = value(name, inline);
        if (!ACCELS.includes(v as Accel)) throw new UsageError(`--accel: '${v}' is not unicorn, kvm or auto`);
        accel = v as Accel;
        break;
      }
      case '--console': {
        const v = value(name, inline);
        if (v !== 'stdio' && v !== 'pty') throw new UsageError(`--console: '${v}' is not stdio or pty`);
        consoleMode = v;
        break;
      }
      case '--exit-stats':
        exitStats = true;
        break;
      case '--strace':
        strace = { file: inline ? resolve(inline) : null };
        break;
      case '--name':
        monitor.name = value(name, inline);
        if (!NAME_PATTERN.test(monitor.name)) throw new UsageError(`--name: '${monitor.name}' is not a name (letters, digits, _ . -; at most 63)`);
        break;
      case '--monitor': {
        const v = value(name, inline);
        monitor.port = Number(v);
        if (!/^\d+$/.test(v) || monitor.port < 1 || monitor.port > 65535) throw new UsageError(`--monitor: '${v}' is not a port number`);
        break;
      }
      case '--event-log':
        monitor.eventLog = resolve(value(name, inline));
        break;
      default:
        throw new UsageError(`unknown option '${arg}' (see starling run --help)`);
    }
  }
  if (exitStats && accel === 'unicorn') throw new UsageError('--exit-stats counts KVM exits: use it with --accel kvm or auto');
  if (i >= argv.length) throw new UsageError('no PROGRAM given (see starling run --help)');
  if (!isDirectory(rootfs)) {
    throw new UsageError(rootfs === DEFAULT_ROOTFS
      ? `the default rootfs ${rootfs} is missing: run 'npm run setup' to build it`
      : `--rootfs: ${rootfs} is not a directory`);
  }
  const [program, ...args] = argv.slice(i).map(hostPathToBytes);
  return {
    cpus,
    memBytes,
    maxProcs,
    monitor,
    accel,
    console: consoleMode,
    exitStats,
    boot: { rootfs, binds, cwd: posix.normalize(hostPathToBytes(cwd)), program, args, env: env.map(hostPathToBytes), strace, network: { publish, listenAll } },
  };
}

/** --publish GUEST:HOST[/tcp|/udp]: one entry per transport, each guest port published once. */
function parsePublish(spec: string, earlier: readonly PublishedPort[]): PublishedPort[] {
  const m = /^(\d+):(\d+)(?:\/(tcp|udp))?$/.exec(spec);
  const guest = Number(m?.[1]), host = Number(m?.[2]);
  if (!m || guest < 1 || guest > 65535 || host < 1 || host > 65535) {
    throw new UsageError(`--publish: '${spec}' is not GUEST:HOST[/tcp|/udp] with ports from 1 to 65535`);
  }
  const transports: Transport[] = m[3] ? [m[3] as Transport] : ['tcp', 'udp'];
  for (const transport of transports) {
    if (earlier.some((p) => p.transport === transport && p.guest === guest)) throw new UsageError(`--publish: guest port ${guest}/${transport} is published twice`);
    if (earlier.some((p) => p.transport === transport && p.host === host)) throw new UsageError(`--publish: host port ${host}/${transport} is published twice`);
  }
  return transports.map((transport) => ({ guest, host, transport }));
}

function parseBind(spec: string): { host: string; guest: string; readOnly: boolean } {
  const parts = spec.split(':');
  const readOnly = parts.length === 3 && parts[2] === 'ro';
  if (parts.length < 2 || parts.length > 3 || (parts.length === 3 && !readOnly) || !parts[0] || !parts[1]) {
    throw new UsageError(`--bind: '${spec}' is not HOST:GUEST or HOST:GUEST:ro`);
  }
  const host = resolve(parts[0]);
  try {
    statSync(host);
  } catch {
    throw new UsageError(`--bind: ${host} does not exist`);
  }
  if (!parts[1].startsWith('/')) throw new UsageError(`--bind: guest path '${parts[1]}' is not absolute`);
  return { host, guest: posix.normalize(parts[1]), readOnly };
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
