// The monitor's wire protocol (docs/MONITOR.md): JSON text messages over one WebSocket, plus
// binary frames for file contents. Every request carries an id; its reply carries the same id
// and ok. A binary frame is the request's id (uint32, little-endian) followed by bytes: file
// contents of a copy, or what the console prints and what is typed at it.
import type { ProcessSnapshot } from '../../cpu-worker/monitor-agent.js';
import { constants as osConstants } from 'node:os';
import type { MachineEntry } from './runtime-dir.js';

export type ClientMessage =
  | { id: number; type: 'hello'; token: string }
  | { id: number; type: 'machines' }
  | { id: number; type: 'processes' }
  | { id: number; type: 'stats' }
  | { id: number; type: 'subscribe'; intervalMs?: number }
  | { id: number; type: 'unsubscribe' }
  | { id: number; type: 'signal'; pid: number; signal: number | string }
  | { id: number; type: 'stop' }
  | { id: number; type: 'copy-out'; path: string }
  | { id: number; type: 'copy-in'; path: string; name: string }
  | { id: number; type: 'entry' } & CopyEntry
  | { id: number; type: 'end' }
  | { id: number; type: 'console' }
  | { id: number; type: 'console-resize'; cols: number; rows: number }
  | { id: number; type: 'console-detach' };

/** One item of a copied tree: path is relative to the copy's root ('' for the root itself). */
export type CopyEntry =
  | { path: string; kind: 'file'; mode: number; size: number }
  | { path: string; kind: 'dir'; mode: number }
  | { path: string; kind: 'symlink'; target: string }
  | { path: string; kind: 'skipped'; reason: string };

export interface CpuStats {
  cpu: number;
  /** Share of the interval the vCPU executed guest code, 0..1. */
  utilisation: number;
  syscallsPerSec: number;
  switchesPerSec: number;
  trapsPerSec: number;
  /** Totals since boot. */
  busyMs: number;
  syscalls: number;
  switches: number;
  traps: number;
  /** The thread executing there at the sample, or null. */
  tid: number | null;
}

export interface SyscallStats {
  name: string;
  count: number;
  perSec: number;
}

export type ThreadView = ProcessSnapshot['threads'][number] & { cpuPercent: number };
export type ProcessView = Omit<ProcessSnapshot, 'threads'> & { threads: ThreadView[] };

export interface Stats {
  /** The interval the rates are over, ms. */
  intervalMs: number;
  uptimeMs: number;
  cpus: CpuStats[];
  /** Most frequent (per second, then in total) first. */
  syscalls: SyscallStats[];
  processes: ProcessView[];
}

export interface MachineInfo {
  name: string;
  pid: number;
  cpus: number;
  program: string;
  startedAt: number;
}

export type ServerMessage =
  | ({ id: number; ok: true } & Record<string, unknown>)
  | { id: number; ok: false; error: string; errno?: string }
  | ({ id: number; type: 'update' } & Stats)
  | ({ id: number; type: 'entry' } & CopyEntry);

export type MachinesReply = { machines: MachineEntry[] };

/** Close codes the server uses. */
export const CLOSE = { BAD_TOKEN: 4001, MALFORMED: 4000, SHUTDOWN: 1001 } as const;

export function binaryFrame(id: number, data: Uint8Array): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt32LE(id);
  return Buffer.concat([head, data]);
}

/** A signal as a number (15) or a name (TERM, SIGTERM); null for anything else. */
export function signalNumber(signal: unknown): number | null {
  if (typeof signal === 'number') return Number.isInteger(signal) && signal >= 0 && signal <= 64 ? signal : null;
  if (typeof signal !== 'string') return null;
  if (/^\d+$/.test(signal)) return signalNumber(Number(signal));
  const name = signal.toUpperCase().startsWith('SIG') ? signal.toUpperCase() : `SIG${signal.toUpperCase()}`;
  return (osConstants.signals as Record<string, number>)[name] ?? null;
}
