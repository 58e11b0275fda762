#!/bin/sh
# Builds tests/subproject-consumer, a meson project that uses this tree as its
# libportsync subproject (dependency('libportsync') through the wrap's
# [provide], answered by lib/meson.build's meson.override_dependency), and
# runs its program. Prints one summary line; non-zero on any failure.
# usage: check-subproject.sh SOURCE_DIR
set -eu
what="meson subproject"
. "$(dirname "$0")/check-common.sh"

cp -r "$src/tests/subproject-consumer" "$work/consumer"
# The program is the pkg-config consumer's: one consumer, built both ways.
cp "$src/examples/pkgconfig-consumer/consumer.c" "$work/consumer/"
# A symlink, not a wrap that fetches: meson builds this very tree, uncommitted
# changes included, without copying it and without any download; the wrap file
# beside it only maps the dependency name to the subproject.
ln -s "$src" "$work/consumer/subprojects/libportsync"
# --force-fallback-for: an installed libportsync must not stand in for the
# subproject.
meson setup "$work/build" "$work/consumer" --wrap-mode=nodownload \
	--force-fallback-for=libportsync >"$log" 2>&1 || fail "meson setup failed"
grep -q 'Dependency libportsync found: YES .*(overridden)' "$log" ||
	fail "dependency('libportsync') was not answered by the subproject's override_dependency"
ninja -C "$work/build" >"$log" 2>&1 || fail "the build failed"
ldd "$work/build/consumer" | grep -qF "$work/build/subprojects/libportsync/lib/libportsync.so.0" ||
	fail "the consumer does not load the subproject's libportsync.so.0"
"$work/build/consumer" >"$log" 2>&1 || fail "the consumer failed"
echo "meson subproject: $(cat "$log")"
