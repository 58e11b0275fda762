#!/bin/sh
# Installs what building, testing and running libportsync needs on Debian 12.
# Why each: meson/ninja/pkg-config build it; libnl-3/libnl-route-3 read rtnetlink;
# hiredis talks to Redis; json-c reads recordings and database_config.json;
# uthash (header-only) provides the hash tables; libinih reads portsyncd's
# tunables file; Criterion runs the tests;
# redis-server and iproute2 give the tests a real Redis and network namespaces;
# g++ compiles the C++ header test; curl scrapes /metrics in the tests and
# examples/metrics-table.sh; clang and libclang-rt-14-dev (libFuzzer and the
# sanitizer runtimes, only recommended by clang) build the fuzz targets.
set -eu
packages="gcc g++ make meson ninja-build pkg-config
	libnl-3-dev libnl-route-3-dev libhiredis-dev libjson-c-dev uthash-dev libinih-dev
	libcriterion-dev redis-server iproute2 binutils curl clang libclang-rt-14-dev"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q >/dev/null
# shellcheck disable=SC2086
$sudo apt-get install -y -q --no-install-recommends $packages >/dev/null
echo "dependencies installed"
