#!/bin/sh
# deps/ssh-audit.sh - fetches Debian's ssh-audit package of VERSION (from
# trixie: Debian 12's 2.5.0 predates the post-quantum key exchanges and
# strict key exchange, and would call them unknown) with apt's own tools
# and unpacks it into DEST, with DEST/ssh-audit to run it on Debian's
# python3. The integration tests audit jumpgated with it; nothing is
# installed into the system. A second run with DEST complete does nothing.
#
#   deps/ssh-audit.sh VERSION DEST
set -eu
. "$(dirname "$0")/private-apt.sh"

ver=$1
dest=$2
[ "$(cat "$dest/debian-version" 2>/dev/null)" = "$ver" ] && exit 0

work=$dest.work
rm -rf "$work" "$dest"
mkdir -p "$work"
papt_init "$work/apt" deb trixie
papt_dl_dir "$work/dl"
echo "deps: fetching ssh-audit $ver from $papt_mirror (trixie)"
if ! papt update >"$work/apt.log" 2>&1 ||
   ! (cd "$work/dl" && papt download "ssh-audit=$ver") >>"$work/apt.log" 2>&1; then
    grep -E "^(E|W): " "$work/apt.log" | sed 's/^/  /' >&2 || true
    echo "deps: ssh-audit $ver: apt-get download from $papt_mirror (trixie) failed" >&2
    exit 1
fi
mkdir -p "$dest"
dpkg-deb -x "$work/dl/ssh-audit_${ver}_all.deb" "$dest/root"
cat > "$dest/ssh-audit" <<EOS
#!/bin/sh
# ssh-audit $ver, unpacked by deps/ssh-audit.sh
PYTHONPATH="$dest/root/usr/lib/python3/dist-packages" exec /usr/bin/python3 -m ssh_audit "\$@"
EOS
chmod 0755 "$dest/ssh-audit"
[ -f "$dest/root/usr/lib/python3/dist-packages/ssh_audit/__main__.py" ] ||
    { echo "deps: ssh-audit $ver: the package lacks ssh_audit/__main__.py" >&2; exit 1; }
printf '%s\n' "$ver" > "$dest/debian-version"
rm -rf "$work"
echo "deps: ssh-audit $ver unpacked into $dest"
