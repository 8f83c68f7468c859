#!/bin/sh
# tests/tools/deps.sh - installs every build and test dependency of jumpgate
# on Debian 12 (run as root), and the 'jumpgate' system user. A second run
# installs nothing.
set -eu

PKGS="build-essential pkg-config clang libclang-rt-14-dev
libssh-dev libssl-dev libcurl4-openssl-dev libseccomp-dev libpam0g-dev
libyaml-dev libjansson-dev libxml2-dev libmicrohttpd-dev libcmocka-dev
libglib2.0-dev tzdata groff-base
python3 python3-pytest python3-pexpect python3-yaml python3-pymysql python3-botocore
openssh-server openssh-client mariadb-server mariadb-client
libpam-oath oathtool pamtester asciinema iproute2 procps valgrind tlog"

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
exit 0
