# SPDX-License-Identifier: Apache-2.0
# tests/integration/test_gateway_policy.py - policy over time at jumpgated:
# sessions cut when their permission lapses, SIGHUP with a good and a broken
# policy, SIGTERM draining, and `jumpgated -t`.
import signal
import subprocess
import time
from datetime import datetime, timedelta, timezone

from gw_fixtures import *  # noqa: F401,F403


def _grant(seconds):
    until = (datetime.now(timezone.utc) + timedelta(seconds=seconds)).strftime(
        "%Y-%m-%dT%H:%M:%SZ")
    return f"""grants:
  - {{id: g-0000abcd, user: bob, targets: [monitor], allow: [exec],
     logins: [root], until: "{until}", reason: test}}
"""


def test_session_cut_when_grant_lapses(make_gateway, gw_env):
    g = make_gateway(policy_text(gw_env) + _grant(3))
    t = time.monotonic()
    r = g.ssh("bob:monitor", "echo started; sleep 30; echo not-cut", key="bob",
              timeout=40)
    took = time.monotonic() - t
    assert r.stdout == b"started\n"
    assert r.returncode != 0
    assert b"ended" in r.stderr
    assert took < 15
    assert g.wait_log("session of bob from 127.0.0.1 ends")
    # after the grant, bob is refused with a reason
    r = g.ssh("bob:monitor", "true", key="bob")
    assert r.returncode == 1 and b"denied" in r.stderr


def test_sighup_broken_policy_kept_old(make_gateway, gw_env):
    g = make_gateway()
    p = subprocess.Popen(g.ssh_args("alice:web-1") + ["sleep 2; echo survived"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(0.8)
    good = g.policy.read_text()
    g.policy.write_text(good + "  - name: broken\n    effect: maybe\n")
    g.sighup()
    assert g.wait_log("reload refused")
    out, err = p.communicate(timeout=20)
    assert out == b"survived\n", err
    assert g.ssh("alice:web-1", "echo ok").stdout == b"ok\n"
    assert g.proc.poll() is None


def test_sighup_revokes_live_session(make_gateway, gw_env):
    g = make_gateway()
    p = subprocess.Popen(g.ssh_args("alice:web-1") + ["echo in; sleep 30"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert p.stdout.readline() == b"in\n"
    deny = """  - name: lockdown
    effect: deny
    users: [alice]
"""
    g.policy.write_text(g.policy.read_text() + deny)
    g.sighup()
    out, err = p.communicate(timeout=20)
    assert out == b""
    assert p.returncode != 0
    assert b"lockdown" in err
    assert g.wait_log("configuration and policy reloaded")


def test_sigterm_drains(make_gateway):
    g = make_gateway()
    p = subprocess.Popen(g.ssh_args("alice:web-1") + ["sleep 1.5; echo drained"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert g.wait_log("session start: alice")
    g.proc.send_signal(signal.SIGTERM)
    assert g.wait_log("stopping")
    r = g.ssh("alice:web-1", "true")
    assert r.returncode == 255  # no new connections
    out, _ = p.communicate(timeout=20)
    assert out == b"drained\n"
    assert g.proc.wait(timeout=10) == 0


def test_check_mode(make_gateway, gw_env):
    g = make_gateway()
    r = subprocess.run([str(JUMPGATED), "-t", "-c", str(g.config)],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 0, r.stderr
    assert "OK" in r.stdout
    g.policy.write_text(g.policy.read_text() + "  - name: x\n    effect: maybe\n")
    r = subprocess.run([str(JUMPGATED), "-t", "-c", str(g.config)],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 1
    assert f"{g.policy}:" in r.stderr


def test_usage():
    r = subprocess.run([str(JUMPGATED), "--version"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.startswith("jumpgated ")
    r = subprocess.run([str(JUMPGATED), "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "--foreground" in r.stdout
    r = subprocess.run([str(JUMPGATED), "--bogus"], capture_output=True, text=True)
    assert r.returncode == 2
