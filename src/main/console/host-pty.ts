// The host pseudo-terminal behind a machine's console (--console pty): starling holds the
// master; the guest's console is the slave, so the host's line discipline does the terminal's
// work (echo, canonical editing, termios) exactly as Linux's would. What the host cannot do
// for a guest is signal it: the slave is nobody's controlling terminal on the host, so the
// signal characters and window changes are read back here and delivered by the guest kernel.
import koffi from 'koffi';
import { ReadStream } from 'node:tty';
import { constants as fsConstants, openSync, closeSync, readSync } from 'node:fs';
import { HostNr, hostSyscall, scratch } from '../../kernel/host/libc.js';

const libc = koffi.load('libc.so.6');
const posixOpenpt = libc.func('int posix_openpt(int flags)');
const grantpt = libc.func('int grantpt(int fd)');
const unlockpt = libc.func('int unlockpt(int fd)');
const ptsnameR = libc.func('int ptsname_r(int fd, _Out_ uint8_t *buf, size_t len)');

const O_CLOEXEC = 0o2000000;
const F_GETFL = 3, F_SETFL = 4;
const TCGETS = 0x5401, TIOCSWINSZ = 0x5414, TIOCGWINSZ = 0x5413;
/** struct termios: c_lflag at 12, c_cc at 17 (after c_line). */
const LFLAG = 12, CC = 17, TERMIOS_SIZE = 36;
const ISIG = 0o1;
/** Indices into c_cc of the characters that signal the foreground group, and the signals. */
const SIGNAL_CHARS = [{ index: 0, signal: 2 /* VINTR: SIGINT */ }, { index: 1, signal: 3 /* VQUIT: SIGQUIT */ }, { index: 10, signal: 20 /* VSUSP: SIGTSTP */ }];
/** _POSIX_VDISABLE: a c_cc entry that is off. */
const VDISABLE = 0;

export interface WindowSize { cols: number; rows: number }

export class HostPtyError extends Error {}

export class HostPty {
  /** The master, non-blocking through libuv: what the guest writes to its console comes out here, and what is written here is typed. */
  readonly master: ReadStream;

  private constructor(private readonly masterFd: number, readonly slaveFd: number, readonly slavePath: string) {
    this.master = new ReadStream(masterFd);
    // libuv leaves a tty it reads blocking; readPending must never wait.
    hostSyscall(HostNr.fcntl, masterFd, F_SETFL, hostSyscall(HostNr.fcntl, masterFd, F_GETFL) | fsConstants.O_NONBLOCK);
  }

  /** A new pair with the given window size; the slave is not the controlling terminal of anything. */
  static open(size: WindowSize): HostPty {
    const master = posixOpenpt(fsConstants.O_RDWR | fsConstants.O_NOCTTY | O_CLOEXEC);
    if (master < 0) throw new HostPtyError(`cannot open a pseudo-terminal: errno ${koffi.errno()}`);
    const name = Buffer.alloc(64);
    if (grantpt(master) !== 0 || unlockpt(master) !== 0 || ptsnameR(master, name, name.length) !== 0) {
      const errno = koffi.errno();
      closeSync(master);
      throw new HostPtyError(`cannot set up a pseudo-terminal: errno ${errno}`);
    }
    const slavePath = name.toString('latin1', 0, name.indexOf(0));
    // Starling keeps a slave open for the machine's lifetime: the master would read EIO
    // whenever the guest had no console fd open, and the signal characters are read from it.
    const slave = openSync(slavePath, fsConstants.O_RDWR | fsConstants.O_NOCTTY);
    const pty = new HostPty(master, slave, slavePath);
    pty.resize(size);
    return pty;
  }

  resize({ cols, rows }: WindowSize): void {
    const b = scratch.bounce(8);
    const v = new DataView(b.view.buffer, b.view.byteOffset, 8);
    v.setUint16(0, rows, true);
    v.setUint16(2, cols, true);
    v.setUint32(4, 0, true);
    hostSyscall(HostNr.ioctl, this.masterFd, TIOCSWINSZ, b.address);
  }

  size(): WindowSize {
    const b = scratch.bounce(8);
    if (hostSyscall(HostNr.ioctl, this.slaveFd, TIOCGWINSZ, b.address) < 0) return { cols: 80, rows: 24 };
    const v = new DataView(b.view.buffer, b.view.byteOffset, 8);
    return { rows: v.getUint16(0, true), cols: v.getUint16(2, true) };
  }

  /**
   * The signals typing bytes would raise under the guest's current termios (ISIG and the
   * VINTR, VQUIT and VSUSP characters), in order.
   */
  signalsIn(bytes: Uint8Array): number[] {
    const b = scratch.bounce(TERMIOS_SIZE);
    if (hostSyscall(HostNr.ioctl, this.slaveFd, TCGETS, b.address) < 0) return [];
    const v = new DataView(b.view.buffer, b.view.byteOffset, TERMIOS_SIZE);
    if (!(v.getUint32(LFLAG, true) & ISIG)) return [];
    const chars = SIGNAL_CHARS.map((c) => ({ char: b.view[CC + c.index], signal: c.signal })).filter((c) => c.char !== VDISABLE);
    const signals: number[] = [];
    for (const byte of bytes) for (const c of chars) if (byte === c.char) signals.push(c.signal);
    return signals;
  }

  /** What the master holds that its stream has not read yet (it reads in the event loop, which may not turn again). */
  readPending(): Buffer {
    const chunks: Buffer[] = [];
    const chunk = Buffer.alloc(64 * 1024);
    for (;;) {
      let n = 0;
      try {
        n = readSync(this.masterFd, chunk);
      } catch {
        break; // EAGAIN: nothing left
      }
      if (n <= 0) break;
      chunks.push(Buffer.from(chunk.subarray(0, n)));
    }
    return Buffer.concat(chunks);
  }

  /** Closes both ends (the master through its stream, which owns the fd). */
  close(): void {
    this.master.destroy();
    closeSync(this.slaveFd);
  }
}
