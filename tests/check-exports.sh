#!/bin/sh
# Fails when the shared library exports a symbol outside the psync_ namespace.
# usage: check-exports.sh NM LIBRARY
set -eu
nm_tool=$1
lib=$2
symbols=$("$nm_tool" -D --defined-only "$lib" | awk '{ print $3 }')
count=$(printf '%s\n' "$symbols" | grep -c '^psync_' || true)
if [ "$count" -lt 10 ]; then
	echo "only $count psync_ symbols exported from $lib: visibility broken?" >&2
	exit 1
fi
stray=$(printf '%s\n' "$symbols" | grep -v -e '^psync_' -e '^LIBPORTSYNC_' -e '^$' || true)
if [ -n "$stray" ]; then
	echo "symbols exported without the psync_ prefix:" >&2
	printf '  %s\n' $stray >&2
	exit 1
fi
internal=$(printf '%s\n' "$symbols" | grep '^psync__' || true)
if [ -n "$internal" ]; then
	echo "internal psync__ symbols exported:" >&2
	printf '  %s\n' $internal >&2
	exit 1
fi
echo "$count psync_ symbols exported, none else"
