# SPDX-License-Identifier: Apache-2.0
# tests/integration/test_gateway_audit_hold.py - audit.on_failure: refuse
# end to end: a full audit file system ends the session, the master then
# refuses new connections with one line, and once the disk takes writes
# again it accepts them and the event log records the gap. A full disk
# under the event log itself leaves no partial line behind: the log
# verifies once space returns.
import os
import socket
import subprocess

import pytest

from gw_fixtures import *  # noqa: F401,F403
from gw_fixtures import gateway_events
from gw_fixtures import policy_text
from gw_fixtures import wait_for

REC_RULE = """\
  - name: rec-all
    users: [alice]
    targets: [web-1]
    allow: [shell, exec]
    logins: [root]
"""


def greeting(port):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.settimeout(5)
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(512)
            if not chunk:
                break
            data += chunk
        return data.decode(errors="replace")


events = gateway_events


def test_full_disk_refuses_until_writes_work_again(make_gateway, gw_env):
    g = make_gateway(policy_text(gw_env, extra_rules=REC_RULE))
    sessions = g.audit_dir / "sessions"
    sessions.mkdir(exist_ok=True)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k,mode=0750", "tmpfs",
                       str(sessions)], capture_output=True).returncode != 0:
        pytest.skip("cannot mount a small tmpfs here")
    try:
        assert greeting(g.port).startswith("SSH-2.0-")
        # Fill the file system so the next recording write fails (random
        # bytes: the recording cannot compress them).
        r = g.ssh("alice:web-1",
                  "for i in $(seq 1 80); do head -c 20000 /dev/urandom; "
                  "sleep 0.05; done; echo finished-all", timeout=60)
        assert b"finished-all" not in r.stdout and r.returncode != 0
        assert b"could not be written" in r.stderr, r.stderr
        assert g.wait_log("new connections are refused")
        # New connections get one line and no SSH.
        line = greeting(g.port)
        assert line == ("jumpgate: the audit record cannot be written; new "
                        "sessions are refused until it can\r\n"), line
        r = g.ssh("alice:web-1", "echo should-not-run")
        assert r.returncode == 255 and b"should-not-run" not in r.stdout
        assert not any(e["type"] == "audit.gap" for e in events(g))
        # Space again: the master notices by itself.
        for f in sessions.rglob("*"):
            if f.is_file():
                f.unlink()
        assert g.wait_log("writes work again", timeout=20), g.logtext()[-2000:]
        r = g.ssh("alice:web-1", "echo recorded-again")
        assert r.returncode == 0 and r.stdout == b"recorded-again\n", r.stderr
        [gap] = [e for e in events(g) if e["type"] == "audit.gap"]
        assert gap["connections_refused"] >= 2
        assert gap["seconds"] >= 0 and gap["since"] <= gap["until"]
        # The chain is intact across the gap.
        v = subprocess.run([str(JUMPGATE), "-c", str(g.config), "audit", "verify"],  # noqa: F405
                           capture_output=True, text=True)
        print(v.stdout, v.stderr)
        log = [l for l in (v.stdout + v.stderr).splitlines() if l.startswith("event log")]
        assert log and "intact" in log[0], v.stdout + v.stderr
    finally:
        subprocess.run(["umount", "-l", str(sessions)])


def test_full_disk_under_the_event_log_leaves_it_whole(make_gateway, gw_env,
                                                        tmp_path):
    # The event log on a small file system of its own, from the start
    # (make_gateway's first gateway lives in tmp_path/gw0).
    evdir = tmp_path / "gw0" / "audit" / "events"
    evdir.mkdir(parents=True)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k,mode=0750",
                       "tmpfs", str(evdir)], capture_output=True).returncode != 0:
        pytest.skip("cannot mount a small tmpfs here")
    g = None
    try:
        g = make_gateway(policy_text(gw_env, extra_rules=REC_RULE),
                         seal_interval="1s")
        assert g.dir == tmp_path / "gw0"
        assert wait_for(lambda: any(e["type"] == "seal" for e in events(g)),
                        timeout=120)
        fd = os.open(evdir / "filler", os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            while True:
                os.write(fd, b"x" * 512)
        except OSError:
            pass
        finally:
            os.close(fd)
        # Timed seals now run out of room, part way through a line.
        assert g.wait_log("cannot write the timed seal", timeout=120), \
            g.logtext()[-2000:]
        (evdir / "filler").unlink()
        assert g.wait_log("writes work again", timeout=120), g.logtext()[-2000:]
        # The seals go on after the gap.
        n = len(events(g))
        assert wait_for(lambda: len([e for e in events(g)[n:]
                                     if e["type"] == "seal"]) >= 2, timeout=120)
        g.stop()
        v = subprocess.run([str(JUMPGATE), "-c", str(g.config), "audit",  # noqa: F405
                            "verify"], capture_output=True, text=True)
        log = [ln for ln in v.stdout.splitlines() if ln.startswith("event log")]
        assert log and "intact" in log[0] and "NOT" not in log[0], \
            v.stdout + v.stderr
        assert "recorded gap: audit writes failed" in v.stdout, v.stdout
    finally:
        if g is not None:
            g.stop()
        subprocess.run(["umount", "-l", str(evdir)])


def test_failed_event_write_tells_the_user(make_gateway, gw_env):
    """An event log that stops taking writes (here: remounted read-only)
    ends the session with the reason on the channel's stderr and an exit
    status, or in the disconnect message when there is no channel."""
    g = make_gateway(policy_text(gw_env, extra_rules=REC_RULE))
    evdir = g.audit_dir / "events"
    evdir.mkdir(exist_ok=True)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,mode=0750", "tmpfs",
                       str(evdir)], capture_output=True).returncode != 0:
        pytest.skip("cannot mount a small tmpfs here")
    try:
        r = g.ssh("alice:web-1", "echo recorded")
        assert r.returncode == 0 and r.stdout == b"recorded\n", r.stderr
        wait_for(lambda: any(e["type"] == "session.end" for e in events(g)),  # noqa: F405
                 what="the first session's end in the log")
        subprocess.run(["mount", "-o", "remount,ro", str(evdir)], check=True)
        r = g.ssh("alice:web-1", "echo should-not-run")
        assert b"should-not-run" not in r.stdout
        assert b"jumpgate: the audit event log could not be written" in r.stderr, r.stderr
        assert r.returncode == 1, (r.returncode, repr(r.stderr))
        # Writes work again, then fail again for a connection without
        # a channel (ssh -N): the disconnect message says why.
        subprocess.run(["mount", "-o", "remount,rw", str(evdir)], check=True)
        assert g.wait_log("writes work again", timeout=20), g.logtext()[-2000:]
        subprocess.run(["mount", "-o", "remount,ro", str(evdir)], check=True)
        r = g.ssh("alice", extra=("-N",))
        assert r.returncode == 255
        assert b"the audit event log could not be written" in r.stderr, r.stderr
    finally:
        subprocess.run(["umount", "-l", str(evdir)])
