// Copying files out of and into a running guest for the monitor's copy-out and copy-in
// requests. vCPU 0's agent resolves each guest path in the jail and hands over a host fd;
// the bytes move here, on the main thread, in chunks, so the guest is interrupted once per
// file, not per chunk.
import { closeSync, fchmodSync, fstatSync, read, writeSync } from 'node:fs';
import { promisify } from 'node:util';
import { posix } from 'node:path';
import { AgentError, type KernelLink } from './kernel-link.js';
import type { Opened } from '../../cpu-worker/monitor-agent.js';
import type { CopyEntry } from './protocol.js';
import { hostPathToBytes } from '../../kernel/host/libc.js';

// The kernel spells guest paths as byte strings (one char per byte, latin1); the wire and the
// host's file names are UTF-8 text.
const toWire = (bytes: string) => Buffer.from(bytes, 'latin1').toString('utf8');

const CHUNK = 1024 * 1024;
const readAsync = promisify(read);

/** The receiving end of a copy-out: it may stop the copy (the client went away) by returning false. */
export interface CopySink {
  entry(e: CopyEntry): boolean;
  /** Resolves once the bytes are on their way; false to stop. */
  data(bytes: Uint8Array): Promise<boolean>;
}

/** Sends the guest tree at path (a file, a directory and everything under it, or a symlink). */
export async function copyOut(link: KernelLink, path: string, sink: CopySink): Promise<void> {
  await copyOutEntry(link, normalGuestPath(path), '', sink);
}

async function copyOutEntry(link: KernelLink, guestPath: string, rel: string, sink: CopySink): Promise<boolean> {
  const opened = await link.request<Opened>({ op: 'open', path: guestPath, create: null });
  if ('symlink' in opened) return sink.entry({ path: toWire(rel), kind: 'symlink', target: toWire(opened.symlink) });
  const fd = opened.fd;
  let dir = false;
  try {
    const st = fstatSync(fd);
    const mode = st.mode & 0o7777;
    if (st.isDirectory()) {
      dir = true;
      if (!sink.entry({ path: toWire(rel), kind: 'dir', mode })) return false;
    } else if (st.isFile()) {
      if (!sink.entry({ path: toWire(rel), kind: 'file', mode, size: st.size })) return false;
      const buffer = Buffer.alloc(CHUNK);
      for (;;) {
        const { bytesRead } = await readAsync(fd, buffer, 0, CHUNK, null);
        if (bytesRead === 0) return true;
        if (!(await sink.data(buffer.subarray(0, bytesRead)))) return false;
      }
    } else {
      return sink.entry({ path: toWire(rel), kind: 'skipped', reason: 'not a regular file, directory or symlink' });
    }
  } finally {
    closeSync(fd);
  }
  if (!dir) return true;
  const names = await link.request<string[]>({ op: 'list', path: guestPath });
  for (const name of names.sort()) {
    if (!(await copyOutEntry(link, posix.join(guestPath, name), rel ? `${rel}/${name}` : name, sink))) return false;
  }
  return true;
}

/**
 * The guest end of a copy-in: entries and their bytes arrive in order and are applied one at
 * a time (each needs a round trip to vCPU 0 first). The first failure ends it; what follows is
 * ignored and finish() reports the failure.
 */
export class CopyIn {
  private chain: Promise<void>;
  private fd: number | null = null;
  private failure: Error | null = null;
  private root = '';

  /** path is the destination; an existing directory there receives the tree as name. */
  constructor(private readonly link: KernelLink, path: string, name: string) {
    this.chain = this.resolveRoot(normalGuestPath(path), name);
  }

  entry(e: CopyEntry): void {
    this.then(() => this.apply(e));
  }

  data(bytes: Uint8Array): void {
    this.then(async () => {
      if (this.fd === null) throw new AgentError('EINVAL', 'file data outside a file entry');
      writeSync(this.fd, bytes);
    });
  }

  /** Resolves with the guest path written, or rejects with the first failure. */
  async finish(): Promise<string> {
    await this.chain;
    this.closeFile();
    if (this.failure) throw this.failure;
    return this.root;
  }

  /** The client went away: close what is open. */
  abort(): void {
    this.failure ??= new Error('aborted');
    this.then(async () => {});
    this.closeFile();
  }

  private then(step: () => Promise<void>): void {
    this.chain = this.chain.then(async () => {
      if (this.failure) return;
      try {
        await step();
      } catch (e) {
        this.failure = e instanceof Error ? e : new Error(String(e));
        this.closeFile();
      }
    });
  }

  private async resolveRoot(path: string, name: string): Promise<void> {
    this.root = path;
    try {
      const opened = await this.link.request<Opened>({ op: 'open', path, create: null });
      if ('fd' in opened) {
        const isDir = fstatSync(opened.fd).isDirectory();
        closeSync(opened.fd);
        if (isDir) this.root = posix.join(path, posix.basename(`/${hostPathToBytes(name)}`) || 'copy');
      }
    } catch (e) {
      if (!(e instanceof AgentError && e.errno === 'ENOENT')) this.failure = e as Error;
    }
  }

  private async apply(e: CopyEntry): Promise<void> {
    this.closeFile();
    const target = e.path ? posix.join(this.root, normalRelative(e.path)) : this.root;
    switch (e.kind) {
      case 'file': {
        const opened = await this.link.request<Opened>({ op: 'open', path: target, create: { mode: e.mode & 0o7777 } });
        if (!('fd' in opened)) throw new AgentError('EINVAL', 'unexpected symlink');
        this.fd = opened.fd;
        fchmodSync(this.fd, e.mode & 0o7777);
        return;
      }
      case 'dir':
        try {
          await this.link.request({ op: 'mkdir', path: target, mode: e.mode & 0o7777 });
        } catch (err) {
          if (!(err instanceof AgentError && err.errno === 'EEXIST')) throw err;
        }
        return;
      case 'symlink':
        await this.link.request({ op: 'symlink', path: target, target: hostPathToBytes(e.target) });
        return;
      case 'skipped':
        return;
    }
  }

  private closeFile(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

/** An absolute guest path, lexically normal (the jail resolves .. and symlinks itself). */
function normalGuestPath(path: string): string {
  if (typeof path !== 'string' || !path.startsWith('/')) throw new AgentError('EINVAL', `not an absolute guest path: ${path}`);
  return posix.normalize(hostPathToBytes(path));
}

/** A path inside a copied tree: no absolute path and no way above the copy's root. */
function normalRelative(path: string): string {
  const p = posix.normalize(hostPathToBytes(path));
  if (p.startsWith('/') || p === '..' || p.startsWith('../')) throw new AgentError('EINVAL', `bad entry path: ${path}`);
  return p;
}
