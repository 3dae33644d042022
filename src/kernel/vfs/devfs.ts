// /dev: a fixed whitelist of host character devices (safe to share with any guest), the
// standard-stream links, and empty directories programs expect to exist. With a console of its
// own (--console pty), /dev/console and /dev/tty are that console's host pty slave; otherwise
// /dev/tty is starling's own terminal, which is then the guest's too.
import type { SynthDevice } from './synthetic.js';
import { link, staticDir, type SynthDir } from './synthetic.js';

const HOST_DEVICES = ['null', 'zero', 'full', 'random', 'urandom', 'tty'] as const;

export function devRoot(consolePath: string | null): SynthDir {
  const children: Record<string, () => ReturnType<typeof link> | SynthDevice | SynthDir> = {};
  for (const name of HOST_DEVICES) children[name] = () => ({ kind: 'device', hostPath: `/dev/${name}` });
  if (consolePath !== null) {
    for (const name of ['console', 'tty']) children[name] = () => ({ kind: 'device', hostPath: consolePath });
  }
  ['stdin', 'stdout', 'stderr'].forEach((name, fd) => {
    children[name] = () => link(() => `/proc/self/fd/${fd}`);
  });
  children.fd = () => link(() => '/proc/self/fd');
  children.shm = () => staticDir({});
  children.pts = () => staticDir({});
  return staticDir(children);
}
