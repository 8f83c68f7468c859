# SPDX-License-Identifier: Apache-2.0
# tests/integration/test_gateway_auth.py - authentication at jumpgated:
# keys from the policy, source addresses, unknown and expired users, the
# limit on tries, keyboard-interactive through PAM for mfa users, the login
# grace time, and bad input that must never hurt the master.
import os
import socket
import subprocess
import time

import pexpect

from gw_fixtures import *  # noqa: F401,F403
from gw_fixtures import TOTP_SECRET


def test_key_allowed(gw):
    r = gw.ssh("alice:web-1", "true")
    assert r.returncode == 0, r


def test_wrong_key_and_unknown_user_look_the_same(gw):
    wrong = gw.ssh("alice:web-1", "true", key="mallory")
    unknown = gw.ssh("zed:web-1", "true", key="mallory")
    bad = gw.ssh("Zed!:web-1", "true", key="mallory")
    for r in (wrong, unknown, bad):
        assert r.returncode == 255
        assert b"Permission denied (publickey)" in r.stderr, r.stderr
    assert wrong.stderr.replace(b"alice:web-1", b"X") == \
        unknown.stderr.replace(b"zed:web-1", b"X")


def test_source_address_checked(gw):
    assert gw.ssh("alice:web-1", "true", bind="127.0.0.2").returncode == 0
    r = gw.ssh("alice:web-1", "true", bind="127.0.0.3")
    assert r.returncode == 255
    assert b"Permission denied" in r.stderr
    assert gw.wait_log("source address not in the user's from")
    # bob may come from all of 127/8
    assert gw.ssh("bob:web-1", "true", key="bob", bind="127.0.0.3").returncode == 0


def test_expired_user_refused(gw):
    r = gw.ssh("dave:web-1", "true", key="dave")
    assert r.returncode == 255
    assert gw.wait_log("user expired")


def test_at_most_six_tries(gw, gw_env, tmp_path):
    ids = []
    for i in range(8):
        k = tmp_path / f"k{i}"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(k)],
                       check=True)
        ids += ["-i", str(k)]
    args = gw.ssh_args("alice:web-1")
    i = args.index("-i")
    args[i:i + 2] = ids
    r = subprocess.run(args + ["true"], capture_output=True, timeout=30)
    assert r.returncode == 255
    assert gw.wait_log("(6/6)")
    assert "(7/6)" not in gw.logtext()


def _mfa(gw, password, code):
    args = gw.ssh_args("carol:web-1", key="carol")
    args = ["BatchMode=no" if a == "BatchMode=yes" else a for a in args]
    child = pexpect.spawn(args[0], args[1:] + ["echo mfa-ok"], timeout=15)
    try:
        child.expect("Password:")
        child.sendline(password)
        idx = child.expect(["One-time password", "Password:", pexpect.EOF])
        if idx == 0:
            child.sendline(code)
            idx = child.expect(["mfa-ok", "Password:", pexpect.EOF])
            return idx == 0
        return False
    finally:
        child.close(force=True)


def test_mfa_key_then_password_and_totp(make_gateway, gw_env):
    svc = gw_env.pam()
    g = make_gateway(pam_service=svc)
    # Without a second factor, keys alone do not let carol in.
    r = g.ssh("carol:web-1", "true", key="carol")
    assert r.returncode == 255
    assert _mfa(g, CAROL_PASSWORD, totp()), g.logtext()
    assert g.wait_log("publickey+keyboard-interactive")
    assert not _mfa(g, "wrong password", totp())


def test_mfa_needs_the_key_first(make_gateway, gw_env):
    g = make_gateway(pam_service=gw_env.pam())
    r = g.ssh("carol:web-1", "true", key="mallory",
              extra=("-o", "PreferredAuthentications=keyboard-interactive"))
    assert r.returncode == 255
    assert "PAM" not in g.logtext()


def test_login_grace(make_gateway):
    g = make_gateway(login_grace="2s")
    s = socket.create_connection(("127.0.0.1", g.port), timeout=10)
    s.sendall(b"SSH-2.0-slowpoke\r\n")
    start = time.monotonic()
    s.settimeout(10)
    data = b""
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    s.close()
    took = time.monotonic() - start
    assert data.startswith(b"SSH-2.0-jumpgate")
    assert 1.0 < took < 8.0
    assert g.wait_log("login grace time exceeded")


def test_bad_input_never_hurts_the_master(gw):
    # garbage instead of a banner
    for junk in (b"GET / HTTP/1.0\r\n\r\n", os.urandom(5000), b"\x00" * 100):
        s = socket.create_connection(("127.0.0.1", gw.port), timeout=10)
        s.sendall(junk)
        s.settimeout(10)
        try:
            while s.recv(4096):
                pass
        except OSError:
            pass
        s.close()
    names = ["alice:", ":web-1", "alice:no-such", "a" * 10000,
             "alice:web-1\x01\x1b[2J", "alice:../x", "alice:@web-1",
             "alice:root@", "alice:web-1:web-2", "\u00e9lise:web-1"]
    for n in names:
        r = gw.ssh(n, "true")
        assert r.returncode in (1, 255), (n, r)
    r = gw.ssh("alice:no-such", "true")
    assert r.returncode == 1 and b"no-such" in r.stderr
    r = gw.ssh("alice:../x", "true")
    assert r.returncode == 1 and b"not name a valid target" in r.stderr
    assert gw.proc.poll() is None
    assert gw.ssh("alice:web-1", "echo still-up").stdout == b"still-up\n"
    assert "\x1b" not in gw.logtext()


def _totp_at(offset_seconds):
    when = f"now {offset_seconds:+d} seconds"
    return subprocess.run(["oathtool", "--totp", "--now", when, TOTP_SECRET],
                          check=True, capture_output=True, text=True).stdout.strip()


def test_mfa_wrong_or_replayed_code_refused(make_gateway, gw_env):
    g = make_gateway(pam_service=gw_env.pam())
    # A code from ten minutes ago is outside pam_oath's window.
    assert not _mfa(g, CAROL_PASSWORD, _totp_at(-600))
    # A code of a step still to come (newer than any used before) is taken
    # once, and refused when it is replayed.
    code = _totp_at(90)
    assert _mfa(g, CAROL_PASSWORD, code), g.logtext()
    assert not _mfa(g, CAROL_PASSWORD, code)
