// `npm run demo`: boots the default rootfs a few times and runs programs in it, showing their
// output. (Later work turns this into the RTSP push demo.)
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('./cli.js', import.meta.url));

const RUNS: Array<{ title: string; args: string[] }> = [
  { title: 'a static busybox shell builtin', args: ['--', '/bin/sh', '-c', 'echo "Hello from a Starling guest"'] },
  { title: 'uname -a (busybox)', args: ['--', 'uname', '-a'] },
  { title: 'ls / (the rootfs jail)', args: ['--', 'ls', '/'] },
  { title: 'the vCPUs the guest sees', args: ['--cpus', '2', '--', 'cat', '/sys/devices/system/cpu/online'] },
  { title: 'sha256sum /etc/passwd', args: ['--', 'sha256sum', '/etc/passwd'] },
  { title: 'ffmpeg -version (dynamic glibc, 100+ shared libraries)', args: ['--', 'ffmpeg', '-hide_banner', '-version'] },
];

let failures = 0;
for (const run of RUNS) {
  process.stdout.write(`\n== starling run ${run.args.join(' ')}   # ${run.title}\n`);
  const started = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [CLI, 'run', ...run.args], { stdio: 'inherit' });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  process.stdout.write(`-- exit status ${r.status}, ${ms.toFixed(0)} ms\n`);
  if (r.status !== 0) failures++;
}
process.exit(failures ? 1 : 0);
