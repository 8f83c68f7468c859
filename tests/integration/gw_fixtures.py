# SPDX-License-Identifier: Apache-2.0
# tests/integration/gw_fixtures.py - fixtures for the jumpgated tests: keys,
# real sshd targets on loopback, MariaDB as rds-demo, a PAM service with a
# password and TOTP, and a running jumpgated with a policy per test module.
import hashlib
import json
import os
import shutil
import signal
import socket
import shlex
import subprocess
import time
import re
import urllib.request
from pathlib import Path

import pytest

BUILD = Path(os.environ.get("JG_BUILD", Path(__file__).resolve().parents[2] / "build"))
JUMPGATED = Path(os.environ.get("JG_JUMPGATED") or BUILD / "jumpgated")
JUMPGATE = BUILD / "jumpgate"
TOTP_SECRET = "3132333435363738393031323334353637383930"
CAROL_PASSWORD = "correct horse"


# Tests connect from loopback all the time: by default their gateways
# neither penalise nor limit a source beyond limits.max_startups.
LOOSE = "per_source_startups: 64, penalties: {grace_exceeded: 0s, noauth: 0s}"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, host="127.0.0.1", timeout=10.0, proc=None):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode}")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {host}:{port}")


def keygen(path, kind="ed25519"):
    subprocess.run(["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", path.name,
                    "-f", str(path)], check=True)
    return Path(str(path) + ".pub").read_text().strip()


def descendants(pid):
    """Pids of the processes below pid (from /proc), deepest last."""
    kids = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        kids.setdefault(ppid, []).append(int(d.name))
    out, todo = [], [pid]
    while todo:
        for k in kids.get(todo.pop(), []):
            out.append(k)
            todo.append(k)
    return out


def proc_uid(pid):
    """The real uid of pid, or -1 when it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("Uid:"):
                return int(line.split()[1])
    except OSError:
        pass
    return -1


def ppid(pid):
    """The parent of pid, or -1 when it is gone."""
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except OSError:
        return -1


def gateway_events(g):
    """Every event of gateway g's event log, oldest first. A line the
    gateway is writing at this moment (no newline yet) is left for the next
    read."""
    out = []
    for f in sorted((g.audit_dir / "events").glob("*.jsonl")):
        whole = f.read_text().split("\n")[:-1]
        out += [json.loads(l) for l in whole if l]
    return out


def stop(proc, timeout=5):
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout)


# Start-up files of the account the targets log in as (root): a developer's
# machine may run heavy things there (a pyenv init per shell), which a
# target host does not. The test sshds see them as empty files, in a mount
# namespace of their own; nothing outside it changes. Where no mount
# namespace can be made (a chroot), the sshds run as they are.
ROOT_RC = [p for p in (Path("/root") / n for n in
                       (".bashrc", ".profile", ".bash_profile", ".bash_login"))
           if p.is_file()]
if ROOT_RC and subprocess.run(["unshare", "--mount", "--propagation", "private", "true"],
                              capture_output=True).returncode != 0:
    ROOT_RC = []


def sshd_argv(cfg):
    argv = ["/usr/sbin/sshd", "-D", "-e", "-f", str(cfg)]
    if not ROOT_RC:
        return argv
    hide = "".join(f"mount --bind /dev/null {shlex.quote(str(p))} && " for p in ROOT_RC)
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c",
            hide + 'exec "$@"', "sh", *argv]


class Sshd:
    """An OpenSSH sshd on 127.0.0.1 with its own host key and config,
    accepting the gateway's upstream identity for root."""

    def __init__(self, base, name, upstream_pub, loglevel="ERROR"):
        self.dir = base / name
        self.dir.mkdir()
        self.port = free_port()
        self.hostkey = self.dir / "hostkey"
        keygen(self.hostkey)
        self.hostpub = Path(str(self.hostkey) + ".pub").read_text().strip()
        ak = self.dir / "authorized_keys"
        ak.write_text(upstream_pub + "\n")
        ak.chmod(0o600)
        cfg = self.dir / "sshd_config"
        cfg.write_text(f"""\
Port {self.port}
ListenAddress 127.0.0.1
HostKey {self.hostkey}
PidFile {self.dir}/pid
AuthorizedKeysFile {ak}
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
AcceptEnv LANG LC_* JGTEST_*
Subsystem sftp internal-sftp
LogLevel {loglevel}
""")
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
        self.log = open(self.dir / "log", "w")
        self.proc = subprocess.Popen(sshd_argv(cfg), stdout=self.log,
                                     stderr=subprocess.STDOUT)
        wait_port(self.port, proc=self.proc)

    def stop(self):
        stop(self.proc)
        self.log.close()


