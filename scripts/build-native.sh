#!/usr/bin/env bash
# Builds the one native helper (src/cpu-worker/native/preempt.c) into dist/native/.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p dist/native
out=dist/native/libstarling-preempt.so
src=src/cpu-worker/native/preempt.c
if [[ ! -f $out || $src -nt $out ]]; then
  gcc -O2 -Wall -Wextra -shared -fPIC -o "$out" "$src" -l:libunicorn.so.2
fi
