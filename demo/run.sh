#!/bin/sh
# demo/run.sh - starts the jumpgate demo on loopback: two sshd targets (an
# "ECS host" web-1 and the "monitoring box"), MariaDB as rds-demo, and
# jumpgated on 127.0.0.1:2222; prints what to try; Ctrl-C stops it all.
# Usage: demo/run.sh BUILD_DIR (as root; `make demo` calls it).
set -eu

BUILD=${1:?usage: demo/run.sh BUILD_DIR}
HERE=$(cd "$(dirname "$0")" && pwd)
RUN="$HERE/run"
WEB1_PORT=2201
MON_PORT=2202
DB_PORT=3307
GW_PORT=2222

if [ "$(id -u)" -ne 0 ]; then
    echo "jumpgate: the demo runs as root (it starts sshd and jumpgated)" >&2
    exit 2
fi
[ -x "$BUILD/jumpgated" ] || { echo "jumpgate: $BUILD/jumpgated is not built" >&2; exit 2; }

pids=""
cleanup() {
    trap - INT TERM EXIT
    echo
    echo "demo: stopping"
    for p in $pids; do kill "$p" 2>/dev/null || true; done
    for p in $pids; do wait "$p" 2>/dev/null || true; done
}
trap cleanup INT TERM EXIT

mkdir -p "$RUN"
cd "$RUN"
key() { [ -f "$1" ] || ssh-keygen -q -t ed25519 -N "" -C "$(basename "$1")" -f "$1"; }
for k in alice bob gw_host upstream web-1_host monitor_host; do key "$RUN/$k"; done
chmod 600 "$RUN"/alice "$RUN"/bob

# --- targets: two sshd on loopback -------------------------------------------
mkdir -p /run/sshd
cp "$RUN/upstream.pub" "$RUN/authorized_keys"
chmod 600 "$RUN/authorized_keys"
start_sshd() { # name port
    cat > "$RUN/sshd_$1.conf" <<CONF
Port $2
ListenAddress 127.0.0.1
HostKey $RUN/$1_host
PidFile $RUN/sshd_$1.pid
AuthorizedKeysFile $RUN/authorized_keys
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
AcceptEnv LANG LC_*
Subsystem sftp internal-sftp
CONF
    /usr/sbin/sshd -D -e -f "$RUN/sshd_$1.conf" 2>"$RUN/sshd_$1.log" &
    pids="$pids $!"
}
start_sshd web-1 $WEB1_PORT
start_sshd monitor $MON_PORT
{
    echo "[127.0.0.1]:$WEB1_PORT $(cat "$RUN/web-1_host.pub")"
    echo "[127.0.0.1]:$MON_PORT $(cat "$RUN/monitor_host.pub")"
} > "$RUN/known_hosts"

# --- rds-demo: MariaDB with its own datadir ----------------------------------
if [ ! -d "$RUN/mariadb/mysql" ]; then
    mkdir -p "$RUN/mariadb"
    mariadb-install-db --no-defaults --datadir="$RUN/mariadb" --user=root \
        --auth-root-authentication-method=normal --skip-test-db --skip-name-resolve >"$RUN/mariadb-install.log" 2>&1
fi
mariadbd --no-defaults --datadir="$RUN/mariadb" --user=root --bind-address=127.0.0.1 \
    --port=$DB_PORT --socket="$RUN/mariadb.sock" --pid-file="$RUN/mariadb.pid" \
    --skip-log-bin >"$RUN/mariadb.log" 2>&1 &
pids="$pids $!"

# --- jumpgated -----------------------------------------------------------------
cat > "$RUN/policy.yaml" <<POL
version: 1
users:
  alice:
    keys: ["$(cat "$RUN/alice.pub")"]
    groups: [ops]
    from: [127.0.0.0/8]
  bob:
    keys: ["$(cat "$RUN/bob.pub")"]
    groups: [contractors]
    from: [127.0.0.0/8]
targets:
  web-1:    {kind: ssh, address: "127.0.0.1:$WEB1_PORT", labels: {tier: ecs}}
  monitor:  {kind: ssh, address: "127.0.0.1:$MON_PORT", labels: {tier: monitoring}}
  rds-demo: {kind: tcp, address: "127.0.0.1:$DB_PORT", protocol: mysql}
rules:
  - name: ops-shell
    groups: [ops]
    targets: ["tier=ecs", monitor]
    allow: [shell, exec, sftp]
    logins: [root]
  - name: ops-db
    groups: [ops]
    targets: [rds-demo]
    allow: [forward]
  - name: contractors-web
    groups: [contractors]
    targets: [web-1]
    allow: [exec]
    logins: [root]
    when: "Mon-Fri 07:00-21:00 Europe/Madrid"
POL
cat > "$RUN/jumpgate.yaml" <<CFG
listen: ["127.0.0.1:$GW_PORT"]
host_keys: [$RUN/gw_host]
policy: $RUN/policy.yaml
upstream:
  identity: $RUN/upstream
  known_hosts: $RUN/known_hosts
audit:
  dir: $RUN/audit
  signing_key: $RUN/audit_ed25519.pem
limits: {login_grace: 30s}
CFG
mkdir -p "$RUN/audit"
[ -f "$RUN/audit_ed25519.pem" ] || "$BUILD/jumpgate" -c "$RUN/jumpgate.yaml" audit keygen
"$BUILD/jumpgated" -t -c "$RUN/jumpgate.yaml"
echo "[127.0.0.1]:$GW_PORT $(cat "$RUN/gw_host.pub")" > "$RUN/client_known_hosts"
SSH="ssh -F /dev/null -o UserKnownHostsFile=$RUN/client_known_hosts -o IdentitiesOnly=yes -p $GW_PORT -i $RUN/alice"

cat <<TRY

jumpgate demo: jumpgated on 127.0.0.1:$GW_PORT, targets web-1 (:$WEB1_PORT),
monitor (:$MON_PORT), rds-demo (MariaDB :$DB_PORT). Files in $RUN.
Try, in another terminal:

  $SSH alice:web-1@127.0.0.1                     # shell on the ECS host
  $SSH alice:root@monitor@127.0.0.1 uptime       # exec, login named
  $SSH alice@127.0.0.1                           # no target: the menu (arrows, Enter, q)
  $SSH alice@127.0.0.1 uptime                    # no target, no pty: the list, exit 1
  sftp -F /dev/null -o UserKnownHostsFile=$RUN/client_known_hosts -o IdentitiesOnly=yes -P $GW_PORT -i $RUN/alice alice+web-1@127.0.0.1
  $SSH -N -L 3306:rds-demo:$DB_PORT alice@127.0.0.1 &
      mariadb -h 127.0.0.1 -P 3306 -u root -e 'select version()'
  ssh -F /dev/null -o UserKnownHostsFile=$RUN/client_known_hosts -o IdentitiesOnly=yes -p $GW_PORT -i $RUN/bob bob:monitor@127.0.0.1   # denied, with the reason
  $BUILD/jumpgate -c $RUN/jumpgate.yaml audit list      # the recordings
  $BUILD/jumpgate -c $RUN/jumpgate.yaml audit verify --all
  kill -HUP \$(pgrep -o -f 'jumpgated -f -c $RUN')   # reload after editing $RUN/policy.yaml

Ctrl-C stops everything.

TRY
"$BUILD/jumpgated" -f -c "$RUN/jumpgate.yaml" &
pids="$pids $!"
wait