class Env:
    """Keys and targets shared by all gateway tests of a run."""

    def __init__(self, base):
        self.base = base
        self.keys = base / "keys"
        self.keys.mkdir()
        self.pub = {}
        for u in ("alice", "bob", "carol", "dave", "mallory"):
            self.pub[u] = keygen(self.keys / u)
        self.hostkey = self.keys / "gw_host"
        self.hostpub = keygen(self.hostkey)
        self.identity = self.keys / "upstream"
        self.identity_pub = keygen(self.identity)
        self.web1 = Sshd(base, "web-1", self.identity_pub)
        self.web2 = Sshd(base, "web-2", self.identity_pub)
        self.monitor = Sshd(base, "monitor", self.identity_pub)
        self.down_port = free_port()
        kh = base / "known_hosts"
        # web-2 is listed with another host's key: a changed key.
        kh.write_text(
            f"[127.0.0.1]:{self.web1.port} {self.web1.hostpub}\n"
            f"[127.0.0.1]:{self.monitor.port} {self.monitor.hostpub}\n"
            f"[127.0.0.1]:{self.web2.port} {self.web1.hostpub}\n"
            f"[127.0.0.1]:{self.down_port} {self.web1.hostpub}\n")
        self.known_hosts = kh
        self.mysql_port = None
        self.pam_service = None
        self._mariadb = None

    def stop(self):
        for s in (self.web1, self.web2, self.monitor):
            s.stop()
        if self._mariadb is not None:
            stop(self._mariadb, timeout=20)
        if self.pam_service is not None:
            Path("/etc/pam.d", self.pam_service).unlink(missing_ok=True)

    def mariadb(self):
        """Starts MariaDB on a loopback port (once); returns the port."""
        if self._mariadb is not None:
            return self.mysql_port
        d = self.base / "mariadb"
        data = d / "data"
        data.mkdir(parents=True)
        subprocess.run(["mariadb-install-db", "--no-defaults", f"--datadir={data}",
                        "--user=root", "--auth-root-authentication-method=normal",
                        "--skip-test-db", "--skip-name-resolve"], check=True, capture_output=True,
                       timeout=120)
        self.mysql_port = free_port()
        self._mariadb_log = open(d / "log", "w")
        self._mariadb = subprocess.Popen(
            ["mariadbd", "--no-defaults", f"--datadir={data}", "--user=root",
             "--bind-address=127.0.0.1", f"--port={self.mysql_port}",
             f"--socket={d}/sock", f"--pid-file={d}/pid", "--skip-grant-tables=0",
             "--skip-log-bin"],
            stdout=self._mariadb_log, stderr=subprocess.STDOUT)
        wait_port(self.mysql_port, timeout=60, proc=self._mariadb)
        return self.mysql_port

    def pam(self):
        """A PAM service asking a password (pam_exec) and a TOTP (pam_oath)."""
        if self.pam_service is not None:
            return self.pam_service
        d = self.base / "pam"
        d.mkdir()
        check = d / "checkpw.sh"
        check.write_text("#!/bin/sh\npw=$(tr -d '\\000')\n"
                         f"[ \"$PAM_USER\" = carol ] && [ \"$pw\" = '{CAROL_PASSWORD}' ]\n")
        check.chmod(0o755)
        users = d / "users.oath"
        users.write_text(f"HOTP/T30 carol - {TOTP_SECRET}\n")
        users.chmod(0o600)
        name = f"jg-gwtest-{os.getpid()}"
        Path("/etc/pam.d", name).write_text(
            f"auth required pam_exec.so expose_authtok quiet {check}\n"
            f"auth required pam_oath.so usersfile={users} window=4 digits=6\n"
            "account required pam_permit.so\n")
        self.pam_service = name
        return name


def totp():
    return subprocess.run(["oathtool", "--totp", TOTP_SECRET], check=True,
                          capture_output=True, text=True).stdout.strip()


