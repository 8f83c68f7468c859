# SPDX-License-Identifier: Apache-2.0
# tests/integration/test_pam_account.py - pam_jumpgate.so in real PAM
# stacks driven by pamtester: who is let in, who is not, what is logged, and
# what happens when the configuration or policy is broken.
import datetime
import os
import re

import pytest

from pam_fixtures import (pam_driver, pam_env, pam_module,  # noqa: F401
                          pam_services, root_only, syslog_sink)

DENIED = "Permission denied"
UNKNOWN = "User not known"


def decide(env, service, user, rhost):
    """pamtester acct_mgmt; returns (rc, output, the module's log line)."""
    mark = env.sink.mark()
    rc, out = env.pamtester(service, user, rhost)
    line = env.sink.wait_for(env.log_re(service) + r"(allow|deny|error) ",
                             since=mark)
    return rc, out, line


@pytest.mark.parametrize("rhost", ["203.0.113.7", "2001:db8::5",
                                   "::ffff:203.0.113.7"])
def test_allowed_user(pam_env, rhost):
    svc = pam_env.service()
    rc, out, line = decide(pam_env, svc, "alice", rhost)
    assert rc == 0, out
    assert "account management done" in out
    assert (f"allow user=alice rhost={rhost} target=jump-host action=shell "
            "rule=ops-jump until=never: rule 'ops-jump' allows") in line


def test_expired_user(pam_env):
    svc = pam_env.service()
    rc, out, line = decide(pam_env, svc, "dave", "203.0.113.7")
    assert rc != 0 and DENIED in out
    assert "deny user=dave rhost=203.0.113.7 target=jump-host action=shell" in line
    assert "expired at 2020-01-01T00:00:00Z" in line


@pytest.mark.parametrize("rhost", ["198.51.100.7", "2001:db9::1", "127.0.0.1"])
def test_wrong_source_address(pam_env, rhost):
    svc = pam_env.service()
    rc, out, line = decide(pam_env, svc, "alice", rhost)
    assert rc != 0 and DENIED in out
    assert f"deny user=alice rhost={rhost} " in line
    assert "is not in the 'from' of user 'alice'" in line


@pytest.mark.parametrize("rhost", ["localhost", "jump.example.com",
                                   "203.0.113.7%eth0", "203.0.113.0/24"])
def test_rhost_not_an_address_is_denied(pam_env, rhost):
    """sshd with UseDNS yes passes a host name: never resolved, denied."""
    svc = pam_env.service()
    rc, out, line = decide(pam_env, svc, "alice", rhost)
    assert rc != 0 and DENIED in out
    assert "deny user=alice " in line


def test_outside_time_window(pam_env):
    svc = pam_env.service()
    rc, out, line = decide(pam_env, svc, "erin", "203.0.113.7")
    assert rc != 0 and DENIED in out
    assert "outside the time window of rule 'erin-window'" in line
    # The same rule with a window that is open now lets erin in: the deny
    # above came from the window alone.
    text = pam_env.policy.read_text()
    opened = re.sub(r'when: "\w{3} 00:00-24:00 UTC"',
                    'when: "daily 00:00-24:00 UTC"', text)
    assert opened != text
    pam_env.policy.write_text(opened)
    rc, out, line = decide(pam_env, svc, "erin", "203.0.113.7")
    assert rc == 0, out
    assert "allow user=erin " in line and "rule=erin-window" in line


def test_window_in_named_zone(pam_env):
    """action=exec is allowed by a rule with a Europe/Madrid window."""
    svc = pam_env.service(account=pam_env.module_line(action="exec"))
    rc, out, line = decide(pam_env, svc, "alice", "203.0.113.7")
    assert rc == 0, out
    assert "action=exec rule=ops-madrid" in line


def test_unknown_user(pam_env):
    svc = pam_env.service()
    rc, out, line = decide(pam_env, svc, "zed", "203.0.113.7")
    assert rc != 0 and UNKNOWN in out
    assert "deny user=zed rhost=203.0.113.7 " in line
    assert "user unknown: not in the policy" in line


def test_hostile_user_name_is_cleaned_in_the_log(pam_env):
    svc = pam_env.service()
    rc, out, line = decide(pam_env, svc, "al ice\x1b[2J", "203.0.113.7")
    assert rc != 0 and UNKNOWN in out
    assert "deny user=al?ice?[2J " in line
    assert "\x1b" not in line


