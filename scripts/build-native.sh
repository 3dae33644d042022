#!/usr/bin/env bash
# Builds the native helpers into dist/native/: the Unicorn preemption hook, the KVM vCPU kick
# handler, and the KVM backend's ring-0 shim (assembled into a flat binary).
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
if [[ ! -f dist/native/kvm-shim.bin || src/cpu-worker/kvm/shim.S -nt dist/native/kvm-shim.bin ]]; then
  as --64 -o dist/native/kvm-shim.o src/cpu-worker/kvm/shim.S
  objcopy -O binary dist/native/kvm-shim.o dist/native/kvm-shim.bin
  rm dist/native/kvm-shim.o
fi
