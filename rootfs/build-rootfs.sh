#!/usr/bin/env bash
# Build Starling's default guest root filesystem into OUTDIR from the host's installed
# Debian 12 packages (busybox-static, ffmpeg, libc6, libssl3, ca-certificates, musl).
# Nothing is downloaded. The tree is built in OUTDIR.tmp and moved into place at the end;
# OUTDIR/.built is the stamp that says the build completed.
#
# Usage: bash rootfs/build-rootfs.sh OUTDIR
set -euo pipefail

die() { echo "build-rootfs: $*" >&2; exit 1; }

[[ $# -eq 1 && -n $1 ]] || die "usage: $0 OUTDIR"
OUTDIR=$(realpath -m -- "$1")
[[ $OUTDIR != / ]] || die "refusing to build into /"
ROOT="$OUTDIR.tmp"   # the tree being built; every helper writes below it

ARCH_LIBDIR=/usr/lib/x86_64-linux-gnu

# Programs copied with the full closure of their shared libraries.
PROGRAMS=(/usr/bin/ffmpeg /usr/bin/ffprobe)

# glibc and C++ runtime libraries copied whether or not a program above needs them.
EXTRA_LIBS=(
  libc.so.6 libm.so.6 libpthread.so.0 libdl.so.2 librt.so.1 libresolv.so.2
  libnss_files.so.2 libnss_dns.so.2 libgcc_s.so.1 libstdc++.so.6
  libssl.so.3 libcrypto.so.3
)

for tool in busybox ldd ldconfig realpath; do
  command -v "$tool" >/dev/null || die "$tool not found (run scripts/setup.sh first)"
done
for prog in /bin/busybox "${PROGRAMS[@]}"; do
  [[ -x $prog ]] || die "$prog not found (run scripts/setup.sh first)"
done

# ---------------------------------------------------------------------------------------
# Helpers

# canon PATH: the canonical path of host PATH inside a merged-/usr tree. Directory symlinks
# on the host are resolved (so /lib/x86_64-linux-gnu/x -> /usr/lib/x86_64-linux-gnu/x) and
# /bin, /sbin, /lib, /lib64 map to their /usr counterparts even on an unmerged host. The
# last component is kept as is, so a symlink stays a symlink.
canon() {
  local p=$1 dir base
  base=${p##*/}
  if [[ $base == . || $base == .. || -z $base ]]; then
    p=$(realpath -m -- "$p"); base=${p##*/}
  fi
  dir=$(realpath -m -- "${p%/*}/")
  case $dir in
    /bin | /bin/* | /sbin | /sbin/* | /lib | /lib/* | /lib64 | /lib64/*) dir=/usr$dir ;;
  esac
  echo "${dir%/}/$base"
}

# relative_link TARGET LINK: make ROOT/LINK a symlink to ROOT/TARGET using a relative path
# (both are absolute guest paths), so the link works in a chroot and from the host alike.
relative_link() {
  local target=$1 link=$2
  mkdir -p -- "$ROOT${link%/*}"
  ln -sfn -- "$(realpath -sm --relative-to="${link%/*}/" -- "$target")" "$ROOT$link"
}

# copy_with_links PATH: copy host PATH to the same (canonical) path in ROOT. A symlink is
# recreated as a relative symlink and whatever it points to is copied too; a directory is
# only created (use copy_tree for contents).
copy_with_links() {
  local src=$1 dst target
  dst=$(canon "$src")
  [[ -e $ROOT$dst || -L $ROOT$dst ]] && return 0
  mkdir -p -- "$ROOT${dst%/*}"
  if [[ -L $src ]]; then
    target=$(readlink -- "$src")
    [[ $target == /* ]] || target="${src%/*}/$target"
    relative_link "$(canon "$target")" "$dst"
    copy_with_links "$target"
  elif [[ -d $src ]]; then
    mkdir -p -- "$ROOT$dst"
  elif [[ -e $src ]]; then
    cp -p -- "$src" "$ROOT$dst"
  else
    die "$src does not exist"
  fi
}

# copy_tree DIR: copy a whole host directory (its files and symlinks) into ROOT.
copy_tree() {
  local dir=$1 entry
  copy_with_links "$dir"
  while IFS= read -r -d '' entry; do
    copy_with_links "$entry"
  done < <(find "$dir" -mindepth 1 \( -type f -o -type l \) -print0)
}

# shared_libs FILE...: the shared libraries (absolute host paths) the dynamic loader would
# load for each FILE, the loader included. ldd already prints the transitive closure.
shared_libs() {
  local f out
  for f in "$@"; do
    out=$(ldd "$f" 2>/dev/null) || continue   # not a dynamic ELF file
    if grep -q 'not found' <<<"$out"; then
      die "$f: missing shared libraries: $(grep 'not found' <<<"$out" | tr -s ' \t\n' ' ')"
    fi
    awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' <<<"$out"
  done | sort -u
}

# ---------------------------------------------------------------------------------------
# Build

rm -rf -- "$ROOT"
trap 'rm -rf -- "$ROOT"' EXIT
mkdir -p -- "$ROOT"

# Merged-/usr skeleton.
mkdir -p -- "$ROOT"/usr/{bin,sbin,lib,lib64,local/bin,local/lib,share} "$ROOT$ARCH_LIBDIR" \
  "$ROOT"/{dev,proc,sys,etc/ssl/certs,home,run,var/tmp}
ln -s usr/bin "$ROOT/bin"
ln -s usr/sbin "$ROOT/sbin"
ln -s usr/lib "$ROOT/lib"
ln -s usr/lib64 "$ROOT/lib64"
install -d -m 1777 "$ROOT/tmp"
chmod 1777 "$ROOT/var/tmp"
install -d -m 0700 "$ROOT/root"

# busybox and its applets; /bin/sh (and which, ls, ...) are busybox.
cp -p /bin/busybox "$ROOT/usr/bin/busybox"
while read -r applet; do
  [[ -n $applet ]] || continue
  dst=$(canon "/$applet")
  [[ $dst == /usr/bin/busybox ]] && continue
  relative_link /usr/bin/busybox "$dst"
done < <(busybox --list-full)

# The glibc loader, keeping Debian's /usr/lib64 -> /usr/lib/x86_64-linux-gnu structure.
copy_with_links /lib64/ld-linux-x86-64.so.2

# Extra libraries, OpenSSL modules and configuration.
extra=()
for lib in "${EXTRA_LIBS[@]}"; do
  [[ -e $ARCH_LIBDIR/$lib ]] && extra+=("$ARCH_LIBDIR/$lib")
done
for dir in "$ARCH_LIBDIR/ossl-modules" "$ARCH_LIBDIR/engines-3"; do
  [[ -d $dir ]] || continue
  copy_tree "$dir"
  while IFS= read -r -d '' f; do extra+=("$f"); done < <(find "$dir" -type f -name '*.so' -print0)
done
for f in /usr/lib/ssl/openssl.cnf /etc/ssl/openssl.cnf /etc/ssl/certs/ca-certificates.crt \
         /usr/lib/ssl/cert.pem /usr/lib/ssl/certs; do
  [[ -e $f || -L $f ]] && copy_with_links "$f"
done

# ffmpeg, ffprobe and the closure of everything's shared libraries.
for prog in "${PROGRAMS[@]}"; do copy_with_links "$prog"; done
libs=$(shared_libs "${PROGRAMS[@]}" "${extra[@]}")
for lib in "${extra[@]}" $libs; do copy_with_links "$lib"; done

# musl's loader, for dynamically linked musl programs.
[[ -e /lib/ld-musl-x86_64.so.1 ]] && copy_with_links /lib/ld-musl-x86_64.so.1

# /etc
cat >"$ROOT/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
EOF
cat >"$ROOT/etc/group" <<'EOF'
root:x:0:
nogroup:x:65534:
EOF
cat >"$ROOT/etc/hosts" <<'EOF'
127.0.0.1	localhost
::1	localhost ip6-localhost
EOF
cat >"$ROOT/etc/nsswitch.conf" <<'EOF'
passwd:	files
group:	files
hosts:	files
EOF
echo starling >"$ROOT/etc/hostname"
echo 'nameserver 127.0.0.1' >"$ROOT/etc/resolv.conf"
if [[ -e /etc/localtime ]]; then
  cp -L -- /etc/localtime "$ROOT/etc/localtime"
else
  cp -L -- /usr/share/zoneinfo/UTC "$ROOT/etc/localtime"
fi
[[ -e /etc/os-release ]] && cp -L -- /etc/os-release "$ROOT/etc/os-release"

# The loader cache.
printf '%s\n' "$ARCH_LIBDIR" /usr/local/lib >"$ROOT/etc/ld.so.conf"
ldconfig -r "$ROOT"

# Sanity checks.
[[ $(readlink "$ROOT/usr/bin/sh") == busybox ]] || die "/bin/sh is not busybox"
[[ $(readlink "$ROOT/usr/bin/which") == busybox ]] || die "/usr/bin/which is not busybox"
[[ -e $ROOT/lib64/ld-linux-x86-64.so.2 ]] || die "glibc loader missing"

# Stamp, then swap into place.
date -u +%Y-%m-%dT%H:%M:%SZ >"$ROOT/.built"
files=$(find "$ROOT" -type f | wc -l)
links=$(find "$ROOT" -type l | wc -l)
size=$(du -sh -- "$ROOT" | cut -f1)
if [[ -e $OUTDIR || -L $OUTDIR ]]; then
  rm -rf -- "$OUTDIR.old"
  mv -- "$OUTDIR" "$OUTDIR.old"
  mv -- "$ROOT" "$OUTDIR"
  rm -rf -- "$OUTDIR.old"
else
  mv -- "$ROOT" "$OUTDIR"
fi
trap - EXIT
echo "build-rootfs: $OUTDIR: $files files, $links symlinks, $size" >&2
