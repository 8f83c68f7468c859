# SPDX-License-Identifier: Apache-2.0
# tests/bench/bench_env.py - the loopback set-up of the SSH benchmarks: the
# 'jgbench' system account (/bin/sh, no rc files), keys, an OpenSSH sshd as
# the jump host and one as the target, a TCP sink on the target side, client
# ssh_config files, and jumpgated with or without recording. Every process
# it starts is stopped by its pid; the account and the folder are removed.
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ACCOUNT = "jgbench"

# The TCP sink: reads each connection to its end, then answers with the
# number of bytes it got, so the sender knows everything arrived.
SINK = r"""
import socket, sys, threading
def serve(c):
    n = 0
    buf = bytearray(1 << 20)
    while True:
        k = c.recv_into(buf)
        if k == 0:
            break
        n += k
    c.sendall(b"%d\n" % n)
    c.close()
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(64)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc=None, timeout=15.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"bench: {proc.args[0]} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"bench: nothing listens on 127.0.0.1:{port}")


def stop(proc, timeout=10):
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout)


def children_map():
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
    return kids


def descendants(pid):
    """Pids of every process below pid."""
    kids, out, todo = children_map(), [], [pid]
    while todo:
        for k in kids.get(todo.pop(), []):
            out.append(k)
            todo.append(k)
    return out


def pss_kib(pid):
    """Proportional set size of one process in KiB (0 once it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def comm(pid):
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def keygen(path):
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", path.name,
                    "-f", str(path)], check=True)
    return Path(str(path) + ".pub").read_text().strip()


class Account:
    """The dedicated target/jump account; removed again if we made it."""

    def __init__(self, home):
        self.made = False
        try:
            pwd.getpwnam(ACCOUNT)
        except KeyError:
            subprocess.run(["useradd", "--system", "--shell", "/bin/sh",
                            "--home-dir", str(home), "--no-create-home", ACCOUNT],
                           check=True)
            self.made = True
        # '*' rather than useradd's '!': sshd without PAM refuses locked
        # accounts, and '*' still matches no password.
        subprocess.run(["usermod", "-p", "*", "-d", str(home), "-s", "/bin/sh",
                        ACCOUNT], check=True)
        pw = pwd.getpwnam(ACCOUNT)
        self.uid, self.gid = pw.pw_uid, pw.pw_gid
        home.mkdir(mode=0o755, exist_ok=True)
        os.chown(home, self.uid, self.gid)

    def kill_processes(self):
        """Ends what the account still runs (a 'sleep' outlives its SSH
        session when it has no tty); the account exists only for the bench."""
        for d in Path("/proc").iterdir():
            if not d.name.isdigit():
                continue
            try:
                if d.stat().st_uid != self.uid:
                    continue
                os.kill(int(d.name), signal.SIGKILL)
            except (OSError, ProcessLookupError):
                pass

    def remove(self):
        self.kill_processes()
        if self.made:
            subprocess.run(["userdel", ACCOUNT], check=False,
                           stderr=subprocess.DEVNULL)


class Sshd:
    """An OpenSSH sshd on 127.0.0.1 for the bench account."""

    def __init__(self, env, name, debug=False):
        self.dir = env.dir / name
        self.dir.mkdir()
        self.port = free_port()
        key = self.dir / "hostkey"
        self.hostpub = keygen(key)
        self.logpath = self.dir / "log"
        cfg = self.dir / "sshd_config"
        cfg.write_text(f"""\
Port {self.port}
ListenAddress 127.0.0.1
HostKey {key}
PidFile {self.dir}/pid
AuthorizedKeysFile {env.authorized_keys}
TrustedUserCAKeys {env.keys}/user_ca.pub
AllowUsers {ACCOUNT}
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitUserRC no
PermitUserEnvironment no
PrintMotd no
PrintLastLog no
AllowTcpForwarding yes
MaxStartups 1000:30:1000
MaxSessions 1000
Subsystem sftp internal-sftp
LogLevel {"DEBUG1" if debug else "ERROR"}
""")
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
        self.proc = subprocess.Popen(["/usr/sbin/sshd", "-D", "-f", str(cfg),
                                      "-E", str(self.logpath)],
                                     stdin=subprocess.DEVNULL)
        wait_port(self.port, proc=self.proc)

    def log_size(self):
        try:
            return self.logpath.stat().st_size
        except OSError:
            return 0

    def log_since(self, offset):
        with open(self.logpath, "rb") as f:
            f.seek(offset)
            return f.read().decode(errors="replace")


