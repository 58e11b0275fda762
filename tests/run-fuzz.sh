#!/bin/sh
# The libFuzzer targets of tests/fuzz, each for a fixed time over its seed
# corpus, under AddressSanitizer + UndefinedBehaviorSanitizer, built with
# clang in a build directory of their own (build/ci-fuzz). Any finding (a
# crash, a sanitizer report, a leak, a check of the target's, a hang or an
# out-of-memory) fails that target; the input that caused it is kept in
# build/ci-fuzz/findings/ and the end of the log is printed.
#
# Usage: tests/run-fuzz.sh [SECONDS [TARGET...]]   (default: 20 s, every target)
# The corpus grows in build/ci-fuzz/corpus/TARGET; the committed seeds are only
# read. The last line, and build/ci-fuzz/tally, give the passed/failed counts.
# FUZZ_BUILD=DIR builds and runs in DIR instead of build/ci-fuzz.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
seconds=${1:-20}
[ $# -gt 0 ] && shift
dir=${FUZZ_BUILD:-build/ci-fuzz}
rm -f "$dir/tally"
opts="-Dfuzz=enabled -Db_sanitize=address,undefined -Db_lundef=false
	-Dnetlink=enabled -Dredis=enabled -Ddaemon=enabled -Dtests=disabled
	-Dexamples=false -Dbenchmarks=false -Dwerror=true --wrap-mode=nodownload"
if [ -f "$dir/build.ninja" ]; then
	# shellcheck disable=SC2086
	CC=clang meson setup --reconfigure "$dir" $opts >/dev/null
else
	# shellcheck disable=SC2086
	CC=clang meson setup "$dir" $opts >/dev/null
fi
ninja -C "$dir" fuzz >/dev/null
if [ $# -gt 0 ]; then
	targets="$*"
else
	targets=$(ls tests/fuzz/corpus)
fi

export ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
passed=0
failed=0
mkdir -p "$dir/findings"
for t in $targets; do
	work="$dir/corpus/$t"
	log="$dir/fuzz-$t.log"
	mkdir -p "$work"
	cp tests/fuzz/corpus/"$t"/* "$work"/
	if "$dir/tests/fuzz/fuzz-$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$dir/findings/$t-" "$work" >"$log" 2>&1; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
		cov=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | sed 's/.*\(cov: [0-9]*\) \(ft: [0-9]*\) \(corp: [^ ]*\).*/\1 \2 \3/')
		echo "fuzz-$t: ok, $runs runs, $cov"
		passed=$((passed + 1))
	else
		echo "fuzz-$t: FINDING (log: $log)" >&2
		tail -n 40 "$log" >&2
		failed=$((failed + 1))
	fi
done
echo "$passed $failed" >"$dir/tally"
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
