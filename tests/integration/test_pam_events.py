# SPDX-License-Identifier: Apache-2.0
# tests/integration/test_pam_events.py - pam_jumpgate.so's decisions in the
# audit event log: one pam.account / pam.auth event per decision with its
# members, listed by `jumpgate audit events`, sealed so that `jumpgate audit
# verify` holds; the chain intact under concurrent writers (the threaded
# driver and `jumpgate policy grant`); an unsealed tail from a process that
# cannot read the signing key; and fail-closed when the log cannot be
# written.
import datetime
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from pam_fixtures import (build_dir, pam_driver, pam_env,  # noqa: F401
                          pam_module, pam_services, root_only, syslog_sink)

DENIED = "Permission denied"


def member(ev, **want):
    """The members of ev named in want, for one comparison."""
    return {k: ev.get(k) for k in want}


def test_decisions_are_sealed_events(pam_env):
    pam_env.with_event_log()
    svc = pam_env.service()
    cases = [  # user, rhost, pamtester rc == 0, result, rule, reason part
        ("alice", "203.0.113.7", True, "allow", "ops-jump",
         "rule 'ops-jump' allows"),
        ("alice", "198.51.100.7", False, "deny", None,
         "is not in the 'from' of user 'alice'"),
        ("dave", "203.0.113.7", False, "deny", None, "expired"),
        ("zed", "203.0.113.7", False, "deny", None, "not in the policy"),
        ("carol", None, True, "allow", "ops-jump", "allows"),
    ]
    for user, rhost, ok, *_ in cases:
        rc, out = pam_env.pamtester(svc, user, rhost)
        assert (rc == 0) == ok, (user, rhost, out)
    evs = pam_env.events()
    assert len(evs) == len(cases), evs
    for ev, (user, rhost, _, result, rule, reason) in zip(evs, cases):
        assert member(ev, type=1, user=1, **{"from": 1}, service=1, target=1,
                      action=1, result=1, rule=1) == {
            "type": "pam.account", "user": user, "from": rhost,
            "service": svc, "target": "jump-host", "action": "shell",
            "result": result, "rule": rule}, ev
        assert reason in ev["reason"], ev
    # Each event is followed by a seal line, as `policy grant` does.
    everything = pam_env.events("")
    assert [e["type"] for e in everything] == \
        ["pam.account", "seal"] * len(cases)
    rc, out, err = pam_env.jumpgate("audit", "events", "--type",
                                    "pam.account", "--json")
    assert rc == 0, err
    listed = json.loads(out)
    assert [(e["user"], e["result"]) for e in listed] == \
        [(c[0], c[3]) for c in cases]
    rc, out, err = pam_env.jumpgate("audit", "events", "--type",
                                    "pam.account")
    assert rc == 0 and out.count("pam.account") == len(cases), out + err
    assert f"service={svc} result=allow" in out
    rc, out, err = pam_env.jumpgate("audit", "verify")
    assert rc == 0, out + err
    assert f"event log: intact (1 files, {2 * len(cases)} lines, " \
        f"{len(cases)} seals)" in out


def test_auth_decisions_are_pam_auth_events(pam_env):
    pam_env.with_event_log()
    auth = pam_env.module_line(kind="auth", control="requisite")
    svc = pam_env.service(auth=auth + "\nauth required pam_permit.so",
                          account="account required pam_permit.so")
    rc, out = pam_env.pamtester(svc, "alice", "203.0.113.7",
                                op="authenticate")
    assert rc == 0, out
    rc, out = pam_env.pamtester(svc, "alice", "198.51.100.7",
                                op="authenticate")
    assert rc != 0, out
    evs = pam_env.events()
    assert [(e["type"], e["result"], e["from"]) for e in evs] == [
        ("pam.auth", "allow", "203.0.113.7"),
        ("pam.auth", "deny", "198.51.100.7")]
    rc, out, err = pam_env.jumpgate("audit", "events", "--type", "pam.auth",
                                    "--json")
    assert rc == 0 and len(json.loads(out)) == 2, out + err


