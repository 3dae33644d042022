// Network cases (the Network issue's speed section): the guest side is bench/guest/net_server.c
// under the runner, the host side bench/guest/net_client.c, always native, over 127.0.0.1.
import type { Case } from '../case.js';
import type { Runner } from '../runners.js';
import type { Workspace } from '../workspace.js';
import { figureOf, mustSucceed, runToEnd, start, waitForLine } from '../proc.js';

/** Starts net_server MODE under runner, runs the host client against its port, returns the figure whichever side printed it. */
async function serve(runner: Runner, ws: Workspace, mode: string, serverArgs: string[], clientArgs: string[]): Promise<number> {
  const server = start(ws.command(runner, { argv: ['/bench/net_server', mode, ...serverArgs] }));
  try {
    const port = (await waitForLine(server, /^port (\d+)$/m, 60_000))[1];
    const client = mustSucceed('net_client', await runToEnd([ws.path('net_client'), mode, port, ...clientArgs], { timeoutMs: 300_000 }));
    const served = mustSucceed('net_server', await server.exited);
    return figureOf(/^result /m.test(served.stdout) ? served.stdout : client.stdout);
  } finally {
    server.child.kill('SIGKILL');
  }
}

export function networkCases(): Case[] {
  const cases: Omit<Case, 'group'>[] = [
    { name: 'TCP host to guest throughput (64 KiB writes)', unit: 'MB/s', lowerIsBetter: false,
      method: 'the guest reads until EOF and times from its first byte; the host client writes',
      measure: (r, ws) => serve(r, ws, 'tcp-sink', [], [ws.size('1024', '16')]) },
    { name: 'TCP request/response round trip (64 bytes, host client)', unit: 'us/round trip', lowerIsBetter: true,
      method: 'the host client times N requests, each waiting for the guest\'s echo (TCP_NODELAY)',
      measure: (r, ws) => serve(r, ws, 'tcp-echo', [], [ws.size('10000', '200'), '64']) },
    { name: 'TCP accept rate (one connection at a time)', unit: 'accepts/s', lowerIsBetter: false,
      method: 'the guest times accept+close from the first to the last connection; the host client waits for each close',
      measure: (r, ws) => { const n = ws.size('2000', '50'); return serve(r, ws, 'tcp-accept', [n], [n]); } },
    { name: 'UDP packets per second into recvmmsg (64 bytes)', unit: 'packets/s', lowerIsBetter: false,
      method: 'the host blasts datagrams with sendmmsg; the guest counts what recvmmsg (batches of 64) receives, first to last packet',
      measure: (r, ws) => serve(r, ws, 'udp-sink', [], [ws.size('1000000', '20000')]) },
  ];
  return cases.map((c) => ({ ...c, group: 'network' }));
}
