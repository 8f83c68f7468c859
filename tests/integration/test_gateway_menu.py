# SPDX-License-Identifier: Apache-2.0
# tests/integration/test_gateway_menu.py - `ssh -t USER@gateway` with no
# target shows the menu of what the user may open a shell on now, in the
# real OpenSSH client's terminal: arrows and Enter, digits (one, or several
# with Enter), q and Ctrl-C with their exit statuses, a user with nothing
# allowed, scrolling and redrawing after a window change, and the picked
# session recorded like any other (played by asciinema).
import os
import re
import subprocess
import time

import pexpect
import pytest

from audit_fixtures import asciinema_cat
from gw_fixtures import *  # noqa: F401,F403
from gw_fixtures import gateway_events


def menu_policy(env):
    p = env.pub
    many = "".join(
        f'  t{i:02d}: {{kind: ssh, address: "127.0.0.1:{env.web1.port}"}}\n'
        for i in range(1, 13))
    return f"""\
version: 1
users:
  alice:
    keys: ["{p['alice']}"]
    groups: [ops]
    from: [127.0.0.0/8]
  bob:
    keys: ["{p['bob']}"]
    from: [127.0.0.0/8]
  carol:
    keys: ["{p['carol']}"]
    from: [127.0.0.0/8]
targets:
  web-1:    {{kind: ssh, address: "127.0.0.1:{env.web1.port}"}}
  monitor:  {{kind: ssh, address: "127.0.0.1:{env.monitor.port}"}}
  rds-demo: {{kind: tcp, address: "127.0.0.1:{free_port()}", protocol: mysql}}
{many}rules:
  - name: ops-shell
    groups: [ops]
    targets: [web-1, monitor]
    allow: [shell, exec]
    logins: [root]
  - name: bob-db
    users: [bob]
    targets: [rds-demo]
    allow: [forward]
  - name: carol-many
    users: [carol]
    targets: ["t*"]
    allow: [shell]
    logins: [root]
"""


@pytest.fixture(scope="module")
def mgw(gw_env, tmp_path_factory):
    g = Gateway(gw_env, tmp_path_factory.mktemp("gwmenu"), menu_policy(gw_env))
    yield g
    g.stop()


def spawn(g, user, key=None, rows=24, cols=80):
    args = g.ssh_args(user, key=key or user, extra=("-tt",))
    return pexpect.spawn(args[0], args[1:], env={**os.environ, "TERM": "xterm"},
                         dimensions=(rows, cols), timeout=15)


events = gateway_events


def wait_event(g, pred, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        found = [e for e in events(g) if pred(e)]
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"no such event in {events(g)}")


def test_arrow_down_and_enter_picks_the_second_target(mgw, tmp_path):
    child = spawn(mgw, "alice")
    try:
        child.expect("targets for alice")
        child.expect(r"1  web-1 +as root")
        child.expect(r"2  monitor +as root")
        child.send("\x1b[B")             # Down
        child.expect(r"> 2  monitor")     # redrawn with the second chosen
        child.send("\r")
        child.expect("jumpgate: monitor as root")
        child.sendline("echo picked-$((6*7))-here")
        child.expect("picked-42-here")
        child.sendline("exit 3")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 3
    assert mgw.wait_log("menu: alice from 127.0.0.1: picked monitor as root")
    assert mgw.wait_log("session start: alice from 127.0.0.1: shell on monitor as root (pty)")
    # Recorded like `ssh alice:root@monitor`: a sealed recording whose
    # asciicast view plays.
    end = wait_event(mgw, lambda e: e["type"] == "session.end" and
                     e.get("target") == "monitor")[-1]
    start = [e for e in events(mgw) if e["type"] == "session.start" and
             e["session"] == end["session"]][0]
    assert start["user"] == "alice" and start["login"] == "root"
    assert start["rule"] == "ops-shell"
    rec = list((mgw.audit_dir / "sessions").glob(f"*/{end['session']}.jgr"))
    assert len(rec) == 1
    x = subprocess.run([str(JUMPGATE), "-c", str(mgw.config), "audit",
                        "export", end["session"]], capture_output=True,
                       timeout=60)
    assert x.returncode == 0, x.stderr
    cast = tmp_path / "view.cast"
    cast.write_bytes(x.stdout)
    rc, out = asciinema_cat(cast)
    assert rc == 0, out
    assert b"picked-42-here" in out
    # the menu itself is not part of the recording
    assert b"targets for alice" not in x.stdout


def test_digit_picks_at_once(mgw):
    child = spawn(mgw, "alice")
    try:
        child.expect(r"2  monitor +as root")
        child.send("1")                  # two entries: "1" can only be web-1
        child.expect("jumpgate: web-1 as root")
        child.sendline("exit 4")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 4
    assert mgw.wait_log("picked web-1 as root")


def test_keys_typed_with_the_pick_reach_the_target(mgw):
    child = spawn(mgw, "alice")
    try:
        child.expect(r"2  monitor +as root")
        child.send("2echo typed-$((7*6))-early\r")   # one read
        child.expect("typed-42-early")
        child.sendline("exit")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0


@pytest.mark.parametrize("key,status,text", [
    ("q", 1, "no target chosen"),
    ("\x04", 1, "no target chosen"),
    ("\x03", 130, "interrupted"),
])
def test_leaving_the_menu(mgw, key, status, text):
    child = spawn(mgw, "alice")
    try:
        child.expect(r"2  monitor +as root")
        child.send(key)
        child.expect(text)
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == status


def test_nothing_allowed(mgw):
    child = spawn(mgw, "bob")
    try:
        child.expect("no target you may open a shell on right now")
        child.expect("rds-demo")          # what bob may use instead
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 1
    assert "targets for bob" not in child.before.decode(errors="replace")


def test_without_a_pty_the_list_stays(mgw):
    r = mgw.ssh("alice")
    assert r.returncode == 1
    out = r.stdout.decode()
    assert "web-1" in out and "monitor" in out
    assert "\x1b[" not in out


def test_scrolls_and_redraws_on_window_change(mgw):
    child = spawn(mgw, "carol", rows=24, cols=80)
    try:
        child.expect("targets for carol")
        child.expect(r"12  t12 +as root")   # 12 entries fit in 24 rows
        child.setwinsize(8, 60)              # 6 fit now
        child.expect(r"entries 1-6 of 12")
        child.send("\x1b[F")                 # End
        child.expect(r"> 12  t12")
        child.expect(r"entries 7-12 of 12")
        child.send("1")                      # 1 could begin 10, 11, 12
        child.expect(r"number: 1 \(Enter picks\)")
        child.send("1")
        child.expect("jumpgate: t11 as root")
        child.sendline("stty size")
        child.expect(r"8 60")                # the target got the new size
        child.sendline("exit")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0
    assert mgw.wait_log("picked t11 as root")


def test_multi_digit_with_enter(mgw):
    child = spawn(mgw, "carol")
    try:
        child.expect(r"12  t12 +as root")
        child.send("1\r")
        child.expect("jumpgate: t01 as root")
        child.sendline("exit")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0
