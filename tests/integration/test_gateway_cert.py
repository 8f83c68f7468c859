# SPDX-License-Identifier: Apache-2.0
# tests/integration/test_gateway_cert.py - no skeleton key: with
# upstream.ca the gateway logs in to each target with a fresh key and a
# short-lived OpenSSH user certificate (key id jumpgate:USER:SESSION, one
# principal: the allowed login), against real OpenSSH sshd targets that
# trust the CA (TrustedUserCAKeys) and have no authorized_keys; targets
# with `auth: key` keep the static identity; host certificates from a
# trusted host CA (@cert-authority in upstream.known_hosts), shown in the
# key exchange, are accepted without a per-host line, and refused when
# expired, from another CA, or not naming the target, unless the key itself
# is pinned (as OpenSSH's client falls back to the plain key). `jumpgate ca keygen|show` and the start-up checks
# of the CA key.
import base64
import os
import re
import signal
import struct
import subprocess
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from gw_fixtures import *  # noqa: F401,F403
from gw_fixtures import (JUMPGATE, JUMPGATED, Gateway, free_port, gateway_events,
                         keygen, policy_text, sshd_argv, stop, wait_for, wait_port)
from test_gateway_agent import _ed25519_seed, _memory_holds, WORKER_UID
from gw_fixtures import descendants, proc_uid

MKCERT = Path(os.environ.get("JG_BUILD", "../../build")) / "tests" / "tools" / "jg_mkcert"
GATE = Path(__file__).resolve().parents[1] / "tools" / "principals-gate"


class CertSshd:
    """An OpenSSH sshd that trusts a user CA and nothing else for logins
    (no authorized_keys), logging the certificates it accepts; with
    host_cert, it also presents that host certificate."""

    def __init__(self, base, name, ca_pub, host_ca=None, host_cert_args=(),
                 extra="", key_id=None):
        self.dir = base / name
        self.dir.mkdir()
        self.port = free_port()
        self.hostkey = self.dir / "hostkey"
        keygen(self.hostkey)
        self.hostpub = Path(str(self.hostkey) + ".pub").read_text().strip()
        (self.dir / "user_ca.pub").write_text(ca_pub)
        cert_line = ""
        if host_ca is not None:
            subprocess.run(["ssh-keygen", "-q", "-s", str(host_ca), "-h", "-I",
                            key_id or f"host-{name}", *host_cert_args,
                            str(self.hostkey) + ".pub"], check=True)
            cert_line = f"HostCertificate {self.hostkey}-cert.pub\n"
        cfg = self.dir / "sshd_config"
        cfg.write_text(f"""\
Port {self.port}
ListenAddress 127.0.0.1
HostKey {self.hostkey}
{cert_line}PidFile {self.dir}/pid
AuthorizedKeysFile none
TrustedUserCAKeys {self.dir}/user_ca.pub
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
Subsystem sftp internal-sftp
LogLevel VERBOSE
{extra}""")
        self.logpath = self.dir / "log"
        self.log = open(self.logpath, "w")
        self.proc = subprocess.Popen(sshd_argv(cfg), stdout=self.log,
                                     stderr=subprocess.STDOUT)
        wait_port(self.port, proc=self.proc)

    def logtext(self):
        self.log.flush()
        return self.logpath.read_text(errors="replace")

    def stop(self):
        stop(self.proc)
        self.log.close()


