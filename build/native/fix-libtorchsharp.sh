#!/usr/bin/env bash
# Makes TorchSharp's native library load on systems whose C++ runtime predates GCC 13.
#
# TorchSharp 0.107's libLibTorchSharp.so needs one symbol versioned GLIBCXX_3.4.32
# (std::ios_base_library_init). Debian 12, Ubuntu 22.04 and RHEL 9 ship GLIBCXX_3.4.30.
# Where the system runtime is new enough this script does nothing. Otherwise it patches the
# copy in the given build output (never the NuGet cache):
#   1. the version requirement GLIBCXX_3.4.32 is pointed at GLIBCXX_3.4.30 (verneed-redirect.c);
#   2. the symbol's own version is cleared (patchelf --clear-symbol-version);
#   3. a tiny library defining that symbol is added as a DT_NEEDED (found through $ORIGIN).
# Details: docs/native-loading.md.
#
#   fix-libtorchsharp.sh OUTPUT_DIR
set -euo pipefail

out="${1:?usage: fix-libtorchsharp.sh OUTPUT_DIR}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
symbol=_ZSt21ios_base_library_initv
shim=libios_base_library_init.so

[ "$(uname -s)" = Linux ] || exit 0

# Which libstdc++ would the loader pick? Does it define GLIBCXX_3.4.32?
libstdcxx="$(ldconfig -p 2>/dev/null | awk '/libstdc\+\+\.so\.6 .*x86-64/ {print $NF; exit}')"
[ -n "$libstdcxx" ] || libstdcxx="$(ls /usr/lib/x86_64-linux-gnu/libstdc++.so.6 /usr/lib64/libstdc++.so.6 2>/dev/null | head -n1 || true)"
if [ -n "$libstdcxx" ] && grep -qa 'GLIBCXX_3\.4\.32' "$libstdcxx"; then
  exit 0
fi

mapfile -t targets < <(find "$out" -maxdepth 4 -name libLibTorchSharp.so -type f 2>/dev/null)
[ "${#targets[@]}" -gt 0 ] || exit 0

die() { echo "fix-libtorchsharp: error: $*" >&2; exit 1; }

ensure_tool() { # ensure_tool COMMAND DEBIAN_PACKAGE
  command -v "$1" >/dev/null 2>&1 && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    # Parallel project builds (and other checkouts on the same machine) all get here at once: install under
    # one machine-wide lock, re-check once it is held, and let apt wait for dpkg's own lock too.
    local lock="${TMPDIR:-/tmp}/inferencehost-install-$2.lock"
    (
      flock -w 900 8 || die "timed out waiting for another build to install $2 (lock $lock)"
      command -v "$1" >/dev/null 2>&1 && exit 0
      echo "fix-libtorchsharp: installing $2 (needed to make TorchSharp load on this system's C++ runtime)" >&2
      apt=(apt-get -y -q -o DPkg::Lock::Timeout=600)
      ("${apt[@]}" install "$2" >/dev/null 2>&1 || { "${apt[@]}" update >/dev/null 2>&1 && "${apt[@]}" install "$2" >/dev/null; }) \
        || die "could not install $2; install it by hand (apt-get install $2) and build again"
    ) 8>"$lock" || exit 1
    command -v "$1" >/dev/null 2>&1 || die "$2 installed but $1 is still not on PATH"
  else
    die "$1 is required to make TorchSharp load on this system (its libstdc++ lacks GLIBCXX_3.4.32); install the '$2' package and build again"
  fi
}

ensure_tool patchelf patchelf
ensure_tool g++ g++

# Build the two helpers once per source version, under a lock (parallel project builds share them).
tools="$here/obj"
mkdir -p "$tools"
exec 9>"$tools/.lock"
flock 9
stamp="$(cat "$here/verneed-redirect.c" "$here/ios-base-library-init.cpp" | sha256sum | cut -c1-16)"
if [ ! -f "$tools/$stamp.done" ]; then
  gcc -O2 -Wall -o "$tools/verneed-redirect" "$here/verneed-redirect.c" || die "compiling verneed-redirect.c failed"
  g++ -O2 -shared -fPIC -o "$tools/$shim" "$here/ios-base-library-init.cpp" || die "compiling the $shim shim failed"
  rm -f "$tools"/*.done && touch "$tools/$stamp.done"
fi

for lib in "${targets[@]}"; do
  dir="$(dirname "$lib")"
  rc=0
  "$tools/verneed-redirect" "$lib" libstdc++.so.6 GLIBCXX_3.4.32 GLIBCXX_3.4.30 >/dev/null || rc=$?
  case $rc in
    0) patchelf --clear-symbol-version "$symbol" "$lib" ;;
    3) ;; # already redirected
    *) die "could not patch $lib" ;;
  esac
  cp -f "$tools/$shim" "$dir/$shim"
  if ! patchelf --print-needed "$lib" | grep -qx "$shim"; then
    patchelf --add-needed "$shim" "$lib"
  fi
done
flock -u 9
