#!/bin/sh
# Builds the Debian packages from a copy of the tree (dpkg-buildpackage writes
# into the parent directory), checks them with lintian, unpacks them into a
# scratch root (never into the system: other tests must not see an installed
# copy) and checks what a user of the packages gets there: pkg-config finds
# the library, examples/pkgconfig-consumer builds against it and runs, and
# portsyncd --version runs. Prints one summary line; non-zero on any failure.
# usage: check-debian.sh SOURCE_DIR
set -eu
what="Debian packages"
. "$(dirname "$0")/check-common.sh"

# Build-Depends and tests/install-deps.sh name the same packages, so CI on a
# fresh machine can build what a packager builds.
# Every word of install-deps.sh outside comments counts as a package name.
installed=$(sed -e 's/#.*//' -e 's/packages=//g' "$src/tests/install-deps.sh" | tr -d '"' |
	tr -s ' \t\n' ' ')
bdeps=$(awk '/^[^ \t]/ { on = sub(/^Build-Depends:/, "") } on' "$src/debian/control" |
	tr ',' '\n' | awk 'NF { print $1 }' | sed 's/^debhelper-compat$/debhelper/')
for dep in $bdeps; do
	case " $installed " in
	*" $dep "*) ;;
	*) fail "Build-Depends names $dep, tests/install-deps.sh does not install it" ;;
	esac
done

# Every override (or block of them) says why in a comment right above it.
for f in "$src"/debian/*.lintian-overrides "$src"/debian/source/lintian-overrides; do
	[ -f "$f" ] || continue
	bare=$(awk '/^#/ { why = 1; next } /^[ \t]*$/ { why = 0; next } !why' "$f")
	[ -z "$bare" ] || fail "lintian override without a reason (comment) in $f: $bare"
done

mkdir "$work/src"
tar -C "$src" --exclude='./build*' --exclude='./_build*' --exclude='./obj-*' \
	--exclude=./.git --exclude=./debian/tmp -cf - . | tar -C "$work/src" -xf -

# As root, build in an empty network namespace: proof that the build needs
# no network (Debian 12 builds packages offline, and so does CI).
offline=""
network="with network"
if [ "$(id -u)" -eq 0 ] && unshare --net true 2>/dev/null; then
	offline="unshare --net"
	network="without network"
fi
(cd "$work/src" && $offline dpkg-buildpackage -us -uc -b) >"$log" 2>&1 ||
	fail "dpkg-buildpackage failed (a dpkg-gensymbols diff means the ABI changed: update debian/libportsync0.symbols)"
version=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version)
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
changes=$work/libportsync_${version}_$arch.changes
: >"$log"
[ -f "$changes" ] || fail "no $changes"

# Errors and warnings fail; overridden tags (each with its reason) do not.
lintian --fail-on error,warning "$changes" >"$log" 2>&1 || fail "lintian:"
overridden=$(lintian --show-overrides "$changes" 2>/dev/null | grep -c '^O: ' || true)
: >"$log"

root=$work/root
mkdir "$root"
for pkg in libportsync0 libportsync-dev portsyncd; do
	deb=$work/${pkg}_${version}_$arch.deb
	[ -f "$deb" ] || fail "no $pkg package"
	dpkg -x "$deb" "$root"
done
libdir=$root/usr/lib/$multiarch
for f in usr/lib/$multiarch/pkgconfig/libportsync.pc usr/lib/$multiarch/libportsync.so \
	usr/include/portsync/portsync.h usr/sbin/portsyncd usr/share/man/man8/portsyncd.8.gz \
	etc/portsyncd/portsyncd.conf lib/systemd/system/portsyncd.service; do
	[ -e "$root/$f" ] || fail "/$f is in no package"
done
dpkg-deb -I "$work/portsyncd_${version}_$arch.deb" conffiles | grep -qx /etc/portsyncd/portsyncd.conf ||
	fail "/etc/portsyncd/portsyncd.conf is not a conffile"
dpkg-deb -I "$work/libportsync0_${version}_$arch.deb" symbols >/dev/null 2>&1 ||
	fail "libportsync0 has no symbols file"
[ -f "$root/usr/share/doc/libportsync-dev/html/index.html" ] ||
	fail "libportsync-dev has no HTML API reference"
html=$(find "$root/usr/share/doc/libportsync-dev/html" -name '*.html' | wc -l)
[ -f "$root/usr/share/man/man3/psync_pipeline_new.3.gz" ] ||
	fail "libportsync-dev has no man 3 page psync_pipeline_new(3)"
man3=$(find "$root/usr/share/man/man3" -name '*.3.gz' | wc -l)

export PKG_CONFIG_PATH="$libdir/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$root"
libs=$(pkg-config --libs libportsync 2>"$log") || fail "pkg-config --libs libportsync failed"
cp -r "$src/examples/pkgconfig-consumer" "$work/consumer"
make -s -C "$work/consumer" >"$log" 2>&1 || fail "examples/pkgconfig-consumer does not build"
unset PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR
# The library must come from the unpacked packages, not from the system.
LD_LIBRARY_PATH=$libdir ldd "$work/consumer/consumer" | grep -qF "=> $libdir/libportsync.so.0 " ||
	fail "the consumer does not load libportsync.so.0 from the packages"
LD_LIBRARY_PATH=$libdir "$work/consumer/consumer" >"$log" 2>&1 || fail "the consumer failed"
LD_LIBRARY_PATH=$libdir "$root/usr/sbin/portsyncd" --version >"$log" 2>&1 || fail "portsyncd --version failed"
daemon=$(head -n 1 "$log")

echo "Debian packages: libportsync0 libportsync-dev portsyncd $version built $network," \
	"lintian clean ($overridden overridden, each with a reason), pkg-config --libs '$(echo "$libs" | sed -e "s|$root|<root>|g" -e "s/ *$//")', consumer OK," \
	"'$daemon', API reference: $html HTML pages, $man3 man 3 pages"
