# SPDX-License-Identifier: Apache-2.0
# tests/integration/test_gateway_limits.py - the master's limits: a source
# with too many authentication failures is banned (its connections get one
# line and are closed) while others are not, and the ban decays; connections
# beyond limits.max_startups are dropped; one source cannot hold more than
# limits.per_source_startups unauthenticated connections, and a source whose
# connections end or time out without logging in is refused for a while
# (limits.penalties); all of it shows in /metrics.
import socket

import pytest

from gw_fixtures import *  # noqa: F401,F403


def greeting(port, source):
    """Connects from source; the first line the gateway sends ("" if it
    closed without one)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10,
                                  source_address=(source, 0)) as s:
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(256)
            if not chunk:
                break
            data += chunk
        return data.decode(errors="replace")


@pytest.fixture
def limited(make_gateway, gw_env):
    def make(limits):
        port = free_port()
        g = make_gateway(limits=limits,
                         config_extra=f'metrics: {{listen: "127.0.0.1:{port}"}}\n')
        g.metrics_port = port
        wait_port(port, proc=g.proc)
        return g
    return make


def test_ban_after_failures_and_decay(limited):
    g = limited("{auth_failures: {max: 3, window: 1m, ban: 3s}}")
    for _ in range(3):
        r = g.ssh("bob:web-1", "true", key="mallory", bind="127.0.0.3")
        assert r.returncode == 255 and b"Permission denied" in r.stderr
    assert g.wait_log("ban of 127.0.0.3 started: 3 authentication failures")
    line = greeting(g.port, "127.0.0.3")
    assert line == ("jumpgate: too many authentication failures from your address; "
                    "try again later\r\n")
    r = g.ssh("bob:web-1", "true", key="bob", bind="127.0.0.3")  # even the right key
    assert r.returncode == 255
    # Another source is not affected.
    r = g.ssh("alice:web-1", "echo fine", bind="127.0.0.2")
    assert r.returncode == 0 and r.stdout == b"fine\n", r.stderr
    m, _ = scrape(g.metrics_port)
    assert metric(m, "jumpgate_auth_bans_total") == 1
    assert metric(m, "jumpgate_auth_bans_active") == 1
    assert metric(m, "jumpgate_connections_total", result="banned") == 2
    assert metric(m, "jumpgate_auth_attempts_total", method="publickey",
                  result="failure") == 3
    # The ban decays by itself.
    assert g.wait_log("ban of 127.0.0.3 ended", timeout=30)
    assert greeting(g.port, "127.0.0.3").startswith("SSH-2.0-")
    r = g.ssh("bob:web-1", "echo back", key="bob", bind="127.0.0.3")
    assert r.returncode == 0 and r.stdout == b"back\n", r.stderr
    m, _ = scrape(g.metrics_port)
    assert metric(m, "jumpgate_auth_bans_active") == 0


def test_max_startups_drops_unauthenticated(limited):
    g = limited('{max_startups: "2:100:10", login_grace: 30s}')
    held = []

    def hold():
        # (the start-up probes may still count for a moment: then retry)
        s = socket.create_connection(("127.0.0.1", g.port), timeout=10)
        if s.recv(256).startswith(b"SSH-2.0-"):
            held.append(s)
            return True
        s.close()
        return False
    try:
        # Two connections that never authenticate fill the start.
        for _ in range(2):
            wait_for(hold, what="an accepted connection")
        before, _ = scrape(g.metrics_port)
        # From here on the drop chance is 100 % at "2:100:...".
        assert greeting(g.port, "127.0.0.1") == ""
        assert g.wait_log("dropped: 2 unauthenticated connections "
                          "(limits.max_startups 2:100:10)")
        after, _ = scrape(g.metrics_port)
        for result, delta in (("startups_dropped", 1), ("accepted", 0)):
            assert metric(after, "jumpgate_connections_total", result=result) - \
                metric(before, "jumpgate_connections_total", result=result) == delta
    finally:
        for s in held:
            s.close()
    # Once they are gone, connections are accepted again.
    wait_for(lambda: g.ssh("alice:web-1", "echo again").stdout == b"again\n",
             what="a login after the unauthenticated ones left")


PER_SOURCE = ("jumpgate: too many unauthenticated connections from your "
              "address; try again later\r\n")
PENALISED = ("jumpgate: too many connections from your address did not log "
             "in; try again later\r\n")


def test_one_source_cannot_lock_others_out(limited):
    g = limited("{max_startups: 8, per_source_startups: 4, login_grace: 30s, "
                "auth_failures: {max: 1000}}")
    held = []

    def hold():
        # (the start-up probe may still count for a moment: then retry)
        s = socket.create_connection(("127.0.0.1", g.port), timeout=10)
        line = s.recv(256)
        if line.startswith(b"SSH-2.0-"):
            held.append(s)
            return True
        s.close()
        return False
    try:
        for _ in range(4):
            wait_for(hold, what="an accepted connection")
        # The source has its four: more of its connections, held open as
        # well, are refused with a line saying why and do not count towards
        # max_startups (8).
        for _ in range(8):
            s = socket.create_connection(("127.0.0.1", g.port), timeout=10)
            held.append(s)
            assert s.recv(256) == PER_SOURCE.encode()
        assert g.wait_log("connection from 127.0.0.1 refused: 4 "
                          "unauthenticated connections from it "
                          "(limits.per_source_startups 4)")
        # A user from another address logs in meanwhile.
        r = g.ssh("alice:web-1", "echo in", bind="127.0.0.2")
        assert r.returncode == 0 and r.stdout == b"in\n", r.stderr
        m, _ = scrape(g.metrics_port)
        # (a retry of hold() may have been refused too)
        assert metric(m, "jumpgate_connections_total",
                      result="source_startups") >= 8
        assert metric(m, "jumpgate_connections_total",
                      result="startups_dropped") == 0
    finally:
        for s in held:
            s.close()


def test_sources_that_do_not_log_in_are_penalised(limited):
    g = limited("{login_grace: 2s, auth_failures: {max: 1000}, penalties: "
                "{grace_exceeded: 10m, noauth: 10m, min: 15s, max: 10m}}")
    # Held silent until the login grace time is over.
    with socket.create_connection(("127.0.0.1", g.port), timeout=60,
                                  source_address=("127.0.0.3", 0)) as s:
        assert s.recv(256).startswith(b"SSH-2.0-")
        while s.recv(256):
            pass
    assert g.wait_log("penalty of 127.0.0.3 started: its connections held on "
                      "without logging in")
    assert greeting(g.port, "127.0.0.3") == PENALISED
    # Closed before logging in.
    assert greeting(g.port, "127.0.0.4").startswith("SSH-2.0-")
    assert g.wait_log("penalty of 127.0.0.4 started: its connections ended "
                      "without logging in")
    assert greeting(g.port, "127.0.0.4") == PENALISED
    assert g.wait_log("connection from 127.0.0.4 refused: penalised until")
    # Nobody else is.
    assert greeting(g.port, "127.0.0.5").startswith("SSH-2.0-")
    m, _ = scrape(g.metrics_port)
    assert metric(m, "jumpgate_source_penalties_total",
                  reason="grace_exceeded") == 1
    # (127.0.0.1's start-up probe is penalised too)
    assert metric(m, "jumpgate_source_penalties_total", reason="noauth") >= 1
    assert metric(m, "jumpgate_source_penalties_active") >= 2
    assert metric(m, "jumpgate_connections_total", result="penalised") == 2
