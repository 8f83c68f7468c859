# SPDX-License-Identifier: Apache-2.0
# tests/integration/test_gateway_watch.py - how jumpgated follows its policy
# files: a FIFO (or any file that is not regular) is refused without
# blocking the master, the files are polled when inotify cannot be had
# (a revoked grant ends its sessions all the same), and the running
# policy's digest in `jumpgate policy status` and the metrics.
import json
import os
import re
import signal
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from gw_fixtures import *  # noqa: F401,F403
from gw_fixtures import gateway_events

NO_INOTIFY = Path(__file__).with_name("no_inotify.py")


def cli(g, *args, env=None):
    return subprocess.run([str(JUMPGATE), "-c", str(g.config), *args],
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, **(env or {})})


def grant_file(gid, hours=1):
    until = (datetime.now(timezone.utc) + timedelta(hours=hours)).strftime(
        "%Y-%m-%dT%H:%M:%SZ")
    return f"""grants:
  - {{id: {gid}, user: bob, targets: [monitor], allow: [exec],
     logins: [root], until: "{until}", reason: test}}
"""


def status(g):
    r = cli(g, "policy", "status", "--json")
    assert r.returncode in (0, 1), r.stderr
    return r.returncode, json.loads(r.stdout)


def test_fifo_in_policy_d_is_refused_and_master_stays(make_gateway):
    g = make_gateway()
    dropins = g.policy.parent / "policy.d"
    dropins.mkdir()
    fifo = dropins / "50-fifo.yaml"
    os.mkfifo(fifo)
    # The watch notices it; the master must not block opening it.
    assert g.wait_log("reload refused (file change)", timeout=60), g.logtext()
    assert f"{fifo}:0:0: not a regular file" in g.logtext()

    def failed():
        return [e for e in gateway_events(g) if e["type"] == "policy.reload"
                and e["result"] == "failure"]
    (ev,) = wait_for(failed, what="a policy.reload failure event")
    assert "not a regular file" in ev["reason"] and str(fifo) in ev["reason"]
    # Still serving: the old policy, the control socket, signals.
    assert g.ssh("alice:web-1", "echo ok").stdout == b"ok\n"
    r = cli(g, "session", "list")
    assert r.returncode == 0, r.stderr
    # `policy grant` refuses it too (it loads the policy first).
    r = cli(g, "policy", "grant", "bob", "monitor", "--allow", "exec",
            "--for", "1h", "--reason", "t")
    assert r.returncode == 1 and "not a regular file" in r.stderr
    g.proc.send_signal(signal.SIGTERM)
    assert g.proc.wait(timeout=30) == 0


