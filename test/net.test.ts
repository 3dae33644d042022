// What a guest may reach: loopback only. A connect to any other address is ENETUNREACH (the
// host is never asked), and abstract AF_UNIX names live in the machine's own namespace.
import t from 'tap';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { native, scratchDir, starling } from './helpers.js';

const dir = scratchDir('net');
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const src = `
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
int main(int argc, char **argv) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(80) };
  inet_pton(AF_INET, argv[1], &a.sin_addr);
  printf("connect %s: %s\\n", argv[1], connect(s, (void *)&a, sizeof a) == 0 ? "ok" : errno == ENETUNREACH ? "ENETUNREACH" : "other error");
  int u = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un n = { .sun_family = AF_UNIX };
  strcpy(n.sun_path + 1, argv[2]);
  printf("abstract connect: %s\\n", connect(u, (void *)&n, sizeof(sa_family_t) + 1 + strlen(argv[2])) == 0 ? "reached" : "refused");
  return 0;
}`;
const exe = join(dir, 'reach');

t.test("outbound connections stay on loopback; abstract names are the machine's own", async (tt) => {
  tt.equal(native('gcc', ['-O1', '-o', exe, '-x', 'c', '-'], { input: src }).status, 0, 'compiles');
  const name = `starling-test-${process.pid}`;
  // A host listener on an abstract name (python binds the exact name, as C programs do).
  const script = ['import socket, time', 's = socket.socket(socket.AF_UNIX)', `s.bind(b'\\0${name}')`, 's.listen()', "print('listening', flush=True)", 'time.sleep(60)'];
  const server = spawn('python3', ['-c', script.join('\n')], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((r) => server.stdout!.once('data', r));
  const hostView = native(exe, ['10.1.2.3', name]);
  tt.match(hostView.stdout, /abstract connect: reached/, 'natively, the host abstract socket is reachable (control)');
  const r = starling(['run', '--bind', `${dir}:/t`, '--', '/t/reach', '10.1.2.3', name]);
  tt.match(r.stdout, /connect 10\.1\.2\.3: ENETUNREACH/, 'a non-loopback address is unreachable');
  tt.match(r.stdout, /abstract connect: refused/, 'the host abstract socket is not reachable from the guest');
  server.kill();
  tt.end();
});
