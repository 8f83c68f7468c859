# SPDX-License-Identifier: Apache-2.0
# tests/integration/test_gateway_metrics.py - jumpgated's /metrics after
# real ssh logins, failures, denials, sessions and forwards: every family of
# the contract with HELP and TYPE, and counters that move by what happened
# (deltas between two scrapes); half-sent requests do not keep a scraper
# out.
import http.client
import os
import socket
import subprocess
import threading
import urllib.error
import urllib.request

import pexpect
import pytest

from gw_fixtures import *  # noqa: F401,F403

FAMILIES = {
    "jumpgate_build_info": "gauge",
    "process_start_time_seconds": "gauge",
    "jumpgate_connections_total": "counter",
    "jumpgate_sessions_active": "gauge",
    "jumpgate_sessions_total": "counter",
    "jumpgate_auth_attempts_total": "counter",
    "jumpgate_auth_bans_active": "gauge",
    "jumpgate_auth_bans_total": "counter",
    "jumpgate_source_penalties_active": "gauge",
    "jumpgate_source_penalties_total": "counter",
    "jumpgate_policy_denials_total": "counter",
    "jumpgate_bytes_total": "counter",
    "jumpgate_forward_channels_active": "gauge",
    "jumpgate_forward_channels_total": "counter",
    "jumpgate_audit_write_errors_total": "counter",
    "jumpgate_policy_reloads_total": "counter",
    "jumpgate_policy_info": "gauge",
    "jumpgate_policy_loaded_timestamp_seconds": "gauge",
}


@pytest.fixture(scope="module")
def mgw(gw_env, tmp_path_factory):
    port = free_port()
    rules = """\
  - name: bob-not-monitor
    effect: deny
    users: [bob]
    targets: [monitor]
  - name: ops-tcp
    groups: [ops]
    targets: [sshd-tcp]
    allow: [forward]
"""
    targets = f'  sshd-tcp: {{kind: tcp, address: "127.0.0.1:{gw_env.web1.port}"}}\n'
    g = Gateway(gw_env, tmp_path_factory.mktemp("gwm"),
                policy_text(gw_env, extra_rules=rules, targets_extra=targets),
                config_extra=f'metrics: {{listen: "127.0.0.1:{port}"}}\n')
    g.metrics_port = port
    wait_port(port, proc=g.proc)
    yield g
    g.stop()


def test_every_family_with_help_and_type(mgw):
    samples, types = scrape(mgw.metrics_port)
    for name, kind in FAMILIES.items():
        assert types.get(name) == kind, name
    names = {n for n, _ in samples}
    # Series by target appear with the first forward.
    assert names == set(FAMILIES) - {"jumpgate_forward_channels_total"}, names
    assert metric(samples, "jumpgate_build_info", version="0.1.0") == 1
    assert samples[("process_start_time_seconds", ())] > 1.7e9


def test_other_paths_are_404(mgw):
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(f"http://127.0.0.1:{mgw.metrics_port}/", timeout=10)
    assert e.value.code == 404


def test_logins_failures_and_denials_counted(mgw):
    before, _ = scrape(mgw.metrics_port)
    r = mgw.ssh("alice:web-1", "head -c 5000 /dev/zero")
    assert r.returncode == 0 and len(r.stdout) == 5000
    r = mgw.ssh("bob", "true", key="mallory")            # wrong key
    assert r.returncode == 255
    r = mgw.ssh("bob:web-1", "true", extra=("-tt",), key="bob")  # exec only
    r = mgw.ssh("bob:web-2", "true", key="bob")          # no rule: default
    assert r.returncode == 1
    r = mgw.ssh("bob:monitor", "true", key="bob")        # the deny rule
    assert r.returncode == 1

    def moved():
        after, _ = scrape(mgw.metrics_port)
        d = lambda n, **l: metric(after, n, **l) - metric(before, n, **l)  # noqa: E731
        ok = (d("jumpgate_connections_total", result="accepted") >= 5 and
              d("jumpgate_auth_attempts_total", method="publickey", result="success") >= 4 and
              d("jumpgate_auth_attempts_total", method="publickey", result="failure") >= 1 and
              d("jumpgate_sessions_total", action="exec", result="allowed") >= 2 and
              d("jumpgate_sessions_total", action="exec", result="denied") >= 2 and
              d("jumpgate_policy_denials_total", rule="default") >= 1 and
              d("jumpgate_policy_denials_total", rule="bob-not-monitor") >= 1 and
              d("jumpgate_bytes_total", direction="to_client") >= 5000)
        return ok and (after, d)
    after, d = wait_for(moved, what="counters after logins")
    # Exactly what happened, no more.
    assert d("jumpgate_auth_attempts_total", method="publickey", result="failure") == 1
    assert d("jumpgate_policy_denials_total", rule="bob-not-monitor") == 1
    assert d("jumpgate_sessions_total", action="shell", result="allowed") == 0
    assert metric(after, "jumpgate_sessions_active", action="exec") == 0


