// Machine events: what the kernel reports as it happens, for the machine's event log
// (main/monitor/event-log.ts writes one JSON line each). vCPU 0 posts them to the main thread.

export type MachineEvent =
  | { event: 'process-start'; pid: number; ppid: number; comm: string }
  | { event: 'process-exit'; pid: number; comm: string; exe: string; code: number | null; signal: string | null }
  | { event: 'killed'; pid: number; tid: number; signal: string; reason: string }
  | { event: 'unknown-syscall'; pid: number; tid: number; nr: number; name: string }
  | { event: 'pool-exhausted'; bytes: number; poolBytes: number }
  /** port is the guest's; hostPort the host port it stands for (different under --publish). */
  | { event: 'listen'; pid: number; address: string; port: number; hostPort: number }
  /** The host refused a guest's bind for a reason of its own (the guest got errno). */
  | { event: 'bind-refused'; pid: number; transport: string; port: number; hostPort: number; errno: string }
  | { event: 'refused'; pid: number; address: string; port: number; reason: string };

/** Where the kernel sends its events; a machine without an event log drops them. */
export interface EventSink {
  emit(event: MachineEvent): void;
}

export const NO_EVENTS: EventSink = { emit: () => {} };
