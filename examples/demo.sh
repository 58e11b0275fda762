#!/bin/sh
# The main job on an embedded default: installs the dependencies, builds the
# library, and runs a pipeline (generated link events -> mirror policy ->
# in-process memory sink), printing what it measured.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
tests/install-deps.sh
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# Quiet on success, the whole story on failure.
quietly() {
	"$@" >"$log" 2>&1 || { cat "$log" >&2; exit 1; }
}
if [ -f build/demo/build.ninja ]; then
	quietly meson setup --reconfigure build/demo --wrap-mode=nodownload
else
	quietly meson setup build/demo --wrap-mode=nodownload
fi
quietly ninja -C build/demo
build/demo/examples/replay-to-memory "${1:-512}" "${2:-1000000}"
