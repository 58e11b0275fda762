#!/bin/sh
# Every benchmark, as docs/PERFORMANCE.md reports them: builds a release build
# in build/bench and prints the tables. Not part of the test suite's pass or
# fail: the figures depend on the machine. Each figure with a target here is
# marked "met" or "SHORT"; the last line counts them, "targets: N met, M
# short". Exits 1 only when a benchmark could not run or found STATE_DB
# differing from the kernel, never for a figure short of its target. Needs
# root (network namespaces); run after the README's set-up (tests/run.sh
# installs the dependencies).
#   benchmarks/run.sh [--quick] [--before PATH]
#                                   (--quick: shorter runs, for trying things;
#                                   --before: a portsyncd built before a change,
#                                   measured beside this build's by
#                                   bench-portsyncd in the same run)
#   benchmarks/run.sh --soak [SECONDS]   (only the soak: portsyncd under mixed
#                                        load and Redis faults, 600 s by default;
#                                        exits 1 unless its end state is exact)
set -eu
if [ "$(id -u)" -ne 0 ]; then
	exec sudo "$0" "$@"
fi
quick=""
soak=""
before=""
events=2000000
while [ $# -gt 0 ]; do
	case "$1" in
	--quick)
		quick="--quick"
		events=500000
		;;
	--before)
		[ $# -ge 2 ] || { echo "run.sh: --before needs a path" >&2; exit 2; }
		# From the caller's directory, before this script moves to the top.
		before=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
		shift
		;;
	--soak)
		soak=600
		case "${2:-}" in [0-9]*) soak="$2"; shift ;; esac
		;;
	*)
		echo "usage: benchmarks/run.sh [--quick] [--before PATH] | --soak [SECONDS]" >&2
		exit 2
		;;
	esac
	shift
done
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

options="-Dbuildtype=release -Dbenchmarks=true -Dtests=disabled --wrap-mode=nodownload"
log=build/bench.log
mkdir -p build
if [ -f build/bench/build.ninja ]; then
	# shellcheck disable=SC2086
	meson setup --reconfigure build/bench $options >"$log" 2>&1 || { cat "$log"; exit 1; }
else
	# shellcheck disable=SC2086
	meson setup build/bench $options >"$log" 2>&1 || { cat "$log"; exit 1; }
fi
ninja -C build/bench >>"$log" 2>&1 || { cat "$log"; exit 1; }

# Not in the default run: it takes 10 minutes.
if [ -n "$soak" ]; then
	echo "== portsyncd under mixed load and Redis faults (soak, $soak s)"
	exec build/bench/benchmarks/bench-soak "$soak"
fi

# Each program's output is also kept, to add up the "targets:" lines at the end.
kept=$(mktemp -d)
trap 'rm -rf "$kept"' EXIT
bench() {
	{ "$@" || echo "$1" >>"$kept/failed"; } | tee -a "$kept/tables"
}
count() {
	sed -n "s/^targets: \([0-9]*\) met, \([0-9]*\) short.*/\\$1/p" "$kept/tables" |
		awk '{ n += $1 } END { print n + 0 }'
}

echo "== portsyncd on the real path (scenarios 1-9)"
bench build/bench/benchmarks/bench-portsyncd $quick ${before:+--before "$before"}
echo
echo "== the library alone (bench-pipeline)"
bench build/bench/benchmarks/bench-pipeline "$events" 3
echo
echo "== the netlink source against the kernel"
bench build/bench/benchmarks/bench-netlink
echo
echo "== the Redis sink against redis-server"
bench build/bench/benchmarks/bench-redis
echo
echo "== what portsyncd's per-event NOTICE lines cost (LOGLEVEL ERROR vs NOTICE)"
bench build/bench/benchmarks/bench-log "$((events / 4))" 5
echo
# A figure short of its target is not a failure: the figures depend on the machine.
echo "targets: $(count 1) met, $(count 2) short (every table with a target here)"
[ ! -s "$kept/failed" ] || exit 1