def test_no_rhost_is_loopback(pam_env):
    """No PAM_RHOST (console, su, sudo): decided as from 127.0.0.1, so only
    a user whose from holds loopback gets in."""
    svc = pam_env.service()
    rc, out, line = decide(pam_env, svc, "alice", None)
    assert rc != 0 and DENIED in out
    assert "rhost=(none:127.0.0.1)" in line
    rc, out, line = decide(pam_env, svc, "carol", None)
    assert rc == 0, out
    assert "allow user=carol rhost=(none:127.0.0.1) " in line


@pytest.mark.parametrize("action,ok", [("shell", True), ("sftp", True),
                                       ("forward", False), ("jump", False)])
def test_action_argument(pam_env, action, ok):
    svc = pam_env.service(account=pam_env.module_line(action=action))
    rc, out, line = decide(pam_env, svc, "alice", "203.0.113.7")
    assert (rc == 0) == ok, out
    assert f"action={action} " in line


def test_other_target(pam_env):
    svc = pam_env.service(account=pam_env.module_line(target="grafana"))
    rc, out, line = decide(pam_env, svc, "alice", "203.0.113.7")
    assert rc != 0 and DENIED in out
    assert "target=grafana " in line


def test_unknown_target_denies(pam_env):
    svc = pam_env.service(account=pam_env.module_line(target="nope"))
    rc, out, line = decide(pam_env, svc, "alice", "203.0.113.7")
    assert rc != 0 and DENIED in out
    assert "unknown target 'nope'" in line


