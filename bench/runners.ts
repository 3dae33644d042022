// Who runs a case: natively, under Debian's qemu-x86_64, or under Starling with one of its CPU
// backends. Each backend is probed with `starling run --accel B -- /bin/true`; one that is
// rejected or fails is listed as unavailable with the reason, so new backends appear by
// themselves once `--accel` accepts them.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { CLI, ROOTFS } from './paths.js';

/** Starling's CPU backends, in the order they are reported. */
export const BACKENDS = ['unicorn', 'kvm'] as const;
export type Backend = (typeof BACKENDS)[number];

export type Runner =
  | { id: 'native'; kind: 'native'; label: string; available: true; reason?: undefined }
  | { id: 'qemu-x86_64'; kind: 'qemu'; label: string; available: boolean; reason?: string }
  | { id: `starling-${Backend}`; kind: 'starling'; backend: Backend; label: string; available: boolean; reason?: string; accelArgs: string[] };

export function detectRunners(): Runner[] {
  const qemu = spawnSync('qemu-x86_64', ['--version'], { encoding: 'utf8' });
  const qemuVersion = /version ([\d.]+)/.exec(qemu.stdout ?? '')?.[1];
  return [
    { id: 'native', kind: 'native', label: 'native', available: true },
    qemu.status === 0
      ? { id: 'qemu-x86_64', kind: 'qemu', label: `qemu-x86_64 ${qemuVersion ?? ''}`.trim(), available: true }
      : { id: 'qemu-x86_64', kind: 'qemu', label: 'qemu-x86_64', available: false, reason: qemu.error ? 'qemu-x86_64 is not installed (Debian package qemu-user)' : firstLine(qemu.stderr) },
    ...BACKENDS.map(probeBackend),
  ];
}

function probeBackend(backend: Backend): Runner {
  const base = { id: `starling-${backend}` as const, kind: 'starling' as const, backend, label: `Starling (${backend})` };
  const probe = spawnSync(process.execPath, [CLI, 'run', '--accel', backend, '--', '/bin/true'], { encoding: 'utf8', timeout: 120_000 });
  if (probe.status === 0) return { ...base, available: true, accelArgs: ['--accel', backend] };
  // Before --accel existed Unicorn was the only engine: run without the option.
  if (backend === 'unicorn' && /unknown option '--accel'/.test(probe.stderr)) {
    const plain = spawnSync(process.execPath, [CLI, 'run', '--', '/bin/true'], { encoding: 'utf8', timeout: 120_000 });
    if (plain.status === 0) return { ...base, available: true, accelArgs: [] };
    return { ...base, available: false, reason: firstLine(plain.stderr) || `exit ${plain.status}`, accelArgs: [] };
  }
  return { ...base, available: false, reason: firstLine(probe.stderr) || `exit ${probe.status}`, accelArgs: [] };
}

const firstLine = (s: string | null | undefined) => (s ?? '').trim().split('\n')[0];

export interface GuestCommand {
  /** The program and its arguments as the guest sees them; /bench/... is the workspace. */
  argv: string[];
  /** Starling's --cpus (default 2). Native and qemu-x86_64 runs use the host's cores. */
  cpus?: number;
  /** Extra `starling run` options before `--` (binds, --cwd). */
  starlingOptions?: string[];
}

/**
 * The host command that runs a guest command under runner. Outside Starling, /bench/X becomes
 * the workspace's X and other absolute paths in argv[0] the rootfs's file (run with the
 * host's libraries, which the rootfs's are copies of).
 */
export function hostCommand(runner: Runner, g: GuestCommand, workDir: string): string[] {
  const hostPath = (p: string) => (p.startsWith('/bench/') ? join(workDir, p.slice('/bench/'.length)) : p.startsWith('/') ? join(ROOTFS, p) : p);
  const hostArgv = g.argv.map((a, i) => (i === 0 || a.startsWith('/bench/') ? hostPath(a) : a));
  switch (runner.kind) {
    case 'native':
      return hostArgv;
    case 'qemu':
      return ['qemu-x86_64', '-L', ROOTFS, ...hostArgv];
    case 'starling':
      return [process.execPath, CLI, 'run', ...runner.accelArgs, '--cpus', String(g.cpus ?? 2), '--bind', `${workDir}:/bench`,
        ...(g.starlingOptions ?? []), '--', ...g.argv];
  }
}