def test_live_shell_is_active_then_not(mgw):
    args = mgw.ssh_args("alice:web-1", extra=("-tt",))
    child = pexpect.spawn(args[0], args[1:], env={**os.environ, "TERM": "xterm"},
                          timeout=15)
    try:
        child.sendline("echo rea''dy")
        child.expect("ready")
        wait_for(lambda: metric(scrape(mgw.metrics_port)[0], "jumpgate_sessions_active",
                                action="shell") == 1, what="one active shell")
        child.sendline("exit")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    wait_for(lambda: metric(scrape(mgw.metrics_port)[0], "jumpgate_sessions_active",
                            action="shell") == 0, what="no active shell")


def test_forward_counted_open_and_closed(mgw, gw_env):
    before, _ = scrape(mgw.metrics_port)
    lport = free_port()
    p = subprocess.Popen(
        mgw.ssh_args("alice", extra=("-N", "-o", "ExitOnForwardFailure=yes", "-L",
                                     f"{lport}:sshd-tcp:{gw_env.web1.port}")),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_port(lport, proc=p)  # (a channel of its own)
        with socket.create_connection(("127.0.0.1", lport), timeout=10) as s:
            banner = s.recv(64)
            assert banner.startswith(b"SSH-2.0-")
            wait_for(lambda: metric(scrape(mgw.metrics_port)[0],
                                    "jumpgate_forward_channels_active") >= 1,
                     what="an active forward")
            now, _ = scrape(mgw.metrics_port)
            assert metric(now, "jumpgate_sessions_active", action="forward") >= 1
    finally:
        stop(p)

    def closed():
        after, _ = scrape(mgw.metrics_port)
        return (metric(after, "jumpgate_forward_channels_active") == 0 and
                metric(after, "jumpgate_forward_channels_total", target="sshd-tcp") -
                metric(before, "jumpgate_forward_channels_total", target="sshd-tcp") >= 2
                and after)
    after = wait_for(closed, what="forwards closed")
    assert metric(after, "jumpgate_sessions_total", action="forward", result="allowed") - \
        metric(before, "jumpgate_sessions_total", action="forward", result="allowed") >= 2
    assert metric(after, "jumpgate_bytes_total", direction="to_client") - \
        metric(before, "jumpgate_bytes_total", direction="to_client") >= len(b"SSH-2.0-")


def test_reload_counted(mgw):
    before, _ = scrape(mgw.metrics_port)
    mgw.sighup()
    wait_for(lambda: metric(scrape(mgw.metrics_port)[0], "jumpgate_policy_reloads_total",
                            result="success")
             > metric(before, "jumpgate_policy_reloads_total", result="success"),
             what="a counted reload")


def test_half_sent_requests_do_not_blind_metrics(make_gateway):
    port = free_port()
    g = make_gateway(config_extra=f'metrics: {{listen: "127.0.0.1:{port}"}}\n')
    wait_port(port, proc=g.proc)
    held, done = [], threading.Event()
    for _ in range(40):
        s = socket.socket()
        s.setblocking(False)
        try:
            s.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        held.append(s)

    def trickle():
        # A header line every half second: never idle, never complete.
        first = True
        while first or not done.wait(0.5):
            for s in held:
                try:
                    s.send(b"GET /metrics HTTP/1.1\r\n" if first else b"X-A: b\r\n")
                except OSError:
                    pass
            first = False
    t = threading.Thread(target=trickle, daemon=True)
    t.start()
    try:
        # A scrape from another address is answered while they hang.
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10,
                                       source_address=("127.0.0.2", 0))
        c.request("GET", "/metrics")
        r = c.getresponse()
        assert r.status == 200
        assert b"jumpgate_connections_total" in r.read()
        c.close()

        # The server ends every one of them: beyond the per-address limit at
        # once, the rest when their time is up, though they never go idle.
        def ended(s):
            try:
                return s.recv(4096) == b""
            except BlockingIOError:
                return False
            except OSError:
                return True
        wait_for(lambda: all(ended(s) for s in held), timeout=60,
                 what="the server to end the half-sent requests")
    finally:
        done.set()
        t.join()
        for s in held:
            s.close()
