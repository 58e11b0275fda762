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

features="-Dnetlink=enabled -Dredis=enabled -Ddaemon=enabled -Dtests=enabled -Ddocs=enabled -Dwerror=true --wrap-mode=nodownload"
passed=0
failed=0
cases=0
cases_failed=0

# Counts a finished run's results from meson's JSON log: test programs, and
# the test cases of each Criterion suite from its "Synthesis: Tested: N |
# Passing: P" line.
tally() {
	log="$1/meson-logs/testlog.json"
	ok=$(grep -c '"result": "OK"' "$log" || true)
	total=$(grep -c '"result": ' "$log" || true)
	passed=$((passed + ok))
	failed=$((failed + total - ok))
	tested=$(grep -o 'Synthesis: Tested: [0-9]*' "$log" | awk '{ n += $3 } END { print n + 0 }')
	passing=$(grep -o 'Synthesis: Tested: [0-9]* | Passing: [0-9]*' "$log" |
		awk '{ n += $6 } END { print n + 0 }')
	cases=$((cases + tested))
	cases_failed=$((cases_failed + tested - passing))
}

# Shows a failed build's log: from ninja's first FAILED line, or all of it.
show_log() {
	if grep -q '^FAILED: ' "$1"; then sed -n '/^FAILED: /,$p' "$1"; else cat "$1"; fi
	echo "(the whole log: $1)"
}

# Builds with the compile lines in $dir.log, shown only on failure (which
# counts as one failed test), then runs the tests.
run_suite() {
	dir=$1
	shift
	build_log="$dir.log"
	mkdir -p "$(dirname "$dir")"
	reconfigure=""
	[ ! -f "$dir/build.ninja" ] || reconfigure="--reconfigure"
	# shellcheck disable=SC2086
	if ! meson setup $reconfigure "$dir" $features "$@" >"$build_log" 2>&1 ||
		! ninja -C "$dir" >>"$build_log" 2>&1; then
		show_log "$build_log"
		failed=$((failed + 1))
		return 1
	fi
	echo "built $dir (log: $build_log)"
	result=0
	meson test -C "$dir" --no-rebuild --print-errorlogs || result=1
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

# A check script: one passed or one failed.
check() {
	echo "== $1"
	shift
	if "$@"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		status=1
	fi
}

check "install check" tests/check-install.sh build/ci-plain "$top"
check "Debian packages" tests/check-debian.sh "$top"
check "meson subproject" tests/check-subproject.sh "$top"

echo "tests: $passed passed, $failed failed (test programs and checks, both builds;" \
	"$cases Criterion test cases, $cases_failed failed)"
exit $status