def policy_text(env, extra_rules="", users_extra="", targets_extra=""):
    p = env.pub
    mysql = env.mysql_port or free_port()
    return f"""\
version: 1
users:
  alice:
    keys: ["{p['alice']}"]
    groups: [ops]
    from: [127.0.0.1/32, 127.0.0.2/32]
  bob:
    keys: ["{p['bob']}"]
    groups: [dev]
    from: [127.0.0.0/8]
  carol:
    keys: ["{p['carol']}"]
    groups: [ops]
    from: [127.0.0.0/8]
    mfa: true
  dave:
    keys: ["{p['dave']}"]
    groups: [ops]
    from: [127.0.0.0/8]
    expires: 2020-01-01T00:00:00Z
{users_extra}targets:
  web-1:    {{kind: ssh, address: "127.0.0.1:{env.web1.port}", labels: {{tier: ecs}}}}
  web-2:    {{kind: ssh, address: "127.0.0.1:{env.web2.port}", labels: {{tier: ecs}}}}
  web-3:    {{kind: ssh, address: "localhost:{env.web1.port}", labels: {{tier: ecs}}}}
  down-1:   {{kind: ssh, address: "127.0.0.1:{env.down_port}", labels: {{tier: ecs}}}}
  monitor:  {{kind: ssh, address: "127.0.0.1:{env.monitor.port}", labels: {{tier: monitoring}}}}
  rds-demo: {{kind: tcp, address: "127.0.0.1:{mysql}", protocol: mysql}}
{targets_extra}rules:
  - name: ops-shell
    groups: [ops]
    targets: ["tier=ecs", monitor]
    allow: [shell, exec, sftp]
    logins: [root]
  - name: ops-db
    groups: [ops]
    targets: [rds-demo]
    allow: [forward]
  - name: alice-jump
    users: [alice]
    targets: [monitor]
    allow: [jump]
  - name: dev-exec
    groups: [dev]
    targets: [web-1]
    allow: [exec]
    logins: [root]
{extra_rules}"""


