# Sourced by the check scripts that take SOURCE_DIR as $1, after `set -eu`
# and with $what set to the name their summary line starts with: the source
# tree in $src, a scratch directory $work removed on exit, $log inside it,
# and fail MESSAGE, which says what failed with the log's tail and exits 1.
src=$(cd "$1" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
log=$work/log

fail() {
	echo "$what: $*" >&2
	[ ! -s "$log" ] || tail -n 40 "$log" >&2
	exit 1
}
