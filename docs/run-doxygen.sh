#!/bin/sh
# Builds the API reference from scratch: stale pages of a renamed symbol must
# not survive, and fresh directories tell ninja the output is new.
# Then names every man page after the library, so that the package installs
# nothing under a name another package may use: Doxygen makes a link page for
# every struct member too ("db.3", "count.3"; only links named after the
# library's own symbols are kept), and names header pages after the bare file
# ("sink.h.3" becomes "libportsync-sink.h.3").
# usage: run-doxygen.sh DOXYGEN DOXYFILE OUTPUT_DIRECTORY HEADER...
set -eu
doxygen=$1
doxyfile=$2
out=$3
shift 3
# Doxygen says nothing of the undocumented symbols of a header that has no
# @file comment: it leaves the whole header out. So each must have one.
for header in "$@"; do
	if ! grep -q '^ \* @file$' "$header"; then
		echo "$header: error: no @file doc comment; its symbols would go unchecked" >&2
		exit 1
	fi
done
rm -rf "$out/html" "$out/man3"
"$doxygen" "$doxyfile"
cd "$out/man3"
for page in *.3; do
	case $page in
	psync_* | PSYNC_* | libportsync-*) ;;
	*.h.3) mv "$page" "libportsync-$page" ;;
	*) if head -n 1 "$page" | grep -q '^\.so '; then rm -f "$page"; fi ;;
	esac
done
# Links to a header page follow it. Doxygen writes a leading " as ', which
# troff takes for a request: \& makes it text.
sed -i -e 's|^\.so man3/\([a-z_]*\.h\.3\)$|.so man3/libportsync-\1|' -e "s/^'/\\\\\&'/" ./*.3
