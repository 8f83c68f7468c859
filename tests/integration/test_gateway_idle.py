# SPDX-License-Identifier: Apache-2.0
# tests/integration/test_gateway_idle.py - limits.idle_timeout: a
# connection with no byte in either direction for that long is closed with
# a message to the user and session.end / forward.close events whose reason
# is "idle"; sessions and forward channels that carry bytes are not cut.
import os
import subprocess
import time

import pexpect
import pytest

from gw_fixtures import *  # noqa: F401,F403
from gw_fixtures import gateway_events

IDLE = 3  # seconds; every "busy" test below moves a byte at least 10x as often


@pytest.fixture(scope="module")
def igw(gw_env, tmp_path_factory):
    g = Gateway(gw_env, tmp_path_factory.mktemp("gwidle"), policy_text(gw_env),
                idle_timeout=f"{IDLE}s")
    yield g
    g.stop()


events = gateway_events


def wait_events(g, pred, timeout=15.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        found = [e for e in events(g) if pred(e)]
        if found:
            return found
        time.sleep(0.1)
    return []


def test_idle_shell_is_closed(igw):
    args = igw.ssh_args("alice:web-1", extra=("-tt",))
    child = pexpect.spawn(args[0], args[1:], env={**os.environ, "TERM": "xterm"},
                          timeout=30)
    try:
        child.sendline("echo idle-$((6*7))-test")
        child.expect("idle-42-test")
        # then nothing, either way
        child.expect(f"jumpgate: idle for {IDLE}s, closing")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus != 0
    assert igw.wait_log(f"closed: idle for {IDLE}s, closing")
    ends = wait_events(igw, lambda e: e["type"] == "session.end" and
                       e.get("reason") == "idle")
    assert ends and ends[-1]["user"] == "alice" and ends[-1]["target"] == "web-1"


def test_busy_output_is_not_cut(igw):
    # about 3 idle timeouts long, a line every 0.1 s
    n = IDLE * 30
    r = igw.ssh("alice:web-1",
                f"i=0; while [ $i -lt {n} ]; do echo tick; sleep 0.1; i=$((i+1)); done",
                timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.count(b"tick\n") == n
    assert b"idle" not in r.stderr


def test_busy_input_is_not_cut(igw):
    # only the client sends: a byte every 0.1 s for about 3 idle timeouts
    args = igw.ssh_args("alice:web-1") + ["wc -c"]
    p = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    n = IDLE * 30
    for _ in range(n):
        p.stdin.write(b"x")
        p.stdin.flush()
        time.sleep(0.1)
    out, err = p.communicate(timeout=60)   # closes stdin: EOF to wc
    assert p.returncode == 0, err
    assert out.strip() == str(n).encode()


def _jump(g, gw_env, command):
    kh = g.dir / "monitor_known_hosts"
    kh.write_text(f"[monitor]:{gw_env.monitor.port} {gw_env.monitor.hostpub}\n")
    proxy = " ".join(g.ssh_args("alice", extra=("-W", "%h:%p")))
    return subprocess.run(
        ["ssh", "-F", "/dev/null", "-o", f"ProxyCommand={proxy}",
         "-o", f"UserKnownHostsFile={kh}", "-o", "StrictHostKeyChecking=yes",
         "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
         "-o", "ServerAliveInterval=0",
         "-i", str(gw_env.identity), "-p", str(gw_env.monitor.port),
         "root@monitor", command], capture_output=True, timeout=120)


def test_forward_channel_with_traffic_counts(igw, gw_env):
    # the only channel is a forward (-W): its bytes keep the connection
    n = IDLE * 30
    r = _jump(igw, gw_env,
              f"i=0; while [ $i -lt {n} ]; do echo tick; sleep 0.1; i=$((i+1)); done")
    assert r.returncode == 0, r.stderr
    assert r.stdout.count(b"tick\n") == n


def test_idle_forward_channel_is_closed(igw, gw_env):
    r = _jump(igw, gw_env, "sleep 60; echo never")
    assert r.returncode != 0
    assert b"never" not in r.stdout
    closes = wait_events(igw, lambda e: e["type"] == "forward.close" and
                         e.get("reason") == "idle")
    assert closes and closes[-1]["target"] == "monitor"
