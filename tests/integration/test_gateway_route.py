# SPDX-License-Identifier: Apache-2.0
# tests/integration/test_gateway_route.py - routing at jumpgated: policy
# denials with a reason, strict upstream host keys (unknown, changed), a
# target that is down, direct-tcpip to MariaDB (ssh -L) and ProxyJump (-W).
import json
import subprocess
import time

import pytest

from gw_fixtures import *  # noqa: F401,F403


def test_login_not_allowed(gw):
    r = gw.ssh("alice:nobody@web-1", "true")
    assert r.returncode == 1
    assert b"denied" in r.stderr
    assert gw.wait_log("policy deny: alice from 127.0.0.1: exec on web-1 as nobody")


def test_action_not_allowed(gw):
    # bob may exec on web-1, not open a shell there
    assert gw.ssh("bob:web-1", "true", key="bob").returncode == 0
    r = gw.ssh("bob:web-1", key="bob", extra=("-tt",), input=b"exit\n")
    assert r.returncode == 1
    assert b"shell on web-1 denied" in r.stderr


def test_unknown_target(gw):
    r = gw.ssh("alice:no-such", "true")
    assert r.returncode == 1
    assert b"no-such" in r.stderr and b"denied" in r.stderr


def test_changed_host_key_refused(gw, gw_env):
    r = gw.ssh("alice:web-2", "echo should-not-run")
    assert r.returncode == 1
    assert b"should-not-run" not in r.stdout
    assert b"CHANGED" in r.stderr
    assert gw.wait_log("host key CHANGED")
    line = [l for l in gw.logtext().splitlines() if "host key CHANGED" in l][-1]
    assert "web-2" in line and line.count("SHA256:") == 2


def test_unknown_host_key_refused(gw):
    r = gw.ssh("alice:web-3", "echo should-not-run")
    assert r.returncode == 1
    assert b"not known" in r.stderr
    assert gw.wait_log("is not in")


def test_target_down(gw):
    t = time.monotonic()
    r = gw.ssh("alice:down-1", "true")
    assert r.returncode == 1
    assert b"cannot connect" in r.stderr
    assert time.monotonic() - t < 15


@pytest.fixture(scope="module")
def gw_db(gw_env, tmp_path_factory):
    pymysql = pytest.importorskip("pymysql")
    gw_env.mariadb()
    g = Gateway(gw_env, tmp_path_factory.mktemp("gwdb"), policy_text(gw_env))
    yield g, pymysql
    g.stop()


def _forward(g, user, key, spec):
    args = g.ssh_args(user, key=key, extra=("-N", "-o", "ExitOnForwardFailure=yes",
                                            "-L", spec))
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_local_forward_to_mariadb(gw_db, gw_env):
    g, pymysql = gw_db
    lport = free_port()
    t0 = time.monotonic()
    p = _forward(g, "alice", "alice", f"{lport}:rds-demo:{gw_env.mysql_port}")
    try:
        wait_port(lport, proc=p)
        for _ in range(2):  # two channels over one connection
            c = pymysql.connect(host="127.0.0.1", port=lport, user="root",
                                password="", connect_timeout=10)
            with c.cursor() as cur:
                cur.execute("SELECT 6 * 7, REPEAT('x', 100000)")
                row = cur.fetchone()
            c.close()
            assert row[0] == 42 and len(row[1]) == 100000
    finally:
        stop(p)
    assert g.wait_log("forward open: alice from 127.0.0.1 to rds-demo")
    # The event log has both channels, opened and closed, with byte counts.
    end = time.monotonic() + 10
    while time.monotonic() < end:
        ev = [json.loads(l) for f in sorted((g.audit_dir / "events").glob("*.jsonl"))
              for l in f.read_text().splitlines() if l]
        closes = [e for e in ev if e["type"] == "forward.close"]
        if sum(e["bytes_out"] > 100000 for e in closes) >= 2:
            break
        time.sleep(0.1)
    opens = [e for e in ev if e["type"] == "forward.open"]
    assert len(opens) >= 2 and len(closes) >= 2, ev
    assert opens[0]["user"] == "alice" and opens[0]["target"] == "rds-demo"
    assert opens[0]["action"] == "forward" and opens[0]["rule"] == "ops-db"
    assert all(e["target"] == "rds-demo" for e in closes)
    # (wait_port's probe is a channel too, with only the server greeting)
    assert sum(e["bytes_out"] > 100000 for e in closes) >= 2, closes
    # Bytes each way and how long each channel lasted (in ms, so never
    # more than the whole test took).
    elapsed_ms = (time.monotonic() - t0) * 1000
    for e in closes:
        assert e["bytes_in"] >= 0 and isinstance(e["duration_ms"], int), e
        assert 0 <= e["duration_ms"] <= elapsed_ms, (e, elapsed_ms)
    assert sum(e["bytes_in"] > 0 for e in closes) >= 2, closes


def test_forward_refusals(gw_db, gw_env):
    g, pymysql = gw_db
    cases = [("bob", "bob", f"rds-demo:{gw_env.mysql_port}", "forward on rds-demo"),
             ("alice", "alice", "rds-demo:1", "is not the port of target"),
             ("alice", "alice", f"127.0.0.1:{gw_env.mysql_port}", "is not a target")]
    for user, key, dest, why in cases:
        lport = free_port()
        p = _forward(g, user, key, f"{lport}:{dest}")
        try:
            wait_port(lport, proc=p)
            c = __import__("socket").create_connection(("127.0.0.1", lport), timeout=10)
            c.settimeout(10)
            assert c.recv(100) == b""  # the gateway refused the channel
            c.close()
        finally:
            stop(p)
        assert g.wait_log(why), why


def _jump(g, gw_env, user, key, port):
    kh = g.dir / "monitor_known_hosts"
    kh.write_text(f"[monitor]:{gw_env.monitor.port} {gw_env.monitor.hostpub}\n")
    proxy = " ".join(g.ssh_args(user, key=key, extra=("-W", "%h:%p")))
    return subprocess.run(
        ["ssh", "-F", "/dev/null", "-o", f"ProxyCommand={proxy}",
         "-o", f"UserKnownHostsFile={kh}", "-o", "StrictHostKeyChecking=yes",
         "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
         "-i", str(gw_env.identity), "-p", str(port), "root@monitor",
         "echo jumped"], capture_output=True, timeout=30)


def test_proxyjump_allowed(gw, gw_env):
    r = _jump(gw, gw_env, "alice", "alice", gw_env.monitor.port)
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"jumped\n"


def test_proxyjump_denied(gw, gw_env):
    r = _jump(gw, gw_env, "bob", "bob", gw_env.monitor.port)
    assert r.returncode == 255
    assert gw.wait_log("policy deny: bob from 127.0.0.1: jump on monitor")
    r = _jump(gw, gw_env, "alice", "alice", 22)
    assert r.returncode == 255
