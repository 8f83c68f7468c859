# SPDX-License-Identifier: Apache-2.0
# tests/integration/test_gateway_sessions.py - the live-session table of
# jumpgated: `jumpgate session list` shows a live session with its user,
# source, target, login and action; `session kill` ends exactly that one
# (the user sees why, the event log gets session.end with the reason); the
# control socket answers root only; and automatic reload: a grant written by
# `jumpgate policy grant` lets a denied user in without a signal, a revoke
# ends the live session, and a broken policy write is refused and logged.
import json
import os
import re
import subprocess
import tempfile
from pathlib import Path

import pexpect
import pytest

from gw_fixtures import *  # noqa: F401,F403
from gw_fixtures import gateway_events

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}"


def cli(g, *args, user=None, config=None):
    cmd = [str(JUMPGATE), "-c", str(config or g.config), *args]
    if user is not None:
        cmd = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups"] + cmd
    return subprocess.run(cmd, capture_output=True, text=True, timeout=30)


events = gateway_events


def shell(g, user="alice:web-1", key="alice"):
    args = g.ssh_args(user, key=key, extra=("-tt",))
    child = pexpect.spawn(args[0], args[1:], env={**os.environ, "TERM": "xterm"},
                          timeout=15)
    child.sendline("echo she''ll-up")
    child.expect("shell-up")
    return child


def listed(g, n):
    """The --json list once it has n sessions with a channel each."""
    def get():
        r = cli(g, "session", "list", "--json")
        assert r.returncode == 0, r.stderr
        s = json.loads(r.stdout)
        return len(s) == n and all(x["channels"] for x in s) and [s]
    return wait_for(get, what=f"{n} listed sessions")[0]


def test_list_shows_a_live_session(gw):
    child = shell(gw)
    try:
        (s,) = listed(gw, 1)
        assert re.fullmatch(UUID, s["id"])
        assert s["user"] == "alice" and s["from"] == "127.0.0.1"
        (c,) = s["channels"]
        assert (c["target"], c["login"], c["action"]) == ("web-1", "root", "shell")
        assert c["lapses"] is None  # the rule has no end
        r = cli(gw, "session", "list")
        assert r.returncode == 0
        head, row = r.stdout.splitlines()
        assert head.split() == ["ID", "USER", "FROM", "TARGET", "LOGIN", "ACTION",
                                "STARTED", "LAPSES", "SESSION"]
        assert row.split() == [s["id"], "alice", "127.0.0.1", "web-1", "root",
                               "shell", c["started"], "never", c["session"]]
        # the channel's session is the recording's id, as the audit
        # commands (show, watch, export) take it
        assert re.fullmatch(UUID, c["session"]) and c["session"] != s["id"]
        r = cli(gw, "audit", "show", c["session"])
        assert r.returncode == 0 and "alice" in r.stdout, r.stderr
        child.sendline("exit")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    listed(gw, 0)


def test_kill_ends_one_session_only(gw):
    first = shell(gw)
    second = shell(gw, "alice:monitor")
    try:
        sessions = listed(gw, 2)
        victim = next(s for s in sessions if s["channels"][0]["target"] == "web-1")
        r = cli(gw, "session", "kill", victim["id"])
        assert r.returncode == 0, r.stderr
        assert r.stdout == f"ended session {victim['id']}\n"
        first.expect("jumpgate: session ended by an operator")
        first.expect(pexpect.EOF)
        # The other one is untouched.
        second.sendline("echo still''-here")
        second.expect("still-here")
        (left,) = listed(gw, 1)
        assert left["channels"][0]["target"] == "monitor"

        def ended():
            return [e for e in events(gw) if e["type"] == "session.end" and
                    e.get("connection") == victim["id"]]
        (ev,) = wait_for(ended, what="session.end of the killed session")
        assert ev["reason"] == "session ended by an operator"
        assert ev["user"] == "alice" and ev["target"] == "web-1"
        assert gw.wait_log(f"session {victim['id']} of alice from 127.0.0.1: "
                           "ended by an operator")
        second.sendline("exit")
        second.expect(pexpect.EOF)
    finally:
        first.close()
        second.close()


def test_kill_names_operator_and_reason(gw):
    first = shell(gw)
    try:
        (victim,) = listed(gw, 1)
        reason = "INC-77: leaked key, see ticket \u00e9" + "x" * 150
        r = cli(gw, "session", "kill", victim["id"], "--reason", reason,
                "--by", "carol")
        assert r.returncode == 0, r.stderr
        # the user reads why (cut to what a message takes)
        first.expect("jumpgate: session ended by an operator: INC-77: leaked key")
        first.expect(pexpect.EOF)

        def killed():
            return [e for e in events(gw) if e["type"] == "session.kill" and
                    e.get("connection") == victim["id"]]
        (ev,) = wait_for(killed, what="the session.kill event")
        assert ev["by"] == "carol" and ev["reason"] == reason
        assert ev["user"] == "alice" and ev["from"] == "127.0.0.1"

        def ended():
            return [e for e in events(gw) if e["type"] == "session.end" and
                    e.get("connection") == victim["id"]]
        (end,) = wait_for(ended, what="session.end of the killed session")
        assert end["reason"].startswith("session ended by an operator: INC-77")
        assert len(end["reason"].encode()) <= 127
        end["reason"].encode().decode("utf-8")
        assert gw.wait_log(f"session {victim['id']} of alice from 127.0.0.1: "
                           "ended by an operator (carol): INC-77")
    finally:
        first.close()


