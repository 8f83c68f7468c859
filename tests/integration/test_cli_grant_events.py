# tests/integration/test_cli_grant_events.py - `policy grant`, `revoke` and
# `grants --prune` leave grant.add / grant.revoke / grant.expire events in the
# audit event log, chained and sealed so that `audit verify` holds.
import json
import re

from test_cli_grants import grant


def audit_env(env):
    audit = env.root / "audit"
    audit.mkdir()
    key = env.root / "audit_ed25519.pem"
    env.config.write_text("policy: policy.yaml\n"
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
