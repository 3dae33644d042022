// Starling's own terminal as one end of a console: `starling run --console pty` shows the
// machine's console on it, and `starling console` shows a running machine's. Keys go through
// unchanged (raw mode, so Ctrl-C reaches the guest as a byte and the console's termios decides
// what it means); window changes are passed on. A stdin that is not a terminal is forwarded
// until it ends.
import type { WindowSize } from './host-pty.js';

/** Ctrl-]: the byte that detaches `starling console`, as in telnet and virsh console. */
export const DETACH_BYTE = 0x1d;

export interface TerminalHandlers {
  input(bytes: Buffer): void;
  resize(size: WindowSize): void;
  /** Called on the detach byte (which is not forwarded); without it the byte is forwarded like any other. */
  detach?: () => void;
}

/** The window size of starling's terminal, or 80x24 when stdout is not one. */
export function terminalSize(): WindowSize {
  return process.stdout.isTTY ? { cols: process.stdout.columns, rows: process.stdout.rows } : { cols: 80, rows: 24 };
}

/** Connects stdin and window changes to handlers until the returned function is called. */
export function connectTerminal(handlers: TerminalHandlers): () => void {
  const stdin = process.stdin;
  const raw = stdin.isTTY === true;
  if (raw) stdin.setRawMode(true);
  const onData = (bytes: Buffer) => {
    const at = handlers.detach ? bytes.indexOf(DETACH_BYTE) : -1;
    if (at < 0) return handlers.input(bytes);
    if (at > 0) handlers.input(bytes.subarray(0, at));
    handlers.detach!();
  };
  const onResize = () => handlers.resize(terminalSize());
  stdin.on('data', onData);
  stdin.on('error', () => {});
  process.stdout.on('resize', onResize);
  return () => {
    stdin.off('data', onData);
    process.stdout.off('resize', onResize);
    if (raw) stdin.setRawMode(false);
    stdin.pause();
  };
}
