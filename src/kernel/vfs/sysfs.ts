// /sys: only what libcs and runtimes read to count CPUs.
import { dynamicDir, file, staticDir, type SynthDir } from './synthetic.js';

export function sysRoot(cpus: number): SynthDir {
  const range = () => (cpus > 1 ? `0-${cpus - 1}\n` : '0\n');
  // One cpuN directory per vCPU: older glibc counts them for sysconf(_SC_NPROCESSORS_CONF).
  const cpuDirs = dynamicDir(
    () => Array.from({ length: cpus }, (_, i) => `cpu${i}`),
    (name) => {
      const m = /^cpu(0|[1-9][0-9]*)$/.exec(name);
      return m && Number(m[1]) < cpus ? staticDir({ online: () => file(() => '1\n', 0o644) }) : undefined;
    },
  );
  const cpu: SynthDir = {
    kind: 'dir',
    child: (name) => {
      if (name === 'online' || name === 'possible' || name === 'present') return file(range);
      return cpuDirs.child(name);
    },
    names: () => ['online', 'possible', 'present', ...cpuDirs.names()],
  };
  return staticDir({
    devices: () => staticDir({ system: () => staticDir({ cpu: () => cpu }) }),
  });
}