def test_grant_is_named_in_the_log(pam_env):
    until = (datetime.datetime.now(datetime.timezone.utc)
             + datetime.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    pam_env.write_dropin("grant-g-0badcafe.yaml", f"""\
grants:
  - {{id: g-0badcafe, user: erin, targets: [jump-host], allow: [shell],
     until: {until}, reason: INC-42, from: [192.0.2.0/24]}}
""")
    svc = pam_env.service()
    rc, out, line = decide(pam_env, svc, "erin", "192.0.2.9")
    assert rc == 0, out
    assert f"allow user=erin rhost=192.0.2.9 target=jump-host action=shell grant=g-0badcafe until={until}" in line


def test_policy_changes_apply_on_the_next_call(pam_env):
    """Nothing is cached: an edited policy counts from the next call."""
    svc = pam_env.service()
    assert decide(pam_env, svc, "alice", "198.18.0.9")[0] != 0
    pam_env.write_policy(pam_env.policy.read_text().replace(
        '"2001:db8::/48"]', '"2001:db8::/48", 198.18.0.0/16]'))
    assert decide(pam_env, svc, "alice", "198.18.0.9")[0] == 0


# ---- broken configuration or policy --------------------------------------


def broken(env, how):
    if how == "missing-policy":
        env.policy.unlink()
        return r"cannot load the policy: .*policy\.yaml"
    if how == "policy-is-a-folder":
        env.policy.unlink()
        env.policy.mkdir()
        return r"cannot load the policy: .*policy\.yaml"
    if how == "invalid-policy":
        env.policy.write_text(env.policy.read_text().replace(
            "allow: [shell, sftp]", "allow: [shell, teleport]"))
        return r"cannot load the policy: .*policy\.yaml:\d+:\d+: .*teleport"
    if how == "invalid-dropin":
        env.write_dropin("zz.yaml", "users: [\n")
        return r"cannot load the policy: .*policy\.d/zz\.yaml"
    if how == "missing-config":
        env.config.unlink()
        return r"cannot load the configuration: .*jumpgate\.yaml"
    if how == "config-without-policy":
        env.config.write_text("pam_service: jumpgate\n")
        return r"cannot load the configuration: .*needs 'policy'"
    raise AssertionError(how)


HOWS = ["missing-policy", "policy-is-a-folder", "invalid-policy",
        "invalid-dropin", "missing-config", "config-without-policy"]


@pytest.mark.parametrize("how", HOWS)
def test_broken_policy_denies(pam_env, how):
    svc = pam_env.service(more=["account required pam_permit.so"])
    assert decide(pam_env, svc, "alice", "203.0.113.7")[0] == 0
    want = broken(pam_env, how)
    mark = pam_env.sink.mark()
    rc, out = pam_env.pamtester(svc, "alice", "203.0.113.7")
    assert rc != 0 and DENIED in out
    line = pam_env.sink.wait_for(pam_env.log_re(svc) + "error ", since=mark)
    assert "error user=alice rhost=203.0.113.7 target=jump-host action=shell" in line
    assert "; denying" in line
    assert re.search(want, line), line


@pytest.mark.parametrize("how", HOWS)
@pytest.mark.parametrize("then,ok", [("pam_permit.so", True),
                                     ("pam_deny.so", False)])
def test_on_error_ignore_leaves_the_rest_of_the_stack(pam_env, how, then, ok):
    line = pam_env.module_line(extra=["on_error=ignore"])
    svc = pam_env.service(account=line, more=[f"account required {then}"])
    broken(pam_env, how)
    mark = pam_env.sink.mark()
    rc, out = pam_env.pamtester(svc, "alice", "203.0.113.7")
    assert (rc == 0) == ok, out
    log = pam_env.sink.wait_for(pam_env.log_re(svc) + "error ", since=mark)
    assert "ignored (on_error=ignore)" in log


def test_on_error_ignore_does_not_soften_a_deny(pam_env):
    line = pam_env.module_line(extra=["on_error=ignore"])
    svc = pam_env.service(account=line, more=["account required pam_permit.so"])
    rc, out, log = decide(pam_env, svc, "alice", "198.51.100.7")
    assert rc != 0 and DENIED in out
    assert "deny user=alice" in log
    rc, out, log = decide(pam_env, svc, "dave", "203.0.113.7")
    assert rc != 0 and DENIED in out


# ---- module arguments ----------------------------------------------------


@pytest.mark.parametrize("args,why", [
    (["target=jump-host", "debug"], "unknown argument 'debug'"),
    (["target=jump-host", "tagret=x"], "unknown argument 'tagret=x'"),
    ([], "target= is required"),
    (["target=jump-host", "action=teleport"], "action=teleport: use one of"),
    (["target=jump-host", "action=shell,exec"], "action=shell,exec"),
    (["target=jump-host", "on_error=maybe"], "on_error=maybe: use deny or ignore"),
    (["target=jump-host", "target=grafana"], "target= given twice"),
    (["target="], "target= needs a value"),
    (["target=jump-host", "config=relative.yaml"], "the path must be absolute"),
    (["target=jump-host", "on_error=ignore", "bogus=1"], "unknown argument 'bogus=1'"),
])
def test_bad_arguments_deny(pam_env, args, why):
    cfg = [] if any(a.startswith("config=") for a in args) else [
        f"config={pam_env.config}"]
    line = f"account required {pam_env.module} " + " ".join(cfg + args)
    svc = pam_env.service(account=line, more=["account required pam_permit.so"])
    mark = pam_env.sink.mark()
    rc, out = pam_env.pamtester(svc, "alice", "203.0.113.7")
    assert rc != 0 and DENIED in out
    log = pam_env.sink.wait_for(pam_env.log_re(svc) + "bad module arguments",
                                since=mark)
    assert why in log and log.endswith("; denying")


def test_default_config_path_is_used(pam_env):
    """Without config= the module reads /etc/jumpgate/jumpgate.yaml."""
    if os.path.exists("/etc/jumpgate/jumpgate.yaml"):
        pytest.skip("this machine has a /etc/jumpgate/jumpgate.yaml")
    line = f"account required {pam_env.module} target=jump-host"
    svc = pam_env.service(account=line)
    mark = pam_env.sink.mark()
    rc, out = pam_env.pamtester(svc, "alice", "203.0.113.7")
    assert rc != 0 and DENIED in out
    log = pam_env.sink.wait_for(pam_env.log_re(svc) + "error ", since=mark)
    assert "cannot load the configuration: /etc/jumpgate/jumpgate.yaml" in log


# ---- auth ----------------------------------------------------------------


def test_auth_stack(pam_env):
    auth = pam_env.module_line(kind="auth", control="requisite")
    # The auth line comes first, then pam_permit finishes the auth stack.
    svc = pam_env.service(
        auth=auth + "\nauth required pam_permit.so",
        account="account required pam_permit.so")
    mark = pam_env.sink.mark()
    rc, out = pam_env.pamtester(svc, "alice", "203.0.113.7", op="authenticate")
    assert rc == 0 and "successfully authenticated" in out, out
    pam_env.sink.wait_for(pam_env.log_re(svc, "auth") + "allow user=alice ",
                          since=mark)
    mark = pam_env.sink.mark()
    rc, out = pam_env.pamtester(svc, "alice", "198.51.100.7", op="authenticate")
    assert rc != 0 and "Authentication failure" in out, out
    pam_env.sink.wait_for(pam_env.log_re(svc, "auth") + "deny user=alice ",
                          since=mark)
    rc, out = pam_env.pamtester(svc, "zed", "203.0.113.7", op="authenticate")
    assert rc != 0 and UNKNOWN in out, out
