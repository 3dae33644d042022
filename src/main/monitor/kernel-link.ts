// The main thread's end of the channel to vCPU 0's monitor agent (cpu-worker/monitor-agent.ts):
// requests with replies, and the kernel's events. Posting a request raises MONITOR_REQUEST,
// asks vCPU 0's engine to stop and rings its doorbell, so the agent answers within one
// translation block of a busy guest or at once from an idle one.
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { Control } from '../../shared-mem/layout.js';
import { ringDoorbell } from '../../shared-mem/doorbell.js';
import { requestPreempt } from '../../shared-mem/preempt.js';
import type { AgentEvent, AgentReply, AgentRequest } from '../../cpu-worker/monitor-agent.js';
import type { MachineEvent } from '../../kernel/events.js';

type Pending = { resolve: (value: unknown) => void; reject: (e: Error) => void };

/** A request the agent refused: errno names the reason (ENOENT, ESRCH, ...). */
export class AgentError extends Error {
  constructor(readonly errno: string, message: string) {
    super(message);
  }
}

type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

export class KernelLink {
  /** Transferred to vCPU 0 in its task. */
  readonly agentPort: MessagePort;
  private readonly port: MessagePort;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;

  constructor(private readonly control: Int32Array, onEvent: (event: MachineEvent & { time: string }) => void) {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.agentPort = port2;
    this.port.on('message', (m: AgentReply | AgentEvent) => {
      if ('kind' in m) return onEvent(m.event);
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.value);
      else p.reject(new AgentError(m.errno, m.error));
    });
    this.port.unref();
  }

  request<T>(request: WithoutId<AgentRequest>): Promise<T> {
    if (this.closed) return Promise.reject(new AgentError('ESRCH', 'the machine is shutting down'));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.port.ref(); // an outstanding request keeps the process alive until answered
      this.port.postMessage({ ...request, id });
      Atomics.store(this.control, Control.MONITOR_REQUEST, 1);
      requestPreempt(this.control, 0); // a thread computing on vCPU 0 must not keep the request waiting
      ringDoorbell(this.control, 0);
    }).finally(() => {
      if (this.pending.size === 0) this.port.unref();
    });
  }

  /** The machine is over: outstanding and later requests fail. */
  close(): void {
    this.closed = true;
    for (const p of this.pending.values()) p.reject(new AgentError('ESRCH', 'the machine is shutting down'));
    this.pending.clear();
    this.port.close();
  }
}
