// What `starling --help` says of the monitor's commands (monitor-commands.ts), kept apart so
// that the CLI loads the commands, and the ws library with them, only when one is used.
export const MONITOR_COMMANDS = ['ps', 'top', 'cp', 'kill', 'stop', 'console'];

export const isMonitorCommand = (c: string) => MONITOR_COMMANDS.includes(c);

export const MONITOR_HELP = `  ps [MACHINE]                           running machines; with MACHINE, its processes and threads
  top [-n N] [MACHINE]                   live view of a machine's vCPUs and threads, every second
                                         (-n: stop after N screens)
  cp MACHINE:/PATH HOSTPATH              copy a file or directory out of a running machine
  cp HOSTPATH MACHINE:/PATH              ... or into it
  kill [-SIG] MACHINE PID                send a signal (default TERM) to a guest process
  stop MACHINE                           SIGTERM to every guest process, SIGKILL after 5 s; the
                                         machine then exits
  console [MACHINE]                      attach this terminal to the console of a machine started
                                         with --console pty (Ctrl-] detaches)`;
