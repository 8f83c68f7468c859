# SPDX-License-Identifier: Apache-2.0
# tests/integration/test_sync_run.py - `jumpgate sync run`: applies at once,
# again soon after the policy changes, and stops on SIGTERM; usage errors.
import signal
import subprocess
import time

from sync_fixtures import SG_SSH, WANT_SSH, ec2, sync  # noqa: F401


def wait_for(pred, timeout=15):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.1)
    return False


def test_run_applies_follows_policy_and_stops_on_sigterm(sync):
    st = sync.ec2.state
    e = sync.env.base_env()
    e.update(sync.vars)
    p = subprocess.Popen([str(sync.env.bin), "-c", str(sync.env.config),
                          "sync", "run"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=e)
    try:
        assert wait_for(lambda: st.cidrs(SG_SSH) == WANT_SSH)
        time.sleep(1.2)
        pol = sync.env.policy.read_text().replace("from: [100.64.0.0/24]",
                                                  "from: [100.66.0.0/24]")
        sync.env.policy.write_text(pol)
        assert wait_for(lambda: ("100.66.0.0/24", 22) in st.cidrs(SG_SSH))
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=10)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 0, err
    assert "policy changed" in err and "stopped" in err


def test_usage_errors(sync):
    rc, out, err = sync.run("frobnicate")
    assert rc == 2 and "unknown subcommand" in err
    rc, out, err = sync.run("apply", "--json")
    assert rc == 2
    rc, out, err = sync.run("plan", "--force")
    assert rc == 2
    rc, out, err = sync.run("--help")
    assert rc == 0 and "sync plan" in out