def test_fifo_as_config_or_policy_refused_at_start(make_gateway, tmp_path):
    g = make_gateway()
    g.proc.send_signal(signal.SIGTERM)
    g.proc.wait(timeout=30)
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    r = subprocess.run([str(JUMPGATED), "-t", "-c", str(fifo)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1
    assert f"{fifo}: not a regular file" in r.stderr
    g.config.write_text(re.sub(r"(?m)^policy: .*$", f"policy: {fifo}",
                               g.config.read_text()))
    r = subprocess.run([str(JUMPGATED), "-t", "-c", str(g.config)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1
    assert f"{fifo}: not a regular file" in r.stderr


def test_status_and_metric_give_the_running_digest(make_gateway):
    port = free_port()
    g = make_gateway(config_extra=f'metrics: {{listen: "127.0.0.1:{port}"}}\n')
    rc, st = status(g)
    assert rc == 0 and st["in_step"]
    want = sha256_file(g.policy)  # no policy.d: the digest of the one file
    assert st["disk"] == want and st["running"]["digest"] == want
    assert st["running"]["watch"] == "inotify"
    samples, types = scrape(port)
    assert types["jumpgate_policy_info"] == "gauge"
    assert metric(samples, "jumpgate_policy_info", digest=want, watch="inotify") == 1
    # A change the daemon has not loaded yet (it is broken) shows.
    g.policy.write_text(g.policy.read_text() + "  - name: broken\n    effect: x\n")
    assert g.wait_log("reload refused (file change)", timeout=60)
    rc, st = status(g)
    assert rc == 1 and not st["in_step"] and st["disk"] is None
    assert st["running"]["digest"] == want
    r = cli(g, "policy", "status")
    assert r.returncode == 1
    assert f"running  sha256:{want}" in r.stdout
    assert "jumpgated runs another policy than the one on disk" in r.stdout
    samples, _ = scrape(port)
    assert metric(samples, "jumpgate_policy_info", digest=want, watch="inotify") == 1


def test_revocation_without_inotify(make_gateway):
    """The user's inotify instances are used up: the daemon polls its files,
    a grant file removed by hand ends the session within the poll interval,
    and `policy grant/revoke` apply at once through the control socket."""
    probe = subprocess.run([sys.executable, str(NO_INOTIFY), "/bin/true"],
                           capture_output=True, text=True, timeout=30)
    if probe.returncode == 125:
        pytest.skip(f"no user namespace here: {probe.stderr.strip()}")
    assert probe.returncode == 0, probe.stderr
    g = make_gateway(wrap=(sys.executable, str(NO_INOTIFY)))
    assert g.wait_log("not watched with inotify (inotify_init1: Too many open "
                      "files); polling them every 2 s instead", timeout=60), g.logtext()
    rc, st = status(g)
    assert rc == 0 and st["running"]["watch"] == "poll"
    # A grant written by hand: picked up by polling alone.
    dropins = g.policy.parent / "policy.d"
    dropins.mkdir()
    gfile = dropins / "grant-g-0000abcd.yaml"
    gfile.write_text(grant_file("g-0000abcd"))
    wait_for(lambda: g.ssh("bob:monitor", "echo in", key="bob").stdout == b"in\n",
             timeout=60, what="the polled grant to take effect")
    assert "reloaded (file change)" in g.logtext()
    p = subprocess.Popen(g.ssh_args("bob:monitor", key="bob") + ["echo in; sleep 120"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert p.stdout.readline() == b"in\n"
        gfile.unlink()
        # JG_GW_POLL_MS (2 s) and the second of debounce; the bound here is
        # only for a failure on a loaded machine.
        out, err = p.communicate(timeout=60)
        assert b"your permission for exec on monitor has ended" in err
    finally:
        stop(p)
    # The commands tell the daemon: applied before they return.
    r = cli(g, "policy", "grant", "bob", "monitor", "--allow", "exec", "--for",
            "1h", "--login", "root", "--reason", "test", "--by", "carol")
    assert r.returncode == 0, r.stderr
    assert "jumpgated applied it: policy sha256:" in r.stdout
    gid = re.search(r"granted (g-[0-9a-f]+)", r.stdout).group(1)
    p = subprocess.Popen(g.ssh_args("bob:monitor", key="bob") + ["echo in; sleep 120"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert p.stdout.readline() == b"in\n"
        r = cli(g, "policy", "revoke", gid, "--by", "carol")
        assert r.returncode == 0, r.stderr
        m = re.search(r"jumpgated applied it: policy sha256:([0-9a-f]{64})", r.stdout)
        assert m, r.stdout
        out, err = p.communicate(timeout=60)
        assert b"your permission for exec on monitor has ended" in err
    finally:
        stop(p)
    rc, st = status(g)
    assert st["running"]["digest"] == m.group(1)
    ev = [e for e in gateway_events(g) if e["type"] == "policy.reload"
          and e["trigger"] == "control"]
    assert [e.get("by") for e in ev] == ["carol", "carol"]


def test_reload_refused_is_reported_by_revoke(make_gateway, gw_env, tmp_path):
    identity = tmp_path / "upstream_key"
    identity.write_bytes(Path(gw_env.identity).read_bytes())
    identity.chmod(0o600)
    g = make_gateway(identity=identity)
    r = cli(g, "policy", "grant", "bob", "monitor", "--allow", "exec", "--for",
            "1h", "--login", "root", "--reason", "test")
    assert r.returncode == 0, r.stderr
    gid = re.search(r"granted (g-[0-9a-f]+)", r.stdout).group(1)
    # The daemon cannot reload (a file its configuration names is gone):
    # the revocation is on disk but not in force, and the command says so.
    identity.unlink()
    r = cli(g, "policy", "revoke", gid)
    assert r.returncode == 2
    assert f"revoked {gid}" in r.stdout
    assert "jumpgated did NOT apply it" in r.stderr
    assert "upstream.identity" in r.stderr


def test_a_second_gateway_on_the_same_control_socket_says_what_to_set(
        make_gateway, tmp_path):
    g = make_gateway()
    # The same configuration on another port: the control socket is taken.
    second = tmp_path / "second.yaml"
    second.write_text(re.sub(r'(?m)^listen: .*$',
                             f'listen: ["127.0.0.1:{free_port()}"]',
                             g.config.read_text()))
    r = subprocess.run([str(JUMPGATED), "-f", "-c", str(second)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode != 0
    out = r.stdout + r.stderr
    assert f"control_socket {g.control_socket}: another jumpgated answers there" in out
    assert f"set control_socket in {second}" in out
    # The first one is untouched and still answers.
    assert g.proc.poll() is None
    assert status(g)[0] == 0


def test_grant_refused_for_a_broken_drop_in_says_what_runs(make_gateway):
    g = make_gateway()
    rc, st = status(g)
    running = st["running"]
    dropins = g.policy.parent / "policy.d"
    dropins.mkdir(exist_ok=True)
    broken = dropins / "broken.yaml"
    broken.write_text("grants:\n  - {id: g-1, user: bob\n")
    r = cli(g, "policy", "grant", "bob", "monitor", "--allow", "exec", "--for",
            "1h", "--login", "root", "--reason", "incident", "--by", "carol")
    assert r.returncode == 1, r
    assert f"{broken}:" in r.stderr            # the file (and line) at fault
    assert "grant refused" in r.stderr
    assert (f"jumpgated keeps the policy it loaded at {running['loaded']} "
            f"(sha256:{running['digest']})") in r.stderr, r.stderr
    assert "'jumpgate policy check' lists them all" in r.stderr
    broken.unlink()
