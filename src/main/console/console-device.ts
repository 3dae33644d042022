// A machine's console with --console pty: the guest's fds 0-2 (and its /dev/console and
// /dev/tty) are the slave of a host pty, and everything on the master side is shared by the
// clients attached to it: starling's own terminal, and `starling console` clients over the
// monitor. All clients see the same output; what any of them types goes in, as with several
// people at one serial console. The last lines of output are kept, so a client that attaches
// late sees the prompt it is expected to answer.
import { HostPty, type WindowSize } from './host-pty.js';

/** What the console keeps for late attachers. */
const BACKLOG_BYTES = 64 * 1024;
const SIGWINCH = 28;

export interface ConsoleClient {
  output(bytes: Buffer): void;
}

export class ConsoleDevice {
  private readonly clients = new Set<ConsoleClient>();
  private backlog: Buffer[] = [];
  private backlogBytes = 0;

  private constructor(private readonly pty: HostPty, private readonly signalForeground: (sig: number) => void) {
    pty.master.on('data', (bytes: Buffer) => this.fromGuest(bytes));
    // The master cannot see EIO while starling holds the slave; anything else ends the output, not the machine.
    pty.master.on('error', () => {});
  }

  /** signalForeground delivers a signal to the guest's foreground process group on the console. */
  static open(size: WindowSize, signalForeground: (sig: number) => void): ConsoleDevice {
    return new ConsoleDevice(HostPty.open(size), signalForeground);
  }

  /** The slave the guest's console fds are copies of, and its host path (what /dev/console opens). */
  get guestEnd(): { hostFd: number; hostPath: string } {
    return { hostFd: this.pty.slaveFd, hostPath: this.pty.slavePath };
  }

  size(): WindowSize {
    return this.pty.size();
  }

  /** Adds a client; returns the recent output it missed. */
  attach(client: ConsoleClient): Buffer {
    this.clients.add(client);
    return Buffer.concat(this.backlog);
  }

  detach(client: ConsoleClient): void {
    this.clients.delete(client);
  }

  /**
   * Bytes typed at the console. The host's line discipline echoes and edits them; the signal
   * characters it would turn into a signal for the foreground group are delivered by the guest
   * kernel, since no host process group is in front of this terminal.
   */
  input(bytes: Uint8Array): void {
    for (const sig of this.pty.signalsIn(bytes)) this.signalForeground(sig);
    this.pty.master.write(bytes);
  }

  /** A client's window changed: the console takes its size, and the foreground group hears of it, as on a real terminal. */
  resize(size: WindowSize): void {
    const now = this.pty.size();
    if (now.cols === size.cols && now.rows === size.rows) return;
    this.pty.resize(size);
    this.signalForeground(SIGWINCH);
  }

  /** Hands on what the guest wrote last (still in the pty when the machine ended), then closes both ends. */
  close(): void {
    const rest = this.pty.readPending();
    if (rest.length) this.fromGuest(rest);
    this.pty.close();
    this.clients.clear();
  }

  private fromGuest(bytes: Buffer): void {
    this.backlog.push(bytes);
    this.backlogBytes += bytes.length;
    while (this.backlogBytes - this.backlog[0].length >= BACKLOG_BYTES) this.backlogBytes -= this.backlog.shift()!.length;
    for (const client of this.clients) client.output(bytes);
  }
}
