#!/usr/bin/env bash
# Builds the native helpers into dist/native/: the Unicorn preemption hook, the KVM vCPU kick
# handler, the host clock reader, the KVM backend's ring-0 shim (assembled into a flat binary),
# and the guest's vDSO (a shared object without libc or relocations, as Linux's).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p dist/native
build() { # out src command...
  local out=$1 src=$2
  shift 2
  if [[ ! -f $out || $src -nt $out ]]; then "$@"; fi
}
build dist/native/libstarling-preempt.so src/cpu-worker/native/preempt.c \
  gcc -O2 -Wall -Wextra -shared -fPIC -o dist/native/libstarling-preempt.so src/cpu-worker/native/preempt.c -l:libunicorn.so.2
build dist/native/libstarling-kvm.so src/cpu-worker/native/kvm-kick.c \
  gcc -O2 -Wall -Wextra -shared -fPIC -o dist/native/libstarling-kvm.so src/cpu-worker/native/kvm-kick.c -lpthread
build dist/native/libstarling-clock.so src/kernel/host/tsc-clock.c \
  gcc -O2 -Wall -Wextra -shared -fPIC -o dist/native/libstarling-clock.so src/kernel/host/tsc-clock.c
build dist/native/vdso.so src/kernel/vdso/vdso.c \
  gcc -O2 -Wall -Wextra -fPIC -shared -nostdlib -fno-stack-protector -fno-builtin -Wl,-soname,linux-vdso.so.1 \
    -Wl,--hash-style=both -Wl,--version-script=src/kernel/vdso/vdso.map -Wl,-T,src/kernel/vdso/vdso.lds \
    -Wl,-z,noexecstack -Wl,--no-undefined -Wl,--build-id=none -o dist/native/vdso.so src/kernel/vdso/vdso.c
if [[ ! -f dist/native/kvm-shim.bin || src/cpu-worker/kvm/shim.S -nt dist/native/kvm-shim.bin ]]; then
  as --64 -o dist/native/kvm-shim.o src/cpu-worker/kvm/shim.S
  objcopy -O binary dist/native/kvm-shim.o dist/native/kvm-shim.bin
  rm dist/native/kvm-shim.o
fi
