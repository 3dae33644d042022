#!/usr/bin/env bash
# Make a fresh Debian 12 machine (as root) ready to build, test and run Starling.
# Idempotent; quick when everything is already done.
#
#   bash scripts/setup.sh              (npm run setup) do every step; rebuilds the rootfs
#   bash scripts/setup.sh --if-needed  (npm test/demo/bench) only what is missing or stale
set -euo pipefail

# Debian packages Starling needs on the host.
APT_PACKAGES=(
  libunicorn2       # the CPU emulator, loaded through koffi
  busybox-static    # the rootfs's /bin/sh and core utilities
  ffmpeg            # ffmpeg/ffprobe for the rootfs (and the host side of the RTSP demo)
  gcc g++ libc6-dev # building test guest programs and the native helpers
  binutils          # as/objcopy: the KVM backend's ring-0 shim
  musl-tools        # static and dynamic musl test guest programs
  qemu-user         # reference runs of guest programs
  strace            # reference syscall traces
  file              # identifying ELF files
  ca-certificates   # the CA bundle copied into the rootfs
  openssl           # libssl3/libcrypto3 and openssl.cnf for the rootfs
  python3           # the pty driver of the interactive-shell test
  chromium          # headless browser of the monitor page test (driven by playwright-core)
)

IF_NEEDED=0
case "${1:-}" in
  --if-needed) IF_NEEDED=1 ;;
  '') ;;
  *) echo "usage: $0 [--if-needed]" >&2; exit 2 ;;
esac

cd "$(dirname "$0")/.."
ROOT=$PWD

say() { echo "setup: $*" >&2; }
die() { say "error: $*"; exit 1; }

# One setup at a time (npm test and npm run demo may start together).
exec 9<"$0"
flock 9

# ---------------------------------------------------------------------------------------
# Debian packages: install only the missing ones.
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [[ $status == "install ok installed" ]] || missing+=("$pkg")
done
if ((${#missing[@]})); then
  say "installing Debian packages: ${missing[*]}"
  SUDO=()
  if ((EUID != 0)); then
    command -v sudo >/dev/null || die "not root and no sudo: install ${missing[*]} by hand"
    SUDO=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${SUDO[@]}" apt-get update -qq
  "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# ---------------------------------------------------------------------------------------
# Node.js and npm packages.
command -v node >/dev/null || die "node not found: install Node.js 20 or newer"
node_major=$(node -p 'process.versions.node.split(".")[0]')
((node_major >= 20)) || die "Node.js $(node --version) is too old: Starling needs 20 or newer"

if [[ -f package-lock.json ]]; then
  if [[ ! -d node_modules || ! -f node_modules/.package-lock.json ||
        package-lock.json -nt node_modules/.package-lock.json ]]; then
    say "installing npm packages (npm ci)"
    npm ci --no-audit --no-fund --loglevel=error >/dev/null
  fi
elif [[ ! -d node_modules || ! -f node_modules/.package-lock.json ||
        package.json -nt node_modules/.package-lock.json ]]; then
  say "installing npm packages (npm install)"
  npm install --no-audit --no-fund --loglevel=error >/dev/null
fi

# ---------------------------------------------------------------------------------------
# TypeScript -> dist/ (always: it is quick and keeps dist/ in step with src/).
((IF_NEEDED)) || say "building TypeScript"
npx --no-install tsc -p . >&2
bash scripts/build-native.sh >&2

# ---------------------------------------------------------------------------------------
# The default guest root filesystem.
if ((!IF_NEEDED)) || [[ ! -f rootfs/build/.built || rootfs/build-rootfs.sh -nt rootfs/build/.built ]]; then
  say "building the root filesystem in rootfs/build"
  bash rootfs/build-rootfs.sh rootfs/build
fi

# ---------------------------------------------------------------------------------------
# `starling` on the PATH, pointing at this checkout.
CLI="$ROOT/dist/src/main/cli.js"
if [[ -f $CLI ]]; then
  chmod +x "$CLI"
  linked=$(command -v starling 2>/dev/null || true)
  if [[ -z $linked || $(realpath -m -- "$linked") != "$(realpath -m -- "$CLI")" ]]; then
    say "linking the starling command (npm link)"
    npm link --no-audit --no-fund --loglevel=error >/dev/null
    hash -r
    command -v starling >/dev/null ||
      say "warning: starling was linked into $(npm prefix -g)/bin, which is not on PATH"
  fi
else
  ((IF_NEEDED)) || say "warning: $CLI was not built, so the starling command is not linked yet"
fi

say ready
