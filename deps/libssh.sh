#!/bin/sh
# deps/libssh.sh - fetches Debian's libssh source package (the version the
# Makefile pins in LIBSSH_VERSION) with apt's own tools and builds it once,
# as a static library against the system's OpenSSL, into DEST.
#
#   deps/libssh.sh VERSION DEST
#
# apt runs with a private configuration (deps/private-apt.sh) and verifies
# the source package as it verifies every package.
# The patches in deps/libssh-patches/ are applied on top of Debian's.
# LIBSSH_DSC=/path/libssh_VERSION.dsc builds from a local copy instead;
# DEBIAN_MIRROR picks another Debian mirror. A second run with DEST
# complete does nothing.
set -eu
. "$(dirname "$0")/private-apt.sh"

ver=$1
dest=$2
# Our patches (deps/libssh-patches/, each says why) go on top of Debian's.
patches=$(ls "$(dirname "$0")"/libssh-patches/*.patch 2>/dev/null | LC_ALL=C sort || true)
# shellcheck disable=SC2086
stamp="$ver $(cat $patches /dev/null | sha256sum | cut -c1-16)"
# The stamp is written last: a build cut short, or one with other
# patches, is redone.
if [ "$(cat "$dest/stamp" 2>/dev/null)" = "$stamp" ]; then
    touch "$dest/lib/libssh.a"
    exit 0
fi

# The development suites carry libssh 0.12; forky keeps a version longest.
suites="sid forky"
work=$dest.work
upstream=${ver%-*}

fail() {
    echo "deps: libssh $ver: $*" >&2
    exit 1
}
for tool in apt-get dpkg-source cmake cc; do
    command -v $tool >/dev/null 2>&1 ||
        fail "$tool is missing (run 'make deps' as root to install it)"
done

rm -rf "$work"
mkdir -p "$work"

if [ -n "${LIBSSH_DSC:-}" ]; then
    [ -f "$LIBSSH_DSC" ] || fail "LIBSSH_DSC=$LIBSSH_DSC: no such file"
    dsc=$LIBSSH_DSC
    echo "deps: libssh $ver from $dsc"
else
    papt_init "$work/apt" deb-src $suites
    papt_dl_dir "$work/dl"
    echo "deps: fetching libssh $ver source from $papt_mirror ($suites)"
    if ! papt update >"$work/apt.log" 2>&1 ||
       ! (cd "$work/dl" && papt --download-only source "libssh=$ver") \
           >>"$work/apt.log" 2>&1; then
        grep -E "^(E|W): " "$work/apt.log" | sed 's/^/  /' >&2 || true
        fail "apt-get source libssh=$ver from $papt_mirror ($suites) failed; fetch libssh_$ver.dsc and its files by hand and run: make deps LIBSSH_DSC=/path/to/libssh_$ver.dsc"
    fi
    dsc=$work/dl/libssh_$ver.dsc
fi

dpkg-source --no-check -x "$dsc" "$work/src" >"$work/extract.log" 2>&1 ||
    { cat "$work/extract.log" >&2; fail "dpkg-source -x $dsc failed"; }
got=$(dpkg-parsechangelog -l "$work/src/debian/changelog" -S Version)
[ "$got" = "$ver" ] || fail "$dsc holds libssh $got, not $ver"
for p in $patches; do
    patch -d "$work/src" -p1 --forward --batch --quiet < "$p" ||
        fail "$p does not apply"
done

# Only what jumpgate uses: the client and the server over OpenSSL and zlib;
# no GSSAPI, FIDO2, pcap or examples. Position-independent, so that it can
# go into the PAM module's shared object too.
echo "deps: building libssh $ver (static) in $work/build"
cmake -S "$work/src" -B "$work/build" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_FLAGS="-fstack-protector-strong -D_FORTIFY_SOURCE=2" \
    -DCMAKE_POSITION_INDEPENDENT_CODE=ON \
    -DCMAKE_INSTALL_PREFIX="$dest" -DCMAKE_INSTALL_LIBDIR=lib \
    -DBUILD_SHARED_LIBS=OFF -DBUILD_STATIC_LIB=OFF \
    -DWITH_GSSAPI=OFF -DWITH_FIDO2=OFF -DWITH_PCAP=OFF -DWITH_EXAMPLES=OFF \
    -DWITH_SYMBOL_VERSIONING=OFF -DUNIT_TESTING=OFF -DCLIENT_TESTING=OFF \
    -DSERVER_TESTING=OFF >"$work/build.log" 2>&1 &&
cmake --build "$work/build" --parallel 2 >>"$work/build.log" 2>&1 &&
rm -rf "$dest" &&
cmake --install "$work/build" >>"$work/build.log" 2>&1 ||
    { tail -30 "$work/build.log" >&2; fail "the build failed (log: $work/build.log)"; }
grep -q "LIBSSH_VERSION_MINOR" "$dest/include/libssh/libssh_version.h" ||
    fail "the install in $dest lacks libssh_version.h"
printf '%s\n' "$stamp" > "$dest/stamp"
rm -rf "$work"
echo "deps: libssh $upstream built into $dest"
