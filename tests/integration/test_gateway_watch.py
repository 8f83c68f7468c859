# SPDX-License-Identifier: Apache-2.0
# tests/integration/test_gateway_watch.py - how jumpgated follows its policy
# files: a FIFO (or any file that is not regular) is refused without
# blocking the master.
import os
import re
import signal
import subprocess

from gw_fixtures import *  # noqa: F401,F403
from gw_fixtures import gateway_events

def cli(g, *args):
    return subprocess.run([str(JUMPGATE), "-c", str(g.config), *args],
                          capture_output=True, text=True, timeout=60)


def test_fifo_in_policy_d_is_refused_and_master_stays(make_gateway):
    g = make_gateway()
    dropins = g.policy.parent / "policy.d"
    dropins.mkdir()
    fifo = dropins / "50-fifo.yaml"
    os.mkfifo(fifo)
    # The watch notices it; the master must not block opening it.
    assert g.wait_log("reload refused (file change)", timeout=20), g.logtext()
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
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1
    assert f"{fifo}: not a regular file" in r.stderr
    g.config.write_text(re.sub(r"(?m)^policy: .*$", f"policy: {fifo}",
                               g.config.read_text()))
    r = subprocess.run([str(JUMPGATED), "-t", "-c", str(g.config)],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1
    assert f"{fifo}: not a regular file" in r.stderr
