#!/bin/sh
# Installs a build into a scratch root and checks what a user of the package
# gets: the headers, a versioned shared library, a pkg-config file, and a
# program built with nothing but `pkg-config --cflags --libs libportsync` that
# links and runs.  usage: check-install.sh BUILD_DIR SOURCE_DIR
set -eu
build=$1
src=$2
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

meson install -C "$build" --destdir "$root" --quiet >/dev/null
pc=$(find "$root" -name libportsync.pc | head -n 1)
lib=$(find "$root" -name 'libportsync.so.*.*.*' | head -n 1)
[ -n "$pc" ] || { echo "no libportsync.pc installed" >&2; exit 1; }
[ -n "$lib" ] || { echo "no versioned libportsync.so.X.Y.Z installed" >&2; exit 1; }
libdir=$(dirname "$lib")
[ -L "$libdir/libportsync.so.0" ] || { echo "no soname link libportsync.so.0" >&2; exit 1; }
incdir=$(find "$root" -path '*/include/portsync' -type d | head -n 1)
for h in portsync.h common.h version.h features.h event.h source.h sink.h pipeline.h metrics.h; do
	[ -f "$incdir/$h" ] || { echo "header portsync/$h not installed" >&2; exit 1; }
done

work="$root/consumer"
cp -r "$src/examples/pkgconfig-consumer" "$work"
PKG_CONFIG_PATH=$(dirname "$pc") PKG_CONFIG_SYSROOT_DIR=$root make -s -C "$work" >/dev/null
LD_LIBRARY_PATH=$libdir "$work/consumer"
# The embedding examples too, where their loop's -dev package is installed.
embedded=""
for pair in sd-event:libsystemd libevent:libevent; do
	name=${pair%%:*}
	loop=${pair#*:}
	pkg-config --exists "$loop" || continue
	# shellcheck disable=SC2046
	cc -O2 -Wall -Wextra -Werror -o "$work/embed-$name" "$src/examples/embed-$name.c" \
		"$src/examples/embed-pipeline.c" \
		$(PKG_CONFIG_PATH=$(dirname "$pc") PKG_CONFIG_SYSROOT_DIR=$root \
			pkg-config --cflags --libs libportsync "$loop")
	LD_LIBRARY_PATH=$libdir "$work/embed-$name" >/dev/null
	embedded="$embedded, embed-$name"
done
echo "install check: $(basename "$lib"), $(ls "$incdir" | wc -l) headers, pkg-config consumer$embedded OK"
