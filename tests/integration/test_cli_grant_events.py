# tests/integration/test_cli_grant_events.py - `policy grant`, `revoke` and
# `grants --prune` leave grant.add / grant.revoke / grant.expire events in the
# audit event log, chained and sealed so that `audit verify` holds; the
# events and the grant file name the operator (--by, $SUDO_USER, the login
# uid).
import json
import os
import pwd
import re

import yaml

from test_cli_grants import grant


def audit_env(env):
    audit = env.root / "audit"
    audit.mkdir()
    key = env.root / "audit_ed25519.pem"
    env.config.write_text("policy: policy.yaml\n"
                          f"control_socket: {env.control_socket}\n"
                          f"audit: {{dir: {audit}, signing_key: {key}}}\n")
    rc, out, err = env.run("audit", "keygen")
    assert rc == 0, err
    return audit


def events(audit):
    out = []
    for f in sorted((audit / "events").glob("*.jsonl")):
        out += [json.loads(l) for l in f.read_text().splitlines()]
    return out


def test_grant_events_are_logged_and_verify(env):
    audit = audit_env(env)
    rc, m, out, err = grant(env, "alice", "rds-prod", "--allow", "forward",
                            "--for", "2h", "--reason", "INC-42")
    assert rc == 0, err
    gid = m.group("id")
    rc, out, err = env.run("policy", "revoke", gid)
    assert rc == 0, err
    evs = [e for e in events(audit) if e["type"] != "seal"]
    assert [e["type"] for e in evs] == ["grant.add", "grant.revoke"]
    assert evs[0]["user"] == "alice" and evs[0]["reason"] == "INC-42"
    assert evs[0]["grant"] == gid and evs[1]["grant"] == gid
    rc, out, err = env.run("audit", "verify", "--all")
    assert rc == 0, out + err


def test_prune_logs_expire(env):
    audit = audit_env(env)
    env.write_dropin("grant-g-0000dead.yaml",
                     "grants:\n  - {id: g-0000dead, user: alice, targets: [rds-prod],\n"
                     "     allow: [forward], until: 2020-01-01T00:00:00Z, reason: old}\n")
    rc, out, err = env.run("policy", "grants", "--prune")
    assert rc == 0, err
    assert re.search(r"pruned g-0000dead", out)
    evs = [e for e in events(audit) if e["type"] == "grant.expire"]
    assert len(evs) == 1 and evs[0]["grant"] == "g-0000dead"
    assert evs[0]["user"] == "alice"


def test_operator_named_in_events_and_grant_file(env):
    audit = audit_env(env)
    # --by names the operator
    rc, m, out, err = grant(env, "alice", "rds-prod", "--allow", "forward",
                            "--for", "2h", "--reason", "INC-42", "--by", "carol")
    assert rc == 0, err
    # no daemon runs here: the command says so and succeeds
    assert "jumpgated is not running here" in out
    gid = m.group("id")
    f = env.policy_d / f"grant-{gid}.yaml"
    (g,) = yaml.safe_load(f.read_text())["grants"]
    assert g["author"] == "carol"
    rc, out, err = env.run("policy", "grants", "--json")
    assert rc == 0, err
    assert [x["author"] for x in json.loads(out) if x["id"] == gid] == ["carol"]
    # without it, sudo's caller
    rc, out, err = env.run("policy", "revoke", gid, env={"SUDO_USER": "dave"})
    assert rc == 0, err
    evs = [e for e in events(audit) if e["type"] != "seal"]
    assert [(e["type"], e["by"]) for e in evs] == [("grant.add", "carol"),
                                                   ("grant.revoke", "dave")]
    # without either, the login uid's name, else the real uid's
    rc, m, out, err = grant(env, "alice", "rds-prod", "--allow", "forward",
                            "--for", "2h", "--reason", "INC-43")
    assert rc == 0, err
    try:
        login = int(open("/proc/self/loginuid").read())
    except (OSError, ValueError):
        login = 4294967295
    want = pwd.getpwuid(os.getuid() if login == 4294967295 else login).pw_name
    if os.environ.get("SUDO_USER"):
        want = os.environ["SUDO_USER"]
    ev = [e for e in events(audit) if e["type"] == "grant.add"][-1]
    assert ev["by"] == want
    # a name that is no name is refused before anything is written
    before = sorted(p.name for p in env.policy_d.iterdir())
    rc, m, out, err = grant(env, "alice", "rds-prod", "--allow", "forward",
                            "--for", "2h", "--reason", "INC-44", "--by", "a\nb")
    assert rc == 2 and "--by must be a name" in err
    assert sorted(p.name for p in env.policy_d.iterdir()) == before


def test_grant_file_without_author_still_loads(env):
    env.write_dropin("grant-g-0000beef.yaml",
                     "grants:\n  - {id: g-0000beef, user: alice, targets: [rds-prod],\n"
                     "     allow: [forward], until: 2099-01-01T00:00:00Z, reason: old}\n")
    rc, out, err = env.run("policy", "grants", "--json")
    assert rc == 0, err
    (g,) = json.loads(out)
    assert g["id"] == "g-0000beef" and g["author"] is None
    env.write_dropin("grant-g-0000beef.yaml",
                     "grants:\n  - {id: g-0000beef, user: alice, targets: [rds-prod],\n"
                     "     allow: [forward], until: 2099-01-01T00:00:00Z, reason: old,\n"
                     "     author: \"\"}\n")
    rc, out, err = env.run("policy", "check")
    assert rc == 1 and "the author is empty" in err