def test_broken_policy_is_an_event_too(pam_env):
    """The configuration names the log; a policy that does not load is
    recorded as a deny (or ignore) with the error as the reason."""
    pam_env.with_event_log()
    pam_env.policy.write_text(pam_env.policy.read_text() + "bogus: 1\n")
    line = pam_env.module_line(extra=["on_error=ignore"])
    svc = pam_env.service(account=line, more=["account required pam_permit.so"])
    svc_deny = pam_env.service()
    rc, out = pam_env.pamtester(svc, "alice", "203.0.113.7")
    assert rc == 0, out
    rc, out = pam_env.pamtester(svc_deny, "alice", "203.0.113.7")
    assert rc != 0 and DENIED in out
    evs = pam_env.events()
    assert [(e["service"], e["result"]) for e in evs] == [
        (svc, "ignore"), (svc_deny, "deny")]
    assert all("cannot load the policy" in e["reason"] and "bogus" in e["reason"]
               for e in evs), evs


def test_concurrent_writers_keep_the_chain(pam_env):
    """The threaded driver (8 threads, each call its own fd and flock) and
    `jumpgate policy grant` append at the same time: every event is there
    once, and verify proves the whole chain."""
    pam_env.with_event_log()
    svc = pam_env.service()
    threads, iterations, grants = 8, 40, 6
    cmd = [str(pam_env.driver), svc, "alice", "203.0.113.7", "account",
           "success", str(threads), str(iterations)]
    driver = subprocess.Popen(pam_env.sink.wrap(cmd), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        for i in range(grants):
            rc, out, err = pam_env.jumpgate(
                "policy", "grant", "carol", "grafana", "--allow", "forward",
                "--for", "1h", "--reason", f"INC-{i}")
            assert rc == 0, out + err
        out, err = driver.communicate(timeout=300)
    finally:
        if driver.poll() is None:
            driver.kill()
            driver.wait()
    assert driver.returncode == 0, out + err
    assert f"calls={threads * iterations} mismatches=0" in out
    assert "fds leaked=0" in out, out
    types = [e["type"] for e in pam_env.events("")]
    assert types.count("pam.account") == threads * iterations
    assert types.count("grant.add") == grants
    seqs = [e["seq"] for e in pam_env.events("")]
    assert seqs == list(range(1, len(seqs) + 1))
    rc, out, err = pam_env.jumpgate("audit", "verify")
    assert rc == 0, out + err
    assert "event log: intact" in out


# ---- a writer that cannot read the signing key ---------------------------


@pytest.fixture
def shared_dir():
    """A folder other users can traverse (pytest's tmp_path cannot be)."""
    d = Path(tempfile.mkdtemp(prefix="jg-pam-shared-"))
    os.chmod(d, 0o755)
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_writer_without_the_key_leaves_an_unsealed_tail(pam_env, shared_dir):
    """A process that is not root (here: nobody, in the log's group) appends
    chained but unsealed events; verify reports exactly that tail, and the
    next sealing writer (`jumpgate policy grant` as root) seals it."""
    for name in ("jumpgate.yaml", "policy.yaml"):
        shutil.copy(pam_env.root / name, shared_dir / name)
        os.chmod(shared_dir / name, 0o644)
    pam_env.root = shared_dir
    pam_env.config = shared_dir / "jumpgate.yaml"
    pam_env.policy = shared_dir / "policy.yaml"
    pam_env.policy_d = shared_dir / "policy.d"
    pam_env.audit = shared_dir / "audit"
    pam_env.key = shared_dir / "audit_ed25519.pem"
    # The module too must be readable by the unprivileged process (the
    # build folder may be under /root).
    shutil.copy(pam_env.module, shared_dir / "pam_jumpgate.so")
    os.chmod(shared_dir / "pam_jumpgate.so", 0o644)
    pam_env.module = shared_dir / "pam_jumpgate.so"
    pam_env.with_event_log()
    assert pam_env.key.stat().st_mode & 0o077 == 0   # root only
    svc = pam_env.service()
    # Root writes the day file first (event + seal) ...
    rc, out = pam_env.pamtester(svc, "alice", "203.0.113.7")
    assert rc == 0, out
    # ... and the log is shared with group nogroup, as a deployment would
    # share it with the group of a non-root service.
    day = next((pam_env.audit / "events").glob("*.jsonl"))
    for p, mode in ((pam_env.audit, 0o750), (pam_env.audit / "events", 0o770),
                    (day, 0o660)):
        os.chown(p, 0, 65534)
        os.chmod(p, mode)
    mark = pam_env.sink.mark()
    cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
           "pamtester", "-I", "rhost=203.0.113.8", svc, "alice", "acct_mgmt"]
    p = subprocess.run(pam_env.sink.wrap(cmd), capture_output=True, text=True,
                       timeout=30, stdin=subprocess.DEVNULL)
    assert p.returncode == 0, p.stdout + p.stderr
    log = pam_env.sink.wait_for(pam_env.log_re(svc) + "pam.account event of "
                                "user=alice left unsealed", since=mark)
    assert f"audit.signing_key {pam_env.key}: Permission denied" in log
    types = [(e["type"], e.get("from")) for e in pam_env.events("")]
    assert types == [("pam.account", "203.0.113.7"), ("seal", None),
                     ("pam.account", "203.0.113.8")]
    rc, out, err = pam_env.jumpgate("audit", "verify")
    assert rc == 1, out + err
    assert "event log: sealed part intact (1 files, 3 lines, 1 seals)" in out
    assert "1 event after the last seal is not sealed" in out
    assert "NOT intact" not in out
    rc, out, err = pam_env.jumpgate("policy", "grant", "carol", "grafana",
                                    "--allow", "forward", "--for", "1h",
                                    "--reason", "seal it")
    assert rc == 0, out + err
    rc, out, err = pam_env.jumpgate("audit", "verify")
    assert rc == 0, out + err
    assert "event log: intact (1 files, 5 lines, 2 seals)" in out