class Gateway:
    """jumpgated on a free loopback port, recording sessions or not, and
    logging in to the target with its static key or, with cert, with a
    per-session certificate from the user CA."""

    def __init__(self, env, name, record=True, cert=False):
        self.env = env
        self.name = name
        self.record = record
        self.dir = env.dir / name
        self.dir.mkdir()
        self.port = free_port()
        self.audit = self.dir / "audit"
        self.audit.mkdir()
        self.config = self.dir / "jumpgate.yaml"
        audit = (f"audit: {{dir: {self.audit}, signing_key: {self.dir}/audit.pem}}\n"
                 if record else
                 f"audit: {{dir: {self.audit}, on_failure: continue}}\n")
        # Every bench connection comes from 127.0.0.1: no per-source cap or
        # penalty, as for a gateway behind a load balancer.
        self.config.write_text(f"""\
listen: ["127.0.0.1:{self.port}"]
host_keys: [{env.keys}/gw_host]
policy: {env.policy}
upstream:
  identity: {env.keys}/upstream
  known_hosts: {env.dir}/upstream_known_hosts
{f"  ca: {env.keys}/user_ca{chr(10)}" if cert else ""}{audit}limits: {{max_startups: 1000, login_grace: 60s, per_source_startups: 1000,
         penalties: {{grace_exceeded: 0s, noauth: 0s}}}}
control_socket: {self.dir}/control.sock
""")
        if record:
            subprocess.run([str(env.jumpgate), "-c", str(self.config), "audit",
                            "keygen"], check=True, capture_output=True)
        self.logpath = self.dir / "jumpgated.log"
        self.log = open(self.logpath, "w")
        self.proc = subprocess.Popen([str(env.jumpgated), "-f", "-c", str(self.config)],
                                     stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        wait_port(self.port, proc=self.proc)
        with open(env.known_hosts, "a") as f:
            f.write(f"[127.0.0.1]:{self.port} {env.gw_hostpub}\n")

    def drop_recordings(self):
        """Scenario 1 writes GiBs of recordings: remove them between runs."""
        shutil.rmtree(self.audit / "sessions", ignore_errors=True)

    def recordings(self):
        return sorted((self.audit / "sessions").glob("*/*.jgr"))

    def stop(self):
        for pid in descendants(self.proc.pid) if self.proc.poll() is None else []:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        stop(self.proc)
        self.log.close()


class Env:
    """Everything the scenarios need, on loopback, under one folder."""

    def __init__(self, build, keep=False):
        self.build = Path(build).resolve()
        self.jumpgated = self.build / "jumpgated"
        self.jumpgate = self.build / "jumpgate"
        for p in (self.jumpgated, self.jumpgate):
            if not p.exists():
                raise SystemExit(f"jumpgate: {p} is not built (run make)")
        self.keep = keep
        self.procs = []
        self.gateways = []
        self.sshds = []
        self.account = None
        self.dir = Path(tempfile.mkdtemp(prefix="jg-bench."))
        self.dir.chmod(0o755)
        try:
            self._setup()
        except BaseException:
            self.close()
            raise

    def _setup(self):
        d = self.dir
        self.account = Account(d / "home")
        self.keys = d / "keys"
        self.keys.mkdir(mode=0o755)
        client_pub = keygen(self.keys / "client")
        jump_pub = keygen(self.keys / "jumpuser")
        os.chown(self.keys / "jumpuser", self.account.uid, self.account.gid)
        up_pub = keygen(self.keys / "upstream")
        self.gw_hostpub = keygen(self.keys / "gw_host")
        keygen(self.keys / "user_ca")     # the user CA the target trusts
        self.authorized_keys = d / "authorized_keys"
        self.authorized_keys.write_text(f"{client_pub}\n{jump_pub}\n{up_pub}\n")
        self.authorized_keys.chmod(0o644)
        self.jump = Sshd(self, "jump")
        self.target = Sshd(self, "target", debug=True)
        self.sshds = [self.jump, self.target]
        self.known_hosts = d / "known_hosts"
        self.known_hosts.write_text(
            f"[127.0.0.1]:{self.jump.port} {self.jump.hostpub}\n"
            f"[127.0.0.1]:{self.target.port} {self.target.hostpub}\n")
        self.known_hosts.chmod(0o644)
        (d / "upstream_known_hosts").write_text(
            f"[127.0.0.1]:{self.target.port} {self.target.hostpub}\n")
        self.sink_port = free_port()
        self.sink = self.spawn([sys.executable, "-c", SINK, str(self.sink_port)])
        wait_port(self.sink_port, proc=self.sink)
        self.policy = d / "policy.yaml"
        self.policy.write_text(f"""\
version: 1
users:
  bench:
    keys: ["{client_pub}"]
    from: [127.0.0.0/8]
targets:
  target: {{kind: ssh, address: "127.0.0.1:{self.target.port}"}}
  sink:   {{kind: tcp, address: "127.0.0.1:{self.sink_port}"}}
rules:
  - name: bench-ssh
    users: [bench]
    targets: [target]
    allow: [shell, exec, sftp]
    logins: [{ACCOUNT}]
  - name: bench-forward
    users: [bench]
    targets: [sink]
    allow: [forward]
""")
        # The client's config (root runs the clients) and the one the bench
        # account uses on the jump host for the second hop.
        common = f"""\
  HostName 127.0.0.1
  User {ACCOUNT}
  IdentitiesOnly yes
  UserKnownHostsFile {self.known_hosts}
  GlobalKnownHostsFile /dev/null
  StrictHostKeyChecking yes
  BatchMode yes
  ControlMaster no
  ControlPath none
  UpdateHostKeys no
  ServerAliveInterval 0
  LogLevel ERROR
"""
        hosts = "".join(f"Host {n}\n  Port {p}\n" for n, p in
                        (("jump", self.jump.port), ("target", self.target.port)))
        self.ssh_config = d / "ssh_config"
        self.ssh_config.write_text(f"Host *\n  IdentityFile {self.keys}/client\n"
                                   f"{common}{hosts}")
        self.jump_config = d / "jump_ssh_config"
        self.jump_config.write_text(f"Host *\n  IdentityFile {self.keys}/jumpuser\n"
                                    f"{common}{hosts}")
        for f in (self.ssh_config, self.jump_config):
            f.chmod(0o644)
        self.data = d / "data"
        self.data.mkdir(mode=0o755)
        self.upload = d / "upload"
        self.upload.mkdir()
        os.chown(self.upload, self.account.uid, self.account.gid)

    def spawn(self, args, **kw):
        kw.setdefault("stdin", subprocess.DEVNULL)
        p = subprocess.Popen(args, **kw)
        self.procs.append(p)
        return p

    def gateway(self, name, record=True, cert=False):
        g = Gateway(self, name, record, cert)
        self.gateways.append(g)
        # The gateway's own name in the client config.
        with open(self.ssh_config, "a") as f:
            f.write(f"Host {name}\n  Port {g.port}\n")
        return g

    def close(self):
        for g in self.gateways:
            g.stop()
        for p in self.procs:
            stop(p)
        for s in self.sshds:
            for pid in descendants(s.proc.pid) if s.proc.poll() is None else []:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            stop(s.proc)
        if self.account is not None:
            self.account.remove()
        if not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)
