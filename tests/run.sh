#!/bin/sh
# The whole test suite, as CI runs it: installs the dependencies, builds with
# warnings as errors, runs every test plainly and again under AddressSanitizer
# + UndefinedBehaviorSanitizer, runs each fuzz target for 20 s (tests/run-fuzz.sh),
# then checks the installed package.
# Tests that need root (network namespaces) fail rather than skip without it.
set -eu
# Namespaces and installing packages need root: ask for it once, up front.
if [ "$(id -u)" -ne 0 ]; then
	exec sudo "$0" "$@"
fi
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
tests/install-deps.sh

features="-Dnetlink=enabled -Dredis=enabled -Ddaemon=enabled -Dtests=enabled -Dwerror=true --wrap-mode=nodownload"
passed=0
failed=0

# Counts a finished run's results from meson's JSON log.
tally() {
	log="$1/meson-logs/testlog.json"
	ok=$(grep -c '"result": "OK"' "$log" || true)
	total=$(grep -c '"result": ' "$log" || true)
	passed=$((passed + ok))
	failed=$((failed + total - ok))
}

run_suite() {
	dir=$1
	shift
	if [ -f "$dir/build.ninja" ]; then
		# shellcheck disable=SC2086
		meson setup --reconfigure "$dir" $features "$@" >/dev/null || return 1
	else
		# shellcheck disable=SC2086
		meson setup "$dir" $features "$@" >/dev/null || return 1
	fi
	ninja -C "$dir" || return 1
	result=0
	meson test -C "$dir" --print-errorlogs || result=1
	tally "$dir"
	return $result
}

status=0
echo "== plain build"
run_suite build/ci-plain || status=1

echo "== AddressSanitizer + UndefinedBehaviorSanitizer build"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
run_suite build/ci-sanitize -Db_sanitize=address,undefined -Db_lundef=false || status=1
# Criterion's workers report leaks on exit without failing the test: read the log.
if grep -E -q 'ERROR: (LeakSanitizer|AddressSanitizer)|runtime error:' build/ci-sanitize/meson-logs/testlog.txt; then
	grep -E -A12 'ERROR: (LeakSanitizer|AddressSanitizer)|runtime error:' build/ci-sanitize/meson-logs/testlog.txt | head -60
	echo "sanitizer reports found" >&2
	failed=$((failed + 1))
	status=1
fi
unset ASAN_OPTIONS UBSAN_OPTIONS

echo "== fuzzing"
tests/run-fuzz.sh 20 || status=1
if read -r fuzz_passed fuzz_failed <build/ci-fuzz/tally; then
	passed=$((passed + fuzz_passed))
	failed=$((failed + fuzz_failed))
else
	failed=$((failed + 1))
fi

echo "== install check"
if tests/check-install.sh build/ci-plain "$top"; then
	passed=$((passed + 1))
else
	failed=$((failed + 1))
	status=1
fi

echo "tests: $passed passed, $failed failed"
exit $status
