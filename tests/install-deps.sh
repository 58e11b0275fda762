#!/bin/sh
# Installs what building, testing and running libportsync needs on Debian 12.
# Why each: meson/ninja/pkg-config build it; libnl-3/libnl-route-3 read rtnetlink;
# hiredis talks to Redis; json-c reads recordings and database_config.json;
# uthash (header-only) provides the hash tables; libinih reads portsyncd's
# tunables file; Criterion runs the tests;
# redis-server and iproute2 give the tests a real Redis and network namespaces;
# g++ compiles the C++ header test; curl scrapes /metrics in the tests and
# examples/metrics-table.sh; prometheus gives promtool, which lints a live
# /metrics page and checks and unit-tests examples/prometheus/ rules;
# libsystemd-dev and libevent-dev build the embedding examples (sd-event and
# libevent loops hosting the pipeline) and their tests;
# debhelper, dpkg-dev and build-essential (which dpkg-buildpackage requires of
# every build) build the Debian packages in tests/check-debian.sh, no fakeroot
# needed (Rules-Requires-Root: no); lintian checks them; clang and
# libclang-rt-14-dev (libFuzzer and the sanitizer runtimes, only recommended by
# clang) build the fuzz targets.
#   tests/install-deps.sh [--verbose]   (--verbose: apt's output on stdout, for a log)
set -eu
packages="gcc g++ make meson ninja-build pkg-config
	libnl-3-dev libnl-route-3-dev libhiredis-dev libjson-c-dev uthash-dev libinih-dev
	libcriterion-dev redis-server iproute2 binutils curl prometheus
	libsystemd-dev libevent-dev
	build-essential debhelper dpkg-dev lintian
	clang libclang-rt-14-dev"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
packages="$packages doxygen" # builds the API reference (docs/), failing on an undocumented symbol
verbose=""
[ "${1:-}" != "--verbose" ] || verbose=1
apt_get() {
	if [ -n "$verbose" ]; then $sudo apt-get "$@"; else $sudo apt-get "$@" >/dev/null; fi
}
export DEBIAN_FRONTEND=noninteractive
apt_get update -q
# shellcheck disable=SC2086
apt_get install -o DPkg::Lock::Timeout=600 -y -q --no-install-recommends $packages
echo "dependencies installed"
