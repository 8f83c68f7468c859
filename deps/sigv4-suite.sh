#!/bin/sh
# deps/sigv4-suite.sh - fetches the AWS Signature Version 4 test suite for
# the unit tests (tests/unit/sync/test_sigv4.c). AWS publishes it without a
# package of its own; Debian 12's node-aws4 source package (VERSION) carries
# it in test/aws-sig-v4-test-suite/. Only its upstream tarball is fetched,
# with apt's own tools (apt checks the archive's signature and the file's
# hash), and that folder is unpacked into DEST. Nothing is installed into
# the system. A second run with DEST complete does nothing.
#
#   deps/sigv4-suite.sh VERSION DEST
set -eu
. "$(dirname "$0")/private-apt.sh"

ver=$1
dest=$2
[ "$(cat "$dest/debian-version" 2>/dev/null)" = "$ver" ] && exit 0

fail() {
    echo "deps: SigV4 test suite (node-aws4 $ver): $*" >&2
    exit 1
}

work=$dest.work
rm -rf "$work" "$dest"
mkdir -p "$work"
papt_init "$work/apt" deb-src bookworm
papt_dl_dir "$work/dl"
echo "deps: fetching the SigV4 test suite (node-aws4 $ver source) from $papt_mirror (bookworm)"
if ! papt update >"$work/apt.log" 2>&1 ||
   ! (cd "$work/dl" && papt --download-only --tar-only source "node-aws4=$ver") \
       >>"$work/apt.log" 2>&1; then
    grep -E "^(E|W): " "$work/apt.log" | sed 's/^/  /' >&2 || true
    fail "apt-get source --tar-only from $papt_mirror (bookworm) failed"
fi
tarball=$(ls "$work"/dl/node-aws4_*.orig.tar.* 2>/dev/null | head -n 1)
[ -n "$tarball" ] || fail "no upstream tarball was fetched"
mkdir -p "$work/x"
tar -xf "$tarball" -C "$work/x" --wildcards '*/test/aws-sig-v4-test-suite/*' ||
    fail "$tarball holds no test/aws-sig-v4-test-suite/"
mv "$work"/x/*/test/aws-sig-v4-test-suite "$dest"
[ -f "$dest/post-vanilla/post-vanilla.authz" ] ||
    fail "the suite lacks post-vanilla/post-vanilla.authz"
printf '%s\n' "$ver" > "$dest/debian-version"
rm -rf "$work"
echo "deps: SigV4 test suite unpacked into $dest"
