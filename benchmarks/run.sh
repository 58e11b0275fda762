#!/bin/sh
# Every benchmark, as docs/PERFORMANCE.md reports them: builds a release build
# in build/bench and prints the tables. Not part of the test suite's pass or
# fail: the figures depend on the machine. Needs root (network namespaces);
# run after the README's set-up (tests/run.sh installs the dependencies).
#   benchmarks/run.sh [--quick]     (--quick: shorter runs, for trying things)
set -eu
if [ "$(id -u)" -ne 0 ]; then
	exec sudo "$0" "$@"
fi
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
quick=""
events=2000000
if [ "${1:-}" = "--quick" ]; then
	quick="--quick"
	events=500000
fi

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

status=0
echo "== portsyncd on the real path (scenarios 1-8)"
build/bench/benchmarks/bench-portsyncd $quick || status=1
echo
echo "== the library alone (scenario 9)"
build/bench/benchmarks/bench-pipeline "$events" 3 || status=1
echo
echo "== the netlink source against the kernel"
build/bench/benchmarks/bench-netlink || status=1
echo
echo "== the Redis sink against redis-server"
build/bench/benchmarks/bench-redis || status=1
exit $status
