# SPDX-License-Identifier: Apache-2.0
# tests/integration/test_gateway_audit.py - jumpgated records what crosses
# it: exec and pty shell sessions through real ssh become sealed asciicast
# files under audit.dir/sessions/DAY/ that `jumpgate audit verify` accepts,
# asciinema plays and `jumpgate audit search` finds; the event log tells
# who, from where, to which target; input only where the rule says so.
import json
import os
import re
import subprocess
import time

import pexpect
import pytest

from audit_fixtures import asciinema_cat
from gw_fixtures import *  # noqa: F401,F403
from gw_fixtures import gateway_events

REC_RULE = """\
  - name: bob-recorded
    users: [bob]
    targets: [monitor]
    allow: [shell, exec]
    logins: [root]
    record_input: true
"""


def jg(g, *args):
    return subprocess.run([str(JUMPGATE), "-c", str(g.config), *args],
                          capture_output=True, text=True, timeout=60)


def casts(g):
    return sorted((g.audit_dir / "sessions").glob("*/*.cast"))


def wait_casts(g, n, timeout=10.0):
    """Recordings are closed by the monitor when the channel ends; wait for
    n final seals."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        done = [c for c in casts(g)
                if c.with_name(c.name + ".seal").exists() and
                '"final":true' in c.with_name(c.name + ".seal").read_text()]
        if len(done) >= n:
            return done
        time.sleep(0.1)
    raise AssertionError(f"{n} finished recordings expected, have {casts(g)}")


events = gateway_events


def header(path):
    with open(path) as f:
        return json.loads(f.readline())


def lines(path):
    with open(path) as f:
        f.readline()
        return [json.loads(l) for l in f if l.strip()]


@pytest.fixture
def agw(make_gateway, gw_env):
    return make_gateway(policy_text(gw_env, extra_rules=REC_RULE))


def test_exec_recorded_verified_searchable(agw):
    r = agw.ssh("alice:web-1", "echo zebraquartz-$((40+2)); exit 3")
    assert r.returncode == 3, r
    assert r.stdout == b"zebraquartz-42\n"
    [cast] = wait_casts(agw, 1)
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", cast.parent.name)
    h = header(cast)
    assert h["version"] == 2
    jgh = h["jumpgate"]
    assert jgh["user"] == "alice" and jgh["target"] == "web-1"
    assert jgh["action"] == "exec" and "zebraquartz" in jgh["command"]
    assert jgh["rule"] == "ops-shell" and jgh["login"] == "root"
    evs = lines(cast)
    assert any(e[1] == "o" and "zebraquartz-42" in e[2] for e in evs)
    assert any(e[1] == "m" and e[2] == "exit-status 3" for e in evs)
    assert not any(e[1] == "i" for e in evs)

    v = jg(agw, "audit", "verify", "--all")
    assert v.returncode == 0, v.stdout + v.stderr
    s = jg(agw, "audit", "search", "zebraquartz-42")
    assert s.returncode == 0, s.stderr
    assert cast.stem in s.stdout
    rc, out = asciinema_cat(cast)
    assert rc == 0 and b"zebraquartz-42" in out

    ev = events(agw)
    types = [e["type"] for e in ev]
    for t in ("auth.success", "session.start", "exec", "session.end"):
        assert t in types, types
    start = next(e for e in ev if e["type"] == "session.start")
    assert start["user"] == "alice" and start["target"] == "web-1"
    assert start["from"] == "127.0.0.1" and start["session"] == cast.stem
    assert start["rule"] == "ops-shell" and start["action"] == "exec"
    end = next(e for e in ev if e["type"] == "session.end")
    assert end["session"] == cast.stem and end["exit_status"] == 3
    auth = next(e for e in ev if e["type"] == "auth.success")
    assert auth["user"] == "alice"


def test_pty_shell_recorded_without_input(agw):
    args = agw.ssh_args("alice:web-1", extra=("-tt",))
    child = pexpect.spawn(args[0], args[1:],
                          env={**os.environ, "TERM": "xterm-256color"},
                          dimensions=(30, 100), timeout=15)
    try:
        child.sendline("echo shell-$((6*7))-marker")
        child.expect("shell-42-marker")
        child.setwinsize(40, 120)
        child.sendline("sleep 0.3; stty size")
        child.expect("40 120")
        child.sendline("exit 0")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    [cast] = wait_casts(agw, 1)
    h = header(cast)
    assert (h["width"], h["height"]) == (100, 30)
    assert h["env"]["TERM"] == "xterm-256color"
    assert h["jumpgate"]["action"] == "shell"
    evs = lines(cast)
    assert any(e[1] == "o" and "shell-42-marker" in e[2] for e in evs)
    assert any(e[1] == "r" and e[2] == "120x40" for e in evs)
    assert not any(e[1] == "i" for e in evs)   # ops-shell does not say so
    v = jg(agw, "audit", "verify", "--all")
    assert v.returncode == 0, v.stdout + v.stderr
    rc, out = asciinema_cat(cast)
    assert rc == 0 and b"shell-42-marker" in out
    s = jg(agw, "audit", "search", "shell-42-marker")
    assert s.returncode == 0 and cast.stem in s.stdout
    types = [e["type"] for e in events(agw)]
    assert "session.start" in types and "session.end" in types


def test_input_recorded_when_rule_says_so(agw):
    r = agw.ssh("bob:monitor", "cat; echo done", input=b"typed-secret-77\n",
                key="bob")
    assert r.returncode == 0, r
    assert b"typed-secret-77" in r.stdout
    [cast] = wait_casts(agw, 1)
    assert header(cast)["jumpgate"]["rule"] == "bob-recorded"
    evs = lines(cast)
    assert any(e[1] == "i" and "typed-secret-77" in e[2] for e in evs)
    v = jg(agw, "audit", "verify", "--all")
    assert v.returncode == 0, v.stdout + v.stderr


def test_denial_and_failure_logged(agw):
    r = agw.ssh("bob:web-1", key="bob", extra=("-tt",))   # dev: exec only
    assert r.returncode != 0
    r = agw.ssh("alice:web-1", "true", key="bob")
    assert r.returncode == 255
    time.sleep(0.5)
    ev = events(agw)
    deny = [e for e in ev if e["type"] == "policy.deny"]
    assert deny and deny[0]["user"] == "bob" and deny[0]["target"] == "web-1"
    assert deny[0]["reason"]
    assert any(e["type"] == "auth.failure" and e["user"] == "alice"
               for e in ev)
    assert casts(agw) == []


def test_unreadable_signing_key_refuses_start(make_gateway, tmp_path):
    g = make_gateway()
    cfg = g.config.read_text().replace(str(g.audit_key),
                                       str(tmp_path / "missing.key"))
    bad = tmp_path / "bad.yaml"
    bad.write_text(cfg)
    r = subprocess.run([str(JUMPGATED), "-t", "-c", str(bad)],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode != 0
    assert str(tmp_path / "missing.key") in r.stdout + r.stderr


def test_refuse_when_recording_cannot_be_made(agw):
    # audit.on_failure defaults to refuse: a session whose recording cannot
    # be created does not run, and the user is told why.
    sessions = agw.audit_dir / "sessions"
    if sessions.is_dir():
        os.rmdir(sessions)
    sessions.write_text("not a folder\n")
    try:
        r = agw.ssh("alice:web-1", "echo must-not-run")
        assert r.returncode != 0
        assert b"must-not-run" not in r.stdout
        assert b"cannot be recorded" in r.stderr, r.stderr
    finally:
        sessions.unlink()


def test_missing_audit_dir_reported(make_gateway, tmp_path):
    g = make_gateway()
    cfg = g.config.read_text().replace(f"dir: {g.audit_dir}",
                                       f"dir: {tmp_path / 'nowhere'}")
    bad = tmp_path / "bad.yaml"
    bad.write_text(cfg)
    r = subprocess.run([str(JUMPGATED), "-t", "-c", str(bad)],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode != 0
    assert "audit.dir" in r.stdout + r.stderr
    assert str(tmp_path / "nowhere") in r.stdout + r.stderr


def test_write_failure_ends_session(agw):
    # A recording that cannot be written (disk full) ends the session with
    # a message, with audit.on_failure: refuse (the default).
    sessions = agw.audit_dir / "sessions"
    sessions.mkdir(exist_ok=True)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=128k,mode=0750", "tmpfs",
                       str(sessions)], capture_output=True).returncode != 0:
        pytest.skip("cannot mount a small tmpfs here")
    try:
        r = agw.ssh("alice:web-1",
                    "for i in $(seq 1 60); do head -c 20000 /dev/zero | "
                    "tr '\\0' x; echo; sleep 0.05; done; echo finished-all",
                    timeout=60)
        assert b"finished-all" not in r.stdout
        assert r.returncode != 0
        assert b"recording could not be written" in r.stderr, r.stderr
    finally:
        subprocess.run(["umount", "-l", str(sessions)])


def test_world_writable_audit_folder(make_gateway):
    """-t applies the audit writers' rules to audit.dir and its events/ and
    sessions/, with the message the daemon logs when a session meets such a
    folder; the session then ends (audit.on_failure: refuse), told why."""
    g = make_gateway()
    events = g.audit_dir / "events"
    events.mkdir(exist_ok=True)
    for d in (g.audit_dir, events):
        mode = d.stat().st_mode & 0o7777
        d.chmod(0o1777)
        try:
            r = subprocess.run([str(JUMPGATED), "-t", "-c", str(g.config)],
                               capture_output=True, text=True, timeout=30)
            assert r.returncode == 1, r.stdout + r.stderr
            why = f"audit.dir: '{d}' can be written by every user (mode 1777)"
            assert why in r.stdout + r.stderr, r.stdout + r.stderr
        finally:
            d.chmod(mode)
    events.chmod(0o1777)
    try:
        r = g.ssh("alice:web-1", "echo should-not-run")
        assert b"should-not-run" not in r.stdout
        assert b"the audit event log could not be written" in r.stderr, r.stderr
        assert g.wait_log(why), g.logtext()[-2000:]
    finally:
        events.chmod(0o750)
