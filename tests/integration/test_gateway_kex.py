# SPDX-License-Identifier: Apache-2.0
# tests/integration/test_gateway_kex.py - post-quantum key exchange on both
# legs: the OpenSSH client negotiates each hybrid it has with jumpgated
# (and curve25519 when it asks for nothing else), the upstream leg to a
# Debian 12 sshd negotiates sntrup761x25519 (the target's debug log says
# so), and the gateway's login there is host-bound.
import re
import subprocess

import pytest

from gw_fixtures import *  # noqa: F401,F403

CLIENT_KEX = subprocess.run(["ssh", "-Q", "kex"], capture_output=True,
                            text=True, check=True).stdout.split()
PQ = ("mlkem768x25519-sha256", "sntrup761x25519-sha512",
      "sntrup761x25519-sha512@openssh.com")


@pytest.fixture(scope="module")
def dbg(gw_env, tmp_path_factory):
    """A target sshd that logs its key exchange and user-auth requests
    (LogLevel DEBUG1), and a gateway that lets alice run commands on it."""
    g, sshd = debug_target(gw_env, tmp_path_factory.mktemp("gwkex"), "kex-1",
                           ["exec"])
    yield g, sshd
    g.stop()
    sshd.stop()


def _negotiated(stderr):
    """The key exchange `ssh -v` reports: "debug1: kex: algorithm: X"."""
    m = re.findall(r"kex: algorithm: (\S+)", stderr)
    assert len(m) == 1, stderr
    return m[0]


@pytest.mark.parametrize("kex", PQ + ("curve25519-sha256",))
def test_client_leg_negotiates(dbg, kex):
    if kex not in CLIENT_KEX:
        pytest.skip(f"this OpenSSH client has no {kex}")
    g, _ = dbg
    r = g.ssh("alice:kex-1", "echo", "pq-$((6*7))",
              extra=("-v", "-o", f"KexAlgorithms={kex}"))
    err = r.stderr.decode(errors="replace")
    assert r.returncode == 0, err
    assert r.stdout == b"pq-42\n"
    assert _negotiated(err) == kex


def test_client_default_is_post_quantum(dbg):
    """With no KexAlgorithms, the client's first choice that the gateway
    offers is a post-quantum hybrid (OpenSSH 9.0 and later)."""
    g, _ = dbg
    r = g.ssh("alice:kex-1", "true", extra=("-v",))
    err = r.stderr.decode(errors="replace")
    assert r.returncode == 0, err
    assert _negotiated(err) in PQ
    assert "not using a post-quantum key exchange" not in err


def test_upstream_leg_is_post_quantum_and_host_bound(dbg):
    g, sshd = dbg
    sshd.log.flush()
    before = (sshd.dir / "log").read_text(errors="replace")
    r = g.ssh("alice:kex-1", "echo", "up")
    assert r.returncode == 0, r
    sshd.log.flush()
    log = (sshd.dir / "log").read_text(errors="replace")[len(before):]
    # Debian 12's sshd has no ML-KEM; it takes the first sntrup761 name
    assert re.search(r"kex: algorithm: sntrup761x25519-sha512(@openssh\.com)? ",
                     log), log
    assert re.search(r"userauth-request for user root service ssh-connection "
                     r"method publickey-hostbound-v00@openssh\.com", log), log
    assert "Accepted publickey for root" in log, log