class Gateway:
    """A jumpgated in the foreground on a free loopback port."""

    def __init__(self, env, base, policy, pam_service="jumpgate", login_grace="30s",
                 limits=None, config_extra="", control_socket=None, identity=None,
                 idle_timeout=None, wrap=(), seal_interval=None, upstream_extra="",
                 known_hosts=None):
        self.env = env
        self.dir = base
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.policy = self.dir / "policy.yaml"
        self.policy.write_text(policy)
        self.config = self.dir / "jumpgate.yaml"
        idle = f", idle_timeout: {idle_timeout}" if idle_timeout else ""
        seals = f"\n  seal_interval: {seal_interval}" if seal_interval else ""
        # identity=False: no static key (certificates only)
        ident = "" if identity is False else f"  identity: {identity or env.identity}\n"
        self.config.write_text(f"""\
listen: ["127.0.0.1:{self.port}"]
host_keys: [{env.hostkey}]
policy: {self.policy}
upstream:
{ident}  known_hosts: {known_hosts or env.known_hosts}
{upstream_extra}pam_service: {pam_service}
audit:
  dir: {self.dir}/audit
  signing_key: {self.dir}/audit.key{seals}
limits: {limits or f"{{login_grace: {login_grace}, auth_failures: {{max: 1000}}, {LOOSE}{idle}}}"}
control_socket: {control_socket or self.dir / "control.sock"}
{config_extra}""")
        self.control_socket = Path(control_socket or self.dir / "control.sock")
        # The gateway records sessions: audit.dir and a seal key.
        self.audit_dir = self.dir / "audit"
        self.audit_dir.mkdir(exist_ok=True)
        self.audit_key = self.dir / "audit.key"
        if not self.audit_key.exists():
            subprocess.run([str(JUMPGATE), "-c", str(self.config), "audit",
                            "keygen"], check=True, capture_output=True)
        self.kh = self.dir / "client_known_hosts"
        self.kh.write_text(f"[127.0.0.1]:{self.port} {env.hostpub}\n")
        self.logpath = self.dir / "jumpgated.log"
        self.log = open(self.logpath, "w")
        # wrap: a command that execs jumpgated in the end (the same pid).
        self.proc = subprocess.Popen([*wrap, str(JUMPGATED), "-f", "-c", str(self.config)],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        wait_port(self.port, proc=self.proc)
        # The master listens before it opens its control socket.
        wait_for(lambda: self.control_socket.exists() or self.proc.poll() is not None,
                 timeout=60, what="the control socket")

    def logtext(self):
        self.log.flush()
        return self.logpath.read_text(errors="replace")

    def wait_log(self, needle, timeout=10.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if needle in self.logtext():
                return True
            time.sleep(0.05)
        return False

    def ssh_args(self, user, key="alice", bind=None, extra=()):
        args = ["ssh", "-F", "/dev/null", "-p", str(self.port),
                "-o", f"UserKnownHostsFile={self.kh}",
                "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes",
                "-o", "IdentitiesOnly=yes", "-o", "ConnectTimeout=10",
                "-o", "ServerAliveInterval=0",
                "-i", str(self.env.keys / key)]
        if bind:
            args += ["-b", bind]
        args += list(extra)
        args += ["-l", user, "127.0.0.1"]
        return args

    def client_opts(self, user, key="alice"):
        """Options for sftp and scp (which take -P for the port)."""
        return ["-F", "/dev/null", "-P", str(self.port),
                "-o", f"UserKnownHostsFile={self.kh}",
                "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes",
                "-o", "IdentitiesOnly=yes", "-o", f"User={user}",
                "-i", str(self.env.keys / key)]

    def ssh(self, user, *cmd, key="alice", bind=None, extra=(), input=None,
            timeout=30):
        return subprocess.run(self.ssh_args(user, key, bind, extra) + list(cmd),
                              input=input, capture_output=True, timeout=timeout)

    def sighup(self):
        self.proc.send_signal(signal.SIGHUP)

    def stop(self):
        # Sessions drain on SIGTERM; the test is over, so end ours too.
        left = descendants(self.proc.pid) if self.proc.poll() is None else []
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        stop(self.proc)
        self.log.close()
        # A sanitizer report anywhere in the gateway's life fails the test.
        text = self.logpath.read_text(errors="replace")
        for mark in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
            assert mark not in text, text[text.index(mark) - 200:][:4000]


_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)')


def parse_metrics(text):
    """The Prometheus text format 0.0.4 as {(name, ((label, value), ...)):
    value}; checks that every sample has its family's HELP and TYPE lines
    first and that label values are escaped."""
    helps, types, out = set(), {}, {}
    for line in text.splitlines():
        if line.startswith("# HELP "):
            helps.add(line.split(" ", 3)[2])
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert kind in ("counter", "gauge"), line
            types[name] = kind
            continue
        assert line and not line.startswith("#"), line
        m = re.fullmatch(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)", line)
        assert m, line
        name, body, value = m.group(1), m.group(3) or "", m.group(4)
        assert name in helps and name in types, f"no HELP/TYPE for {name}"
        labels, pos = [], 0
        while pos < len(body):
            lm = _LABEL.match(body, pos)
            assert lm, f"bad labels in {line!r}"
            raw = lm.group(2)
            val = re.sub(r"\\(.)", lambda x: {"n": "\n"}.get(x.group(1), x.group(1)), raw)
            labels.append((lm.group(1), val))
            pos = lm.end()
        out[(name, tuple(sorted(labels)))] = float(value)
    return out, types


def scrape(port, path="/metrics"):
    """GET http://127.0.0.1:port/metrics; (samples, types)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
        assert r.status == 200
        assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        return parse_metrics(r.read().decode())


def metric(samples, name, **labels):
    """The value of one series (0 when it does not exist yet)."""
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def wait_for(pred, timeout=15.0, what="condition"):
    """Polls pred() until it is true (bounded); returns its last value."""
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() > end:
            assert v, f"timed out waiting for {what}"
            return v
        time.sleep(0.1)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def debug_target(gw_env, base, name, allow):
    """A target sshd named name that logs at LogLevel DEBUG1 (key exchange,
    user-auth and channel requests), known to the gateway, and a gateway
    whose policy lets alice do allow (a list) there as root: (gw, sshd);
    the caller stops both."""
    sshd = Sshd(base, name, gw_env.identity_pub, loglevel="DEBUG1")
    with open(gw_env.known_hosts, "a") as f:
        f.write(f"[127.0.0.1]:{sshd.port} {sshd.hostpub}\n")
    policy = policy_text(
        gw_env,
        targets_extra=f'  {name}: {{kind: ssh, address: "127.0.0.1:{sshd.port}"}}\n',
        extra_rules=f"  - name: alice-{name}\n    users: [alice]\n    targets: [{name}]\n"
                    f"    allow: [{', '.join(allow)}]\n    logins: [root]\n")
    return Gateway(gw_env, base / "gw", policy), sshd


@pytest.fixture(scope="session")
def gw_env(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.skip("the gateway tests run as root")
    if not JUMPGATED.exists():
        pytest.fail(f"{JUMPGATED} is not built")
    env = Env(tmp_path_factory.mktemp("gw"))
    yield env
    env.stop()


@pytest.fixture(scope="module")
def gw(gw_env, tmp_path_factory):
    """A gateway with the standard test policy, one per test module."""
    g = Gateway(gw_env, tmp_path_factory.mktemp("gwd"), policy_text(gw_env))
    yield g
    g.stop()


@pytest.fixture
def make_gateway(gw_env, tmp_path):
    """Starts gateways with custom policies; stops them after the test."""
    made = []

    def make(policy=None, **kw):
        g = Gateway(gw_env, tmp_path / f"gw{len(made)}",
                    policy if policy is not None else policy_text(gw_env), **kw)
        made.append(g)
        return g
    yield make
    for g in made:
        g.stop()


__all__ = ["gw_env", "gw", "make_gateway", "Gateway", "Env", "Sshd", "debug_target", "policy_text",
           "free_port", "wait_port", "sha256_file", "totp", "CAROL_PASSWORD",
           "JUMPGATED", "JUMPGATE", "stop", "parse_metrics", "scrape", "metric",
           "wait_for"]
