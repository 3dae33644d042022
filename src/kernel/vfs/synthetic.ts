// Nodes of the filesystems that exist only in the kernel (/proc, /sys, /dev). They are built
// lazily per lookup from closures over the live kernel objects, so what a guest sees is
// always current; file contents are generated when the file is opened.
import type { OpenFile, SyntheticDirEntry } from '../files.js';
import { DT } from './host.js';

export interface SynthDir {
  readonly kind: 'dir';
  child(name: string): SynthNode | undefined;
  names(): string[];
}

export interface SynthFile {
  readonly kind: 'file';
  /** Permission bits (the type is S_IFREG). */
  readonly perm: number;
  /** The bytes, as a byte string or raw bytes. */
  content(): string | Uint8Array;
  /** Takes the file's new contents after each write; files without it cannot be opened for writing. */
  store?(bytes: Uint8Array): void;
}

/** A symlink resolved in guest terms, like any symlink on disk. */
export interface SynthLink {
  readonly kind: 'link';
  target(): string;
}

/** A /proc/PID/fd/N link: following it reaches the open file itself, not a path. */
export interface SynthFdLink {
  readonly kind: 'fdlink';
  readonly file: OpenFile;
}

/** One of a fixed whitelist of host devices, opened by its host path. */
export interface SynthDevice {
  readonly kind: 'device';
  readonly hostPath: string;
}

export type SynthNode = SynthDir | SynthFile | SynthLink | SynthFdLink | SynthDevice;

export const file = (content: () => string | Uint8Array, perm = 0o444): SynthFile => ({ kind: 'file', perm, content });
export const writableFile = (content: () => string | Uint8Array, store: (bytes: Uint8Array) => void): SynthFile =>
  ({ kind: 'file', perm: 0o644, content, store });
export const link = (target: () => string): SynthLink => ({ kind: 'link', target });

/** A directory whose children are known up front (each built only when looked up). */
export function staticDir(children: Record<string, () => SynthNode>): SynthDir {
  return {
    kind: 'dir',
    child: (name) => (Object.hasOwn(children, name) ? children[name]() : undefined),
    names: () => Object.keys(children),
  };
}

/** A directory whose children depend on live state (pids, fds, tids). */
export function dynamicDir(names: () => string[], child: (name: string) => SynthNode | undefined): SynthDir {
  return { kind: 'dir', child, names };
}

/** Merges a fixed part with a dynamic part (the /proc root: files plus one dir per pid). */
export function unionDir(a: SynthDir, b: SynthDir): SynthDir {
  return {
    kind: 'dir',
    child: (name) => a.child(name) ?? b.child(name),
    names: () => [...a.names(), ...b.names()],
  };
}

export function dtOf(node: SynthNode): number {
  switch (node.kind) {
    case 'dir': return DT.DIR;
    case 'file': return DT.REG;
    case 'device': return DT.CHR;
    default: return DT.LNK;
  }
}

/** Directory entries as getdents returns them, `.` and `..` first. */
export function listDir(dir: SynthDir): SyntheticDirEntry[] {
  const out: SyntheticDirEntry[] = [{ name: '.', type: DT.DIR }, { name: '..', type: DT.DIR }];
  for (const name of dir.names()) {
    const node = dir.child(name);
    if (node) out.push({ name, type: dtOf(node) });
  }
  return out;
}

/** A decimal name (pid, tid, fd) without sign or leading zeros, as /proc accepts them. */
export function decimalName(name: string): number | null {
  return /^(0|[1-9][0-9]{0,9})$/.test(name) ? Number(name) : null;
}
