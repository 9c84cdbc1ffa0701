#!/usr/bin/env bash
# Installs the built library into a temporary prefix, then builds the consumer
# program against it with pkg-config (shared and static), and finally builds it
# again with trim as a Meson subproject. Usage: check_install.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "== install into a temporary prefix"
meson install -C "$build" --destdir "$tmp/root" --quiet
pc=$(find "$tmp/root" -name trim.pc | head -n 1)
[ -n "$pc" ] || { echo "trim.pc was not installed"; exit 1; }
# The files were staged under $tmp/root; point the installed trim.pc at them,
# as if the build had been configured with that prefix.
sed -i "s|^prefix=|prefix=$tmp/root|" "$pc"
export PKG_CONFIG_PATH=$(dirname "$pc")
pkgconf="pkg-config"
libdir=$($pkgconf --variable=libdir trim)
$pkgconf --modversion trim

echo "== shared library through pkg-config"
c++ -std=c++17 "$src/tests/install/consumer.cpp" -o "$tmp/consumer_shared" \
  $($pkgconf --cflags --libs trim) -Wl,-rpath,"$libdir"
"$tmp/consumer_shared"

echo "== static library"
# libtrim.a itself, then everything it needs (--static adds Libs.private and
# Requires.private): the consumer reaches FFTW, ONNX and PLplot code through it.
static_libs=$($pkgconf --static --libs trim | sed -E 's/(^| )-ltrim( |$)/ /')
c++ -std=c++17 "$src/tests/install/consumer.cpp" -o "$tmp/consumer_static" \
  $($pkgconf --cflags trim) "$libdir/libtrim.a" $static_libs
"$tmp/consumer_static"

echo "== Meson subproject"
mkdir -p "$tmp/app/subprojects"
ln -s "$src" "$tmp/app/subprojects/trim"
cp "$src/tests/install/consumer.cpp" "$tmp/app/"
cat > "$tmp/app/meson.build" <<'MESON'
project('consumer', 'cpp', default_options: ['cpp_std=c++17'])
trim = dependency('trim', fallback: ['trim', 'trim_dep'],
                  default_options: ['tests=disabled', 'benchmarks=disabled', 'examples=disabled'])
executable('consumer', 'consumer.cpp', dependencies: trim)
MESON
# A fast unoptimised build: this checks that embedding works, not speed.
meson setup "$tmp/app/build" "$tmp/app" --buildtype=plain --wrap-mode=nodownload \
  -Dtrim:native=false >/dev/null
ninja -C "$tmp/app/build" >/dev/null
"$tmp/app/build/consumer"
echo "install check: ok"