class CertEnv:
    """A user CA made by `jumpgate ca keygen`, a host CA and another host
    CA (ssh-keygen), and targets: one trusting the user CA, and host
    certificate variants."""

    def __init__(self, gw_env, base):
        self.base = base
        self.ca = base / "user_ca"
        cfg = base / "ca.yaml"
        cfg.write_text(f"policy: /dev/null\nupstream: {{ca: {self.ca}}}\n")
        r = subprocess.run([str(JUMPGATE), "-c", str(cfg), "ca", "keygen"],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        self.ca_pub = Path(str(self.ca) + ".pub").read_text()
        self.host_ca = base / "host_ca"
        keygen(self.host_ca)
        self.other_ca = base / "other_ca"
        keygen(self.other_ca)
        self.t = CertSshd(base, "cert-1", self.ca_pub)
        self.hc_ok = CertSshd(base, "hc-ok", self.ca_pub, self.host_ca,
                              ["-n", "127.0.0.1"])
        self.hc_alias = CertSshd(base, "hc-alias", self.ca_pub, self.host_ca,
                                 ["-n", "hc-alias"])
        self.hc_other = CertSshd(base, "hc-other", self.ca_pub, self.other_ca,
                                 ["-n", "127.0.0.1"])
        self.hc_expired = CertSshd(base, "hc-expired", self.ca_pub, self.host_ca,
                                   ["-n", "127.0.0.1", "-V", "20200101:20200102"])
        # Its key id is long and carries a terminal escape: shown escaped.
        self.hc_name = CertSshd(base, "hc-name", self.ca_pub, self.host_ca,
                                ["-n", "other.example"],
                                key_id="\x1b]0;owned\x07" + "k" * 400)
        # Holds each certificate login at the principals check until told.
        self.gate = base / "gate"
        self.gate.mkdir()
        self.t_gate = CertSshd(base, "cert-gate", self.ca_pub, extra=(
            f"AuthorizedPrincipalsCommand {GATE} {self.gate} %u %k\n"
            "AuthorizedPrincipalsCommandUser root\n"))
        hca = Path(str(self.host_ca) + ".pub").read_text().strip()
        kh = base / "known_hosts"
        # The per-host lines of the standard targets, the cert-1 host key,
        # and one host CA for every port of 127.0.0.1 (a pattern, no keys).
        kh.write_text(gw_env.known_hosts.read_text() +
                      f"[127.0.0.1]:{self.t.port} {self.t.hostpub}\n"
                      f"[127.0.0.1]:{self.t_gate.port} {self.t_gate.hostpub}\n"
                      f"@cert-authority [127.0.0.1]:* {hca}\n"
                      "@cert-authority broken\n")
        self.known_hosts = kh

    def targets(self, keyed=True):
        def t(name, port, extra=""):
            return (f"  {name}: {{kind: ssh, address: \"127.0.0.1:{port}\", "
                    f"labels: {{tier: ecs}}{extra}}}\n")
        return (t("cert-1", self.t.port) + t("cert-gate", self.t_gate.port) +
                t("hc-ok", self.hc_ok.port) +
                t("hc-alias", self.hc_alias.port) + t("hc-other", self.hc_other.port) +
                t("hc-expired", self.hc_expired.port) + t("hc-name", self.hc_name.port) +
                (t("keyed", gw_env_web1_port[0], ", auth: key") if keyed else ""))

    def stop(self):
        for s in (self.t, self.t_gate, self.hc_ok, self.hc_alias, self.hc_other, self.hc_expired,
                  self.hc_name):
            s.stop()


gw_env_web1_port = [0]


@pytest.fixture(scope="module")
def certs(gw_env, tmp_path_factory):
    gw_env_web1_port[0] = gw_env.web1.port
    c = CertEnv(gw_env, tmp_path_factory.mktemp("certs"))
    yield c
    c.stop()


@pytest.fixture(scope="module")
def cgw(gw_env, certs, tmp_path_factory):
    """A gateway with upstream.ca and the static identity (for auth: key)."""
    g = Gateway(gw_env, tmp_path_factory.mktemp("cgw"),
                policy_text(gw_env, targets_extra=certs.targets()),
                upstream_extra=f"  ca: {certs.ca}\n  cert_validity: 2m\n"
                               "  cert_source_address: [127.0.0.1/32, \"::1\"]\n",
                known_hosts=certs.known_hosts)
    yield g
    g.stop()


def _events(g, kind):
    return [e for e in gateway_events(g) if e["type"] == kind]


def test_certificate_login_names_user_and_session(cgw, certs):
    r = cgw.ssh("alice:cert-1", "echo", "cert-ok")
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"cert-ok\n"
    start = wait_for(lambda: [e for e in _events(cgw, "session.start")
                              if e["target"] == "cert-1"], what="session.start")[-1]
    key_id = start["cert_key_id"]
    assert key_id == f"jumpgate:alice:{start['session']}"
    serial = start["cert_serial"]
    assert isinstance(serial, int) and 0 < serial < 2 ** 53
    # The target's own log leads back to the recording.
    log = wait_for(lambda: (lambda t: t if "Accepted publickey for root" in t
                            else None)(certs.t.logtext()), what="the target's log")
    assert f"ID {key_id} (serial {serial})" in log, log[-2000:]
    # Each session its own certificate.
    r = cgw.ssh("alice:cert-1", "true")
    assert r.returncode == 0, r.stderr
    starts = wait_for(lambda: (lambda v: v if len(v) >= 2 else None)(
        [e for e in _events(cgw, "session.start") if e["target"] == "cert-1"]),
        what="two sessions")
    assert starts[-1]["cert_serial"] != starts[-2]["cert_serial"]
    assert starts[-1]["cert_key_id"] != starts[-2]["cert_key_id"]


def test_pty_shell_gets_a_terminal(cgw):
    r = cgw.ssh("alice:cert-1", "tty", extra=("-tt",))
    assert r.returncode == 0, r.stderr
    assert b"/dev/pts/" in r.stdout


def test_auth_key_target_keeps_the_static_identity(cgw):
    r = cgw.ssh("alice:keyed", "echo", "static-ok")
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"static-ok\n"
    start = [e for e in _events(cgw, "session.start") if e["target"] == "keyed"][-1]
    assert "cert_serial" not in start


def test_target_refusing_the_certificate(cgw):
    # web-1 trusts only the static key: its certificate login is refused,
    # said once to the user, recorded with why, and not retried.
    r = cgw.ssh("alice:web-1", "true")
    assert r.returncode != 0
    err = r.stderr.decode()
    assert "refused the gateway's certificate login as root" in err, err
    assert "TrustedUserCAKeys" in err
    ev = wait_for(lambda: [e for e in _events(cgw, "target.error")
                           if e["target"] == "web-1" and e["error"] == "login_refused"],
                  what="target.error login_refused")[-1]
    assert "certificate login as root" in ev["reason"] and "serial" in ev["reason"]
    assert cgw.logtext().count("signed the upstream login of alice as root "
                               "(certificate serial") <= 3


def test_worker_never_holds_the_ca_key(cgw, certs):
    seed = _ed25519_seed(certs.ca)
    ssh = subprocess.Popen(cgw.ssh_args("alice:cert-1") + ["sleep 20"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        start = wait_for(lambda: [e for e in _events(cgw, "session.start")
                                  if e["target"] == "cert-1" and
                                  e.get("command") == "sleep 20"],
                         what="the session")[-1]
        # The target accepted this session's certificate: the monitor
        # has loaded the CA and signed.
        wait_for(lambda: f"ID {start['cert_key_id']} " in certs.t.logtext(),
                 what="the login on the target")
        checked = 0
        for pid in descendants(cgw.proc.pid):
            try:
                if proc_uid(pid) != WORKER_UID:
                    continue
                stat = Path(f"/proc/{pid}/stat").read_text()
                monitor = int(stat.rsplit(")", 1)[1].split()[1])
                if not _memory_holds(monitor, seed):
                    continue        # another connection, or one not signing
                assert not _memory_holds(pid, seed)
                assert not _memory_holds(pid, seed.hex().encode())
                checked += 1
            except FileNotFoundError:
                continue
        assert checked >= 1
    finally:
        ssh.kill()
        ssh.wait()


def _ed25519_private_of(pid, pub):
    """The Ed25519 seed in pid's memory whose public key is pub, found the
    way the key object holds it: next to each copy of pub, every 8-byte
    word that could be a pointer is followed, and the 32 bytes it points
    at are tried as a seed (any allocator, no layout assumed beyond the
    seed being pointed at from within 128 bytes of the public half)."""
    chunk = 16 << 20
    with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem:
        def read(addr, n):
            try:
                mem.seek(addr)
                return mem.read(n)
            except (OSError, OverflowError, ValueError):
                return b""
        for line in maps:
            f = line.split()
            lo, hi = (int(x, 16) for x in f[0].split("-"))
            if not f[1].startswith("rw") or hi - lo > (1 << 30) or \
                    (len(f) > 5 and f[5] in ("[vvar]", "[vsyscall]")):
                continue
            for base in range(lo, hi, chunk):
                data = read(base, min(chunk, hi - base))
                at = data.find(pub)
                while at >= 0:
                    near = read((base + at) & ~7, 136)
                    for i in range(0, len(near) - 7, 8):
                        ptr = struct.unpack("<Q", near[i:i + 8])[0]
                        if not 0x10000 < ptr < (1 << 47):
                            continue
                        seed = read(ptr, 32)
                        if len(seed) != 32 or seed == pub:
                            continue
                        got = Ed25519PrivateKey.from_private_bytes(seed).public_key()
                        if got.public_bytes(Encoding.Raw, PublicFormat.Raw) == pub:
                            return seed
                    at = data.find(pub, at + 1)
    return None


def test_worker_never_holds_the_session_key(cgw, certs):
    """The session's own private key is made in the monitor and never
    reaches the worker: held at the target's principals check (the key
    exists, the signature is not made yet), the monitor's heap has it and
    the worker's memory has neither it nor its hex."""
    for f in ("asked", "go"):
        (certs.gate / f).unlink(missing_ok=True)
    ssh = subprocess.Popen(cgw.ssh_args("alice:cert-gate") + ["echo", "gated"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    stopped = []
    try:
        asked = wait_for(lambda: (certs.gate / "asked").exists() and
                         (certs.gate / "asked").read_text().strip(),
                         what="the target asking about the certificate")
        blob = base64.b64decode(asked)
        n = struct.unpack(">I", blob[:4])[0]
        assert blob[4:4 + n] == b"ssh-ed25519-cert-v01@openssh.com"
        p = 4 + n
        p += 4 + struct.unpack(">I", blob[p:p + 4])[0]        # nonce
        assert struct.unpack(">I", blob[p:p + 4])[0] == 32
        pub = blob[p + 4:p + 36]
        # Freeze the workers so that nothing moves while memory is read.
        workers = [pid for pid in descendants(cgw.proc.pid)
                   if proc_uid(pid) == WORKER_UID]
        for pid in workers:
            os.kill(pid, signal.SIGSTOP)
            stopped.append(pid)
        seed = None
        for pid in workers:
            stat = Path(f"/proc/{pid}/stat").read_text()
            seed = _ed25519_private_of(int(stat.rsplit(")", 1)[1].split()[1]), pub)
            if seed is not None:
                break
        assert seed is not None, "the monitor must hold the session key"
        for pid in workers:
            assert not _memory_holds(pid, seed)
            assert not _memory_holds(pid, seed.hex().encode())
    finally:
        for pid in stopped:
            os.kill(pid, signal.SIGCONT)
        (certs.gate / "go").touch()
        out, err = ssh.communicate(timeout=60)
    # The login goes on from where it was held.
    assert ssh.returncode == 0, err
    assert out == b"gated\n"


def _mkcert(certs, tmp_path, principal, after, before, name):
    out = tmp_path / name
    r = subprocess.run([str(MKCERT), str(certs.ca), principal, str(after),
                        str(before), "77", str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return out


def _present(certs, key, login="root"):
    return subprocess.run(
        ["ssh", "-F", "/dev/null", "-p", str(certs.t.port), "-i", str(key),
         "-o", f"CertificateFile={key}-cert.pub", "-o", "IdentitiesOnly=yes",
         "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
         "-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=10",
         "-l", login, "127.0.0.1", "echo", "in"],
        capture_output=True, timeout=30)


def test_certificates_are_checked_by_openssh(certs, tmp_path):
    now = int(time.time())
    good = _mkcert(certs, tmp_path, "root", now - 60, now + 120, "good")
    r = _present(certs, good)
    assert r.returncode == 0 and r.stdout == b"in\n", r.stderr
    # Replayed after its validity: refused.
    old = _mkcert(certs, tmp_path, "root", now - 600, now - 300, "old")
    r = _present(certs, old)
    assert r.returncode == 255 and b"Permission denied" in r.stderr, r.stderr
    # A principal that is not the login: refused.
    other = _mkcert(certs, tmp_path, "deploy", now - 60, now + 120, "other")
    r = _present(certs, other)
    assert r.returncode == 255 and b"Permission denied" in r.stderr, r.stderr
    assert re.search(r"[Cc]ertificate invalid|expired|not valid|principal",
                     certs.t.logtext())


def test_host_certificates(cgw, certs):
    r = cgw.ssh("alice:hc-ok", "echo", "hc")
    assert r.returncode == 0 and r.stdout == b"hc\n", r.stderr
    # Principals name hosts (the target's address), not policy names: a
    # certificate that names only "hc-alias" is another host's.
    for name, word in [("hc-other", b"not trusted"), ("hc-expired", b"expired"),
                       ("hc-name", b"does not name"), ("hc-alias", b"does not name")]:
        r = cgw.ssh(f"alice:{name}", "true")
        assert r.returncode != 0
        assert b"host certificate of target " + name.encode() + b" was refused" \
            in r.stderr and word in r.stderr, (name, r.stderr)
    ev = wait_for(lambda: (lambda v: v if len(v) >= 3 else None)(
        [e for e in _events(cgw, "target.error") if e["error"] == "host_cert_refused"]),
        what="host_cert_refused events")
    assert {e["target"] for e in ev} >= {"hc-other", "hc-expired", "hc-name", "hc-alias"}
    # What the target wrote in its certificate reaches neither the user's
    # terminal nor the log as control bytes.
    r = cgw.ssh("alice:hc-name", "true")
    assert b"\x1b" not in r.stderr and b"\\x1b]0;owned\\x07kkk" in r.stderr, r.stderr
    assert "\x1b" not in cgw.logtext()
    # The malformed line was named with its place, the rest still read.
    assert re.search(r"known_hosts:\d+: expected", cgw.logtext())


def test_host_certificate_comes_in_the_key_exchange(cgw, certs):
    # The certificate is taken from the key exchange itself: one login is
    # one connection to the target, not a second one to fetch it.
    def conns():
        return certs.hc_ok.logtext().count("Connection from 127.0.0.1")
    before = conns()
    r = cgw.ssh("alice:hc-ok", "echo", "once")
    assert r.returncode == 0 and r.stdout == b"once\n", r.stderr
    assert conns() == before + 1, certs.hc_ok.logtext()


def test_host_certificate_falls_back_to_the_plain_key(gw_env, certs, tmp_path):
    # As OpenSSH's client: a certificate no trusted CA vouches for (another
    # CA, expired) leaves its key to be checked as a plain key; a revoked
    # key is refused whatever its certificate; without any CA line for the
    # host an unpinned key is simply unknown.
    hca = Path(str(certs.host_ca) + ".pub").read_text().strip()
    kh = tmp_path / "known_hosts"
    kh.write_text(gw_env.known_hosts.read_text() +
                  f"[127.0.0.1]:{certs.hc_other.port} {certs.hc_other.hostpub}\n"
                  f"[127.0.0.1]:{certs.hc_expired.port} {certs.hc_expired.hostpub}\n"
                  f"@cert-authority [127.0.0.1]:{certs.hc_ok.port},"
                  f"[127.0.0.1]:{certs.hc_expired.port},"
                  f"[127.0.0.1]:{certs.hc_name.port} {hca}\n"
                  f"@revoked * {certs.hc_ok.hostpub}\n")
    g = Gateway(gw_env, tmp_path / "g", policy_text(gw_env, targets_extra=certs.targets()),
                upstream_extra=f"  ca: {certs.ca}\n", known_hosts=kh)
    try:
        for name in ("hc-other", "hc-expired"):
            r = g.ssh(f"alice:{name}", "echo", name)
            assert r.returncode == 0 and r.stdout == name.encode() + b"\n", \
                (name, r.stderr)
        assert "its host certificate does not count" in g.logtext()
        r = g.ssh("alice:hc-ok", "true")
        assert r.returncode != 0 and b"revoked" in r.stderr, r.stderr
        r = g.ssh("alice:hc-alias", "true")
        assert r.returncode != 0, r.stderr
        assert b"the host key of target hc-alias is not known to the gateway; " \
            b"refused" in r.stderr, r.stderr
        r = g.ssh("alice:hc-name", "true")
        assert r.returncode != 0 and b"does not name" in r.stderr, r.stderr
        ev = wait_for(lambda: (lambda v: v if len(v) >= 3 else None)(
            [e for e in _events(g, "target.error")]), what="target.error events")
        got = {e["target"]: e["error"] for e in ev}
        assert got == {"hc-ok": "host_cert_refused", "hc-alias": "host_key_unknown",
                       "hc-name": "host_cert_refused"}, got
    finally:
        g.stop()


def test_revoked_host_ca(gw_env, certs, tmp_path):
    kh = tmp_path / "known_hosts"
    hca = Path(str(certs.host_ca) + ".pub").read_text().strip()
    kh.write_text(certs.known_hosts.read_text() + f"@revoked * {hca}\n")
    g = Gateway(gw_env, tmp_path / "g", policy_text(gw_env, targets_extra=certs.targets()),
                upstream_extra=f"  ca: {certs.ca}\n", known_hosts=kh)
    try:
        r = g.ssh("alice:hc-ok", "true")
        assert r.returncode != 0 and b"revoked" in r.stderr, r.stderr
    finally:
        g.stop()


def test_certificate_only_gateway(gw_env, certs, tmp_path):
    g = Gateway(gw_env, tmp_path / "g",
                policy_text(gw_env, targets_extra=certs.targets(keyed=False)),
                identity=False, upstream_extra=f"  ca: {certs.ca}\n",
                known_hosts=certs.known_hosts)
    try:
        r = g.ssh("alice:cert-1", "echo", "only-certs")
        assert r.returncode == 0 and r.stdout == b"only-certs\n", r.stderr
        # A target that still says auth: key cannot log in without the
        # static key: said by -t (and at start and reload), naming it.
        pol = Path(tmp_path / "keyed.yaml")
        pol.write_text(policy_text(gw_env, targets_extra=certs.targets()))
        cfg = g.config.read_text().replace(str(g.policy), str(pol))
        r = _check(cfg, tmp_path)
        assert r.returncode != 0
        assert "target keyed logs in with the gateway's key (auth: key) but" in r.stderr
        assert "sets no upstream.identity" in r.stderr, r.stderr
    finally:
        g.stop()


def _check(cfg_text, tmp_path):
    cfg = tmp_path / "t.yaml"
    cfg.write_text(cfg_text)
    return subprocess.run([str(JUMPGATED), "-t", "-c", str(cfg)],
                          capture_output=True, text=True)


def test_bad_ca_keys_refused_at_start(cgw, certs, tmp_path):
    base = cgw.config.read_text()
    line = f"  ca: {certs.ca}\n"
    assert line in base
    missing = tmp_path / "missing"
    r = _check(base.replace(line, f"  ca: {missing}\n"), tmp_path)
    assert r.returncode != 0 and f"upstream.ca {missing}" in r.stderr, r.stderr
    loose = tmp_path / "loose"
    loose.write_bytes(certs.ca.read_bytes())
    loose.chmod(0o644)
    r = _check(base.replace(line, f"  ca: {loose}\n"), tmp_path)
    assert r.returncode != 0 and f"upstream.ca {loose}" in r.stderr and \
        "chmod 600" in r.stderr, r.stderr
    rsa = tmp_path / "rsa"
    subprocess.run(["ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-N", "", "-f",
                    str(rsa)], check=True)
    r = _check(base.replace(line, f"  ca: {rsa}\n"), tmp_path)
    assert r.returncode != 0 and "must be ed25519" in r.stderr, r.stderr
    r = _check(base, tmp_path)
    assert r.returncode == 0, r.stderr


def test_ca_keygen_and_show(tmp_path):
    ca = tmp_path / "ca"
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"policy: /dev/null\nupstream: {{ca: {ca}}}\n")
    r = subprocess.run([str(JUMPGATE), "-c", str(cfg), "ca", "keygen"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert (ca.stat().st_mode & 0o777) == 0o600
    pub = Path(str(ca) + ".pub").read_text()
    assert pub.startswith("ssh-ed25519 AAAA") and pub.endswith("\n")
    # ssh-keygen agrees that the two halves belong together.
    derived = subprocess.run(["ssh-keygen", "-y", "-f", str(ca)], check=True,
                             capture_output=True, text=True).stdout.split()[:2]
    assert pub.split()[:2] == derived
    r = subprocess.run([str(JUMPGATE), "-c", str(cfg), "ca", "show"],
                       capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout == pub, (r.stdout, r.stderr)
    r = subprocess.run([str(JUMPGATE), "-c", str(cfg), "ca", "keygen"],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "--force" in r.stderr
    assert Path(str(ca) + ".pub").read_text() == pub
    r = subprocess.run([str(JUMPGATE), "-c", str(cfg), "ca", "keygen", "--force"],
                       capture_output=True, text=True)
    assert r.returncode == 0 and Path(str(ca) + ".pub").read_text() != pub
    # A stale PATH.pub is not handed out as the CA.
    Path(str(ca) + ".pub").write_text(pub)
    r = subprocess.run([str(JUMPGATE), "-c", str(cfg), "ca", "show"],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "does not hold the public half" in r.stderr, r.stderr
    cfg.write_text("policy: /dev/null\nupstream: {known_hosts: /dev/null}\n")
    r = subprocess.run([str(JUMPGATE), "-c", str(cfg), "ca", "show"],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "upstream.ca is not set" in r.stderr
