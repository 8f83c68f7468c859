# SPDX-License-Identifier: Apache-2.0
# tests/integration/test_gateway_channels.py - channels over the life of
# one connection: a -L tunnel serves any number of connections one after
# another; refused forwards and failed connections to targets are events
# and metrics, with the reason for the user.
import asyncio
import json
import os
import re
import socket
import subprocess
import threading
import time

import asyncssh
import pytest

from gw_fixtures import *  # noqa: F401,F403

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}"

# Sequential connections through one tunnel (JG_TEST_TUNNEL_CONNS to change).
TUNNEL_CONNS = int(os.environ.get("JG_TEST_TUNNEL_CONNS", "10000"))


class EchoServer:
    """A TCP echo server on loopback, one thread per connection."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            threading.Thread(target=self._echo, args=(c,), daemon=True).start()

    @staticmethod
    def _echo(c):
        with c:
            while True:
                try:
                    b = c.recv(4096)
                except OSError:
                    return
                if not b:
                    return
                c.sendall(b)

    def close(self):
        self.sock.close()


def _policy(gw_env, echo_port, dead_port):
    targets = (f'  echo: {{kind: tcp, address: "127.0.0.1:{echo_port}"}}\n'
               f'  dead: {{kind: tcp, address: "127.0.0.1:{dead_port}"}}\n')
    rules = ("  - name: ops-echo\n    groups: [ops]\n"
             "    targets: [echo, dead]\n    allow: [forward]\n")
    return policy_text(gw_env, extra_rules=rules, targets_extra=targets)


@pytest.fixture(scope="module")
def chan_gw(gw_env, tmp_path_factory):
    echo = EchoServer()
    with socket.socket() as s:   # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    mport = free_port()
    g = Gateway(gw_env, tmp_path_factory.mktemp("gwchan"),
                _policy(gw_env, echo.port, dead),
                config_extra=f'metrics: {{listen: "127.0.0.1:{mport}"}}\n')
    g.metrics_port, g.echo, g.dead_port = mport, echo, dead
    yield g
    g.stop()
    echo.close()


def _events(g):
    return [json.loads(l) for f in sorted((g.audit_dir / "events").glob("*.jsonl"))
            for l in f.read_text().splitlines() if l]


def _wait_events(g, pred, what):
    return wait_for(lambda: [e for e in _events(g) if pred(e)], what=what)


def test_tunnel_outlives_many_channels(chan_gw):
    """Each connection through -L is a channel; closed ones give back what
    they took, so the tunnel never runs out."""
    g = chan_gw
    lport = free_port()
    p = subprocess.Popen(g.ssh_args("alice", extra=(
        "-N", "-o", "ExitOnForwardFailure=yes",
        "-L", f"{lport}:echo:{g.echo.port}")),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    t0 = time.monotonic()
    try:
        wait_port(lport, proc=p)
        for i in range(TUNNEL_CONNS):
            with socket.create_connection(("127.0.0.1", lport), timeout=10) as c:
                c.settimeout(10)
                msg = b"%d\n" % i
                c.sendall(msg)
                got = b""
                while len(got) < len(msg):
                    b = c.recv(100)
                    assert b, f"connection {i + 1} through the tunnel was refused"
                    got += b
                assert got == msg
        assert p.poll() is None, "the tunnel ended"
    finally:
        took = time.monotonic() - t0
        stop(p)
    print(f"{TUNNEL_CONNS} connections through one tunnel in {took:.1f} s")
    # Every one was a forward of its own, opened and closed in the log.
    opens = _wait_events(g, lambda e: e["type"] == "forward.open" and
                         e["target"] == "echo", "forward.open events")
    assert len(opens) >= TUNNEL_CONNS
    assert len({e["connection"] for e in opens}) == 1
    # Each forward has a session id of its own, shared by its close, and
    # audit list shows it as a session.
    ids = {e["session"] for e in opens}
    assert all(re.fullmatch(UUID, i) for i in ids) and len(ids) == len(opens)

    def closed():
        c = {e["session"] for e in _events(g) if e["type"] == "forward.close"
             and e.get("session") in ids}
        return c if c == ids else None
    wait_for(closed, what="a forward.close for each forward.open")
    r = subprocess.run([str(JUMPGATE), "-c", str(g.config), "audit", "list",
                        "--json", "--target", "echo"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    rows = {x["id"]: x for x in json.loads(r.stdout)}
    assert set(ids) <= set(rows)
    assert {rows[i]["action"] for i in ids} == {"forward"}
    assert all(rows[i]["recording"] is None and rows[i]["duration"] is not None
               for i in ids)


def _forward_w(g, dest):
    return subprocess.run(g.ssh_args("alice", extra=("-W", dest)),
                          input=b"", capture_output=True, timeout=30)


def test_refused_forwards_are_events(chan_gw):
    g = chan_gw
    before, _ = scrape(g.metrics_port)
    cases = [("no-such:80", "'no-such' is not a target", "no-such", "forward"),
             ("echo:1", "port 1 is not the port of target echo", "echo", "forward"),
             ("web-1:1", "port 1 is not the port of target web-1", "web-1", "jump")]
    for dest, why, target, action in cases:
        r = _forward_w(g, dest)
        assert r.returncode != 0
        # The client sees why, in the channel-open failure itself (no -v).
        host, port = dest.split(":")
        want = (f"open failed: administratively prohibited: jumpgate: forward "
                f"to {host} port {port} refused: {why}")
        assert want.encode() in r.stderr, r.stderr[-2000:]
        ev = _wait_events(g, lambda e: e["type"] == "policy.deny" and
                          e["reason"].startswith(why), f"policy.deny for {dest!r}")
        assert ev[-1]["target"] == target and ev[-1]["action"] == action, ev
        assert ev[-1]["user"] == "alice" and ev[-1]["connection"], ev
        assert ev[-1]["port"] in (1, 80), ev
    after = wait_for(lambda: (lambda s: s if metric(
        s, "jumpgate_policy_denials_total", rule="default") >= metric(
        before, "jumpgate_policy_denials_total", rule="default") + 3 else None)(
        scrape(g.metrics_port)[0]), what="denials counted")
    assert metric(after, "jumpgate_sessions_total", action="forward",
                  result="denied") >= metric(
        before, "jumpgate_sessions_total", action="forward", result="denied") + 2


def test_failed_target_connections_are_events(chan_gw):
    g = chan_gw
    r = _forward_w(g, f"dead:{g.dead_port}")
    assert r.returncode != 0
    assert re.search(rb"open failed: administratively prohibited: jumpgate: "
                     rb"forward to dead port \d+ refused: .*cannot connect to "
                     rb"127\.0\.0\.1 port", r.stderr), r.stderr[-2000:]
    for login_target, err, word in [("alice:down-1", "refused", b"cannot connect"),
                                    ("alice:web-2", "host_key_changed", b"CHANGED"),
                                    ("alice:web-3", "host_key_unknown", b"not known")]:
        r = g.ssh(login_target, "true")
        assert r.returncode == 1 and word in r.stderr, r.stderr
    want = {("dead", "forward", "refused"), ("down-1", "exec", "refused"),
            ("web-2", "exec", "host_key_changed"),
            ("web-3", "exec", "host_key_unknown")}
    ev = wait_for(lambda: (lambda v: v if want <= {
        (e["target"], e["action"], e["error"]) for e in v} else None)(
        [e for e in _events(g) if e["type"] == "target.error"]),
        what="target.error events")
    for e in ev:
        assert e["user"] == "alice" and e["reason"] and e["host"] and e["port"], e
    s = wait_for(lambda: (lambda s: s if all(metric(
        s, "jumpgate_target_errors_total", target=t, error=x) >= 1
        for t, _, x in want) else None)(scrape(g.metrics_port)[0]),
        what="target errors counted")
    assert metric(s, "jumpgate_target_errors_total", target="dead",
                  error="refused") >= 1


def test_oversized_request_disconnects(chan_gw, gw_env):
    """A channel request over libssh's 256 KiB packet limit ends the
    connection with a reason (it used to hold it open for ever), and the
    session still open on it ends with that reason in the log."""
    g = chan_gw
    result = {}

    async def run():
        async with asyncssh.connect(
                "127.0.0.1", port=g.port, username="alice:web-1",
                client_keys=[str(gw_env.keys / "alice")],
                known_hosts=str(g.kh)) as conn:
            first = await conn.create_process("cat")
            first.stdin.write("up\n")
            assert await first.stdout.readline() == "up\n"
            t = time.monotonic()
            try:
                await asyncio.wait_for(conn.run("true #" + "x" * 300000), 20)
            except asyncio.TimeoutError:
                result["hung"] = True
            except (asyncssh.Error, OSError) as e:
                result["error"] = e
            result["took"] = time.monotonic() - t
            try:
                await asyncio.wait_for(conn.wait_closed(), 10)
            except asyncssh.DisconnectError as e:
                result["disconnect"] = e.reason

    try:
        asyncio.run(run())
    except (asyncssh.Error, OSError):
        pass
    assert "hung" not in result, "the connection was held open"
    assert result["took"] < 15
    assert g.wait_log("protocol error; disconnecting"), g.logtext()[-2000:]
    ends = _wait_events(g, lambda e: e["type"] == "session.end" and
                        e["reason"] == "protocol error", "session.end")
    assert ends[-1]["user"] == "alice" and ends[-1]["target"] == "web-1"


def test_malformed_forward_destinations_are_events(chan_gw, gw_env):
    """A destination no name can be (too long) or a port out of range is a
    refusal like any other: an event with the reason."""
    g = chan_gw
    long_host = "h" * 300

    async def run():
        async with asyncssh.connect(
                "127.0.0.1", port=g.port, username="alice",
                client_keys=[str(gw_env.keys / "alice")],
                known_hosts=str(g.kh)) as conn:
            for host, port in ((long_host, 80), ("echo", 0)):
                try:
                    await conn.open_connection(host, port)
                    raise AssertionError(f"{host[:20]}:{port} was accepted")
                except asyncssh.ChannelOpenError:
                    pass

    asyncio.run(asyncio.wait_for(run(), 60))
    ev = _wait_events(g, lambda e: e["type"] == "policy.deny" and
                      e["reason"] == f"'{long_host[:255]}' is not a target",
                      "policy.deny for a long name")
    assert ev[-1]["user"] == "alice" and ev[-1]["port"] == 80
    ev = _wait_events(g, lambda e: e["type"] == "policy.deny" and
                      e["reason"].startswith("port 0 is not the port of target echo"),
                      "policy.deny for port 0")
    assert ev[-1]["target"] == "echo"