# ---- the log cannot be written --------------------------------------------


def break_log(env, how):
    env.with_event_log()
    if how == "events-is-a-file":
        (env.audit / "events").write_text("")
        return "/events: Not a directory"
    if how == "day-file-is-a-folder":
        days = env.audit / "events"
        days.mkdir(mode=0o750)
        today = datetime.datetime.now(datetime.timezone.utc).date()
        for d in (today, today + datetime.timedelta(days=1)):
            (days / f"{d.isoformat()}.jsonl").mkdir()
        return "cannot append: Is a directory"
    if how == "audit-dir-world-writable":
        os.chmod(env.audit, 0o777)
        return "refused: the folder is writable by anyone"
    raise AssertionError(how)


HOWS = ["events-is-a-file", "day-file-is-a-folder", "audit-dir-world-writable"]


@pytest.mark.parametrize("how", HOWS)
def test_unwritable_log_denies(pam_env, how):
    why = break_log(pam_env, how)
    svc = pam_env.service(more=["account required pam_permit.so"])
    mark = pam_env.sink.mark()
    rc, out = pam_env.pamtester(svc, "alice", "203.0.113.7")
    assert rc != 0 and DENIED in out
    allow = pam_env.sink.wait_for(pam_env.log_re(svc) + "allow user=alice ",
                                  since=mark)
    assert allow
    line = pam_env.sink.wait_for(pam_env.log_re(svc) + "error user=alice: "
                                 "the event log did not take the pam.account "
                                 "event: ", since=mark)
    assert why in line and line.endswith("; denying"), line


@pytest.mark.parametrize("how", HOWS)
def test_unwritable_log_with_on_error_ignore(pam_env, how):
    why = break_log(pam_env, how)
    line = pam_env.module_line(extra=["on_error=ignore"])
    svc = pam_env.service(account=line, more=["account required pam_permit.so"])
    mark = pam_env.sink.mark()
    rc, out = pam_env.pamtester(svc, "alice", "203.0.113.7")
    assert rc == 0, out       # PAM_IGNORE: pam_permit decides
    log = pam_env.sink.wait_for(pam_env.log_re(svc) + "error user=alice: ",
                                since=mark)
    assert why in log and log.endswith("; ignored (on_error=ignore)"), log
    # With pam_deny after it the stack fails: the module did not allow.
    svc = pam_env.service(account=line, more=["account required pam_deny.so"])
    rc, out = pam_env.pamtester(svc, "alice", "203.0.113.7")
    assert rc != 0, out
    # A deny stays a deny whatever on_error says.
    rc, out = pam_env.pamtester(svc, "alice", "198.51.100.7")
    assert rc != 0 and DENIED in out
