#!/bin/sh
# tests/tools/deps.sh - installs every build and test dependency of jumpgate
# on Debian 12 (run as root), the 'jumpgate' system user, and the npm
# packages of tests/tools/package.json (s3rver) and console/web/package.json
# (the asciinema player) into their node_modules (git-ignored; exact
# versions from package-lock.json). A second run installs nothing.
set -eu

PKGS="build-essential pkg-config clang libclang-rt-14-dev
cmake zlib1g-dev libssl-dev libcurl4-openssl-dev libseccomp-dev libpam0g-dev
libyaml-dev libjansson-dev libxml2-dev libmicrohttpd-dev libcmocka-dev libzstd-dev
libarchive-dev
libglib2.0-dev tzdata groff-base
python3 python3-pytest python3-cryptography python3-pexpect python3-yaml python3-pymysql python3-botocore python3-zstandard
python3-asyncssh python3-selenium chromium chromium-driver fonts-dejavu-core
openssh-server openssh-client mariadb-server mariadb-client
libpam-oath oathtool pamtester asciinema iproute2 procps valgrind gdb tlog
dpkg-dev debhelper fakeroot lintian adduser systemd prometheus"
# Node.js for s3rver: Debian's, unless a node is already there.
command -v node >/dev/null 2>&1 || PKGS="$PKGS nodejs"
command -v npm >/dev/null 2>&1 || PKGS="$PKGS npm"

missing=""
for p in $PKGS; do
    s=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [ "$s" = installed ] || missing="$missing $p"
done

if [ -n "$missing" ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "jumpgate: missing packages:$missing" >&2
        echo "jumpgate: run 'make deps' as root to install them" >&2
        exit 2
    fi
    echo "deps: installing$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    # services must not start at install time in containers and CI
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d.jumpgate
    chmod +x /usr/sbin/policy-rc.d.jumpgate
    had_policy=no
    [ -e /usr/sbin/policy-rc.d ] && had_policy=yes
    [ $had_policy = yes ] || cp /usr/sbin/policy-rc.d.jumpgate /usr/sbin/policy-rc.d
    # shellcheck disable=SC2086
    apt-get install -y -q --no-install-recommends $missing
    [ $had_policy = yes ] || rm -f /usr/sbin/policy-rc.d
    rm -f /usr/sbin/policy-rc.d.jumpgate
fi

if ! getent passwd jumpgate >/dev/null; then
    if [ "$(id -u)" -eq 0 ]; then
        echo "deps: adding system user jumpgate"
        useradd --system --home-dir /var/lib/jumpgate --no-create-home \
            --shell /usr/sbin/nologin jumpgate
    fi
fi
# npm packages at the versions the lock files pin: s3rver, the S3 store of
# the integration tests (tests/tools), and the asciinema player that the
# auditors' console serves and the package ships (console/web).
tools=$(cd "$(dirname "$0")" && pwd)
npm_ci() {   # DIR PACKAGE
    if [ ! -f "$1/node_modules/$2/package.json" ] ||
       [ "$(cd "$1" && node -p "require('./node_modules/$2/package.json').version" 2>/dev/null)" != \
         "$(cd "$1" && node -p "require('./package.json').dependencies['$2']")" ]; then
        echo "deps: npm ci in $1 ($2)"
        # Trust what the system trusts too (a TLS-inspecting proxy's CA in
        # /etc/ssl/certs, say), not only Node's own list.
        ca=/etc/ssl/certs/ca-certificates.crt
        (cd "$1" && if [ -f "$ca" ]; then export NODE_EXTRA_CA_CERTS="$ca"; fi &&
            npm ci --no-audit --no-fund --loglevel=error)
    fi
}
npm_ci "$tools" s3rver
npm_ci "$tools/../../console/web" asciinema-player
exit 0