def test_kill_bad_reason_is_a_usage_error(gw):
    r = cli(gw, "session", "kill", "01890a5d-ac96-774b-bcce-b302099a8057",
            "--reason", "two\nlines")
    assert r.returncode == 2 and "--reason must be one line" in r.stderr


def test_kill_unknown_session_exits_1(gw):
    r = cli(gw, "session", "kill", "01890a5d-ac96-774b-bcce-b302099a8057")
    assert r.returncode == 1
    assert "no session 01890a5d-ac96-774b-bcce-b302099a8057" in r.stderr


@pytest.fixture
def open_gw(make_gateway):
    """A gateway whose control socket is in a folder others may enter, and a
    configuration naming it that others may read: a non-root caller then
    reaches the socket itself."""
    d = Path(tempfile.mkdtemp(prefix="jg-ctl-"))
    d.chmod(0o755)
    sock = d / "control.sock"
    g = make_gateway(control_socket=sock)
    cfg = d / "jumpgate.yaml"
    cfg.write_text(f"policy: p.yaml\ncontrol_socket: {sock}\n")
    cfg.chmod(0o644)
    yield g, sock, cfg
    g.stop()
    for p in d.iterdir():
        p.unlink()
    d.rmdir()


def test_control_socket_is_root_only(open_gw):
    g, sock, cfg = open_gw
    assert sock.stat().st_mode & 0o777 == 0o600
    r = cli(g, "session", "list", user="jumpgate", config=cfg)
    assert r.returncode == 2
    assert "Permission denied (the control socket is root's)" in r.stderr
    # Even with the file mode opened up, the daemon checks who is calling.
    sock.chmod(0o666)
    r = cli(g, "session", "list", user="jumpgate", config=cfg)
    assert r.returncode == 2
    assert "permission denied: root only" in r.stderr
    assert g.wait_log("control socket: refused a client of uid")
    r = cli(g, "session", "list", config=cfg)
    assert r.returncode == 0, r.stderr


def test_grant_takes_effect_without_a_signal(make_gateway):
    g = make_gateway()
    r = g.ssh("bob:monitor", "true", key="bob")
    assert r.returncode == 1 and b"denied" in r.stderr
    r = cli(g, "policy", "grant", "bob", "monitor", "--allow", "exec", "--for", "1h",
            "--login", "root", "--reason", "test", "--by", "carol")
    assert r.returncode == 0, r.stderr
    gid = re.search(r"granted (g-[0-9a-f]+)", r.stdout).group(1)
    # The command told the daemon, which applied it before answering.
    m = re.search(r"jumpgated applied it: policy sha256:([0-9a-f]{64})\n", r.stdout)
    assert m, r.stdout
    assert g.ssh("bob:monitor", "echo in", key="bob").stdout == b"in\n"
    ev = [e for e in events(g) if e["type"] == "policy.reload" and
          e["trigger"] == "control"]
    assert ev and ev[0]["result"] == "success" and ev[0]["by"] == "carol"
    assert ev[0]["digest"] == m.group(1)
    # A live session on the grant is re-decided when the grant goes.
    p = subprocess.Popen(g.ssh_args("bob:monitor", key="bob") + ["sleep 60"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        listed(g, 1)
        r = cli(g, "policy", "revoke", gid)
        assert r.returncode == 0, r.stderr
        assert "jumpgated applied it: policy sha256:" in r.stdout
        out, err = p.communicate(timeout=30)
        assert b"your permission for exec on monitor has ended" in err
    finally:
        stop(p)


def test_broken_policy_write_refused_and_logged(make_gateway):
    g = make_gateway()
    good = g.policy.read_text()
    g.policy.write_text(good + "  - name: broken\n    effect: maybe\n")
    assert g.wait_log("reload refused (file change)")
    def failed():
        return [e for e in events(g) if e["type"] == "policy.reload" and
                e["result"] == "failure"]
    (ev,) = wait_for(failed, what="a policy.reload failure event")
    assert "effect" in ev["reason"] and str(g.policy) in ev["reason"]
    # The old policy still rules.
    r = g.ssh("alice:web-1", "echo ok")
    assert r.returncode == 0 and r.stdout == b"ok\n"
    g.policy.write_text(good)
    assert g.wait_log("reloaded (file change)")
