#!/usr/bin/env bash
# ctest install_package: installs a build tree into a temporary prefix, then
# builds and runs cmake/consumer through find_package(shunt) and main.c
# through pkg-config (shared and static).
#
#   check_install.sh BUILD_DIR CONSUMER_DIR CC CXX [EXTRA_FLAGS]
#
# EXTRA_FLAGS (e.g. -fsanitize=address,undefined) is added to every compile
# and link so consumers match a sanitizer build of the library.
set -euo pipefail

if [[ $# -lt 4 ]]; then
  echo "usage: $0 BUILD_DIR CONSUMER_DIR CC CXX [EXTRA_FLAGS]" >&2
  exit 2
fi
build=$1
consumer=$2
cc=$3
cxx=$4
flags=${5:-}
read -r -a flag_words <<<"$flags"

work=$(mktemp -d)
prefix=$work/prefix
# A private arena so concurrent tests and stale arenas cannot interfere.
export SHUNT_ARENA=/shunt-install-check-$$
rm -f "/dev/shm/shunt-install-check-$$"  # a stale one of a dead run
cleanup() {
  rm -rf "$work"
  rm -f "/dev/shm/shunt-install-check-$$"
}
trap cleanup EXIT

step() { echo "== check_install: $*"; }
fail() {
  echo "check_install: FAIL: $*" >&2
  exit 1
}

step "cmake --install $build --prefix $prefix"
cmake --install "$build" --prefix "$prefix" >"$work/install.log" ||
  { cat "$work/install.log"; fail "cmake --install"; }

pc=$(find "$prefix" -name shunt.pc -print -quit)
[[ -n $pc ]] || fail "shunt.pc not installed"
pcdir=$(dirname "$pc")
libdir=$(dirname "$pcdir")
step "libdir $libdir"
for f in include/shunt/shunt.h include/shunt/shunt.hpp bin/shunt; do
  [[ -f $prefix/$f ]] || fail "missing $prefix/$f"
done
for f in libshunt.a libshunt.so cmake/shunt/shuntConfig.cmake \
  cmake/shunt/shuntConfigVersion.cmake cmake/shunt/shuntTargets.cmake; do
  [[ -e $libdir/$f ]] || fail "missing $libdir/$f"
done
# libshunt.so -> libshunt.so.0 (soname) -> libshunt.so.X.Y.Z
[[ -L $libdir/libshunt.so && -L $libdir/libshunt.so.0 ]] ||
  fail "libshunt.so soname links missing"
soname=$(objdump -p "$libdir/libshunt.so" | awk '$1 == "SONAME" {print $2}')
[[ $soname == libshunt.so.0 ]] || fail "SONAME is '$soname'"
# Outputs are captured before grep -q reads them: under pipefail, a grep that
# exits at its first match can kill the writer with SIGPIPE and fail the check.
exported=$(nm -D --defined-only "$libdir/libshunt.so")
for sym in shunt_socketpair shunt_send shunt_recv shunt_close; do
  grep -qw "$sym" <<<"$exported" || fail "libshunt.so does not export $sym"
done

step "installed tool"
"$prefix/bin/shunt" version
tool_version=$("$prefix/bin/shunt" version | awk '{print $2}')

step "find_package(shunt) consumer"
cmake -S "$consumer" -B "$work/cmake-build" \
  -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx" \
  -DCMAKE_C_FLAGS="$flags" -DCMAKE_CXX_FLAGS="$flags" \
  -DCMAKE_EXE_LINKER_FLAGS="$flags" >"$work/consumer-configure.log" ||
  { cat "$work/consumer-configure.log"; fail "consumer configure"; }
cmake --build "$work/cmake-build" ||
  fail "consumer build"
for exe in consumer_shared consumer_static consumer_cxx; do
  "$work/cmake-build/$exe" || fail "$exe exited $?"
done
# The shared consumer must load the installed library, not some other one.
loaded=$(ldd "$work/cmake-build/consumer_shared")
grep -qF "$libdir/libshunt.so" <<<"$loaded" ||
  fail "consumer_shared does not load $libdir/libshunt.so"

step "pkg-config consumer"
export PKG_CONFIG_PATH=$pcdir${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
pc_version=$(pkg-config --modversion shunt)
[[ $pc_version == "$tool_version" ]] ||
  fail "pkg-config version $pc_version != shunt version $tool_version"
read -r -a pc_shared <<<"$(pkg-config --cflags --libs shunt)"
# Static: Libs.private must be enough to link libshunt.a into a C program.
read -r -a pc_static <<<"$(pkg-config --cflags --libs --static shunt |
  sed 's/-lshunt\b/-l:libshunt.a/')"
echo "pkg-config: ${pc_shared[*]}"
echo "pkg-config --static: ${pc_static[*]}"
strict=(-std=c11 -Wall -Wextra -Werror)
"$cc" "${strict[@]}" ${flag_words[@]+"${flag_words[@]}"} "$consumer/main.c" \
  "${pc_shared[@]}" -Wl,-rpath,"$libdir" -o "$work/pc_shared" ||
  fail "pkg-config shared build"
"$cc" "${strict[@]}" ${flag_words[@]+"${flag_words[@]}"} "$consumer/main.c" \
  "${pc_static[@]}" -o "$work/pc_static" ||
  fail "pkg-config static build"
"$work/pc_shared" || fail "pkg-config shared consumer exited $?"
"$work/pc_static" || fail "pkg-config static consumer exited $?"

echo "check_install: all install checks passed"
