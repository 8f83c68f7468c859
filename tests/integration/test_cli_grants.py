# SPDX-License-Identifier: Apache-2.0
# tests/integration/test_cli_grants.py - `jumpgate policy grant`, `revoke`
# and `grants`: drop-in files in policy.d/, what explain makes of them,
# pruning, and concurrent writers.
import datetime
import json
import re

import pytest
import yaml

from jgtest import parse_rfc3339, rfc3339, utc

GRANTED_RE = re.compile(
    r"^granted (?P<id>g-[0-9a-f]{8}): (?P<user>\S+) \u2192 (?P<targets>.+) "
    r"\((?P<allow>[a-z,]+)\) until (?P<until>\S+)$", re.M)


def now():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def grant(env, *args):
    rc, out, err = env.run("policy", "grant", *args)
    m = GRANTED_RE.search(out) if rc == 0 else None
    return rc, m, out, err


def explain(env, user, src, target, action, *extra):
    rc, out, err = env.run("policy", "explain", "--user", user, "--from", src,
                           "--target", target, "--action", action, "--json",
                           *extra)
    assert rc in (0, 1), err
    return rc, json.loads(out)


def grants_json(env):
    rc, out, err = env.run("policy", "grants", "--json")
    assert rc == 0, err
    return json.loads(out)


EXPIRED = """\
grants:
  - {id: g-0000dead, user: alice, targets: [rds-prod], allow: [forward],
     until: 2020-01-02T03:04:05Z, reason: INC-1}
"""


def test_grant_explain_revoke_round_trip(env):
    rc, j = explain(env, "alice", "203.0.113.5", "rds-prod", "forward")
    assert rc == 1 and j["effect"] == "deny"

    before = now()
    rc, m, out, err = grant(env, "alice", "rds-prod", "--allow", "forward",
                            "--for", "2h", "--reason", "INC-42")
    after = now()
    assert rc == 0, err
    assert m["user"] == "alice" and m["targets"] == "rds-prod"
    assert m["allow"] == "forward"
    until = parse_rfc3339(m["until"])
    two_h = datetime.timedelta(hours=2)
    assert before + two_h <= until <= after + two_h

    # A new drop-in file in policy.d holds the grant.
    files = env.dropins()
    assert len(files) == 1 and m["id"] in files[0], files
    data = yaml.safe_load((env.policy_d / files[0]).read_text())
    (g,) = data["grants"]
    assert g["id"] == m["id"] and g["user"] == "alice"
    assert g["reason"] == "INC-42"

    rc, j = explain(env, "alice", "203.0.113.5", "rds-prod", "forward")
    assert rc == 0
    assert (j["effect"], j["by"], j["name"]) == ("allow", "grant", m["id"])
    assert parse_rfc3339(j["until"]) == until

    rc, out, err = env.run("policy", "revoke", m["id"])
    assert rc == 0, err
    assert m["id"] in out
    assert env.dropins() == []
    rc, j = explain(env, "alice", "203.0.113.5", "rds-prod", "forward")
    assert rc == 1 and j["effect"] == "deny"


def test_grant_until_several_targets_and_actions(env):
    end = now() + datetime.timedelta(days=3)
    # erin: no rule of her own, so only the grant can let her in.
    rc, m, out, err = grant(env, "erin", "web-1", "monitor", "--allow",
                            "shell,exec", "--allow", "sftp", "--until",
                            rfc3339(end), "--reason", "migration")
    assert rc == 0, err
    assert parse_rfc3339(m["until"]) == end
    (g,) = grants_json(env)
    assert g["id"] == m["id"]
    assert set(g["targets"]) == {"web-1", "monitor"}
    assert set(g["allow"]) == {"shell", "exec", "sftp"}
    assert parse_rfc3339(g["until"]) == end
    assert g["state"] == "active"
    # The grant lets erin in as herself (no logins: the user's own name).
    rc, j = explain(env, "erin", "100.64.0.9", "monitor", "exec")
    assert rc == 0 and j["name"] == m["id"] and j["login"] == "erin"


def test_grant_from_replaces_the_users_from(env):
    rc, m, out, err = grant(env, "alice", "rds-prod", "--allow", "forward",
                            "--for", "1h", "--from", "198.51.100.9/32",
                            "--reason", "INC-7")
    assert rc == 0, err
    rc, j = explain(env, "alice", "198.51.100.9", "rds-prod", "forward")
    assert rc == 0 and j["name"] == m["id"]
    rc, j = explain(env, "alice", "203.0.113.5", "rds-prod", "forward")
    assert rc == 1
    (g,) = grants_json(env)
    assert g["from"] == ["198.51.100.9/32"]


def test_grant_logins(env):
    rc, m, out, err = grant(env, "alice", "web-1", "--allow", "exec",
                            "--for", "30m", "--login", "deploy",
                            "--reason", "release")
    assert rc == 0, err
    rc, j = explain(env, "alice", "203.0.113.5", "web-1", "exec",
                    "--login", "deploy")
    assert rc == 0 and j["by"] == "grant" and j["login"] == "deploy"
    rc, j = explain(env, "alice", "203.0.113.5", "web-1", "exec",
                    "--login", "root")
    assert rc == 1


def test_grant_reason_with_yaml_specials_round_trips(env):
    reason = 'INC-9: "db" is #down; it\'s {urgent} [p1] \u2192 caf\u00e9'
    rc, m, out, err = grant(env, "alice", "rds-prod", "--allow", "forward",
                            "--for", "1h", "--reason", reason)
    assert rc == 0, err
    (g,) = grants_json(env)
    assert g["reason"] == reason
    rc, out, err = env.run("policy", "check")
    assert rc == 0, err


@pytest.mark.parametrize("user,target,needle", [
    ("mallory", "rds-prod", "mallory"),
    ("alice", "no-such-db", "no-such-db"),
])
def test_grant_validation_errors_exit_1_and_write_nothing(env, user, target,
                                                          needle):
    rc, m, out, err = grant(env, user, target, "--allow", "forward",
                            "--for", "1h", "--reason", "x")
    assert rc == 1, (out, err)
    assert needle in err
    assert re.search(r"^jumpgate: grant refused: \d+ errors?$", err, re.M), err
    assert [f for f in env.dropins() if f.endswith(".yaml")] == []


@pytest.mark.parametrize("args,needle", [
    (["--for", "2 hours"], "--for"),
    (["--for", "0s"], "--for"),
    (["--for", "-1h"], "-1h"),
    (["--for", "1h", "--until", "2099-01-01T00:00:00Z"], "--until"),
    ([], "--for"),
    (["--until", "2020-01-01T00:00:00Z"], "future"),
    (["--until", "tomorrow"], "tomorrow"),
])
def test_grant_bad_time_options_exit_2(env, args, needle):
    rc, m, out, err = grant(env, "alice", "rds-prod", "--allow", "forward",
                            "--reason", "x", *args)
    assert rc == 2, (out, err)
    assert needle in err
    assert env.dropins() == []


@pytest.mark.parametrize("args,needle", [
    (["alice", "rds-prod", "--allow", "teleport", "--for", "1h",
      "--reason", "x"], "teleport"),
    (["alice", "rds-prod", "--for", "1h", "--reason", "x"], "--allow"),
    (["alice", "rds-prod", "--allow", "forward", "--for", "1h"], "--reason"),
    (["alice", "rds-prod", "--allow", "forward", "--for", "1h",
      "--from", "300.1.1.1/8", "--reason", "x"], "300.1.1.1/8"),
    (["alice", "--allow", "forward", "--for", "1h", "--reason", "x"], "target"),
    (["alice", "rds-prod", "--allow", "forward", "--for", "1h",
      "--reason", "two\nlines"], "--reason"),
])
def test_grant_usage_errors_exit_2(env, args, needle):
    rc, m, out, err = grant(env, *args)
    assert rc == 2, (out, err)
    assert needle in err
    assert env.dropins() == []


def test_revoke_unknown_grant_exit_1(env):
    rc, out, err = env.run("policy", "revoke", "g-12345678")
    assert rc == 1
    assert f"no grant g-12345678 in {env.policy_d}" in err


def test_revoke_hand_written_grant_is_refused(env):
    env.policy.write_text(env.policy.read_text() + """\
grants:
  - {id: g-0000abcd, user: alice, targets: [rds-prod], allow: [forward],
     until: 2099-01-01T00:00:00Z, reason: standing}
""")
    rc, out, err = env.run("policy", "revoke", "g-0000abcd")
    assert rc == 1, (out, err)
    assert str(env.policy) in err
    assert "g-0000abcd" in env.policy.read_text()
    rc, j = explain(env, "alice", "203.0.113.5", "rds-prod", "forward")
    assert rc == 0 and j["name"] == "g-0000abcd"


def test_revoke_needs_exactly_one_id(env):
    assert env.run("policy", "revoke")[0] == 2
    assert env.run("policy", "revoke", "g-1", "g-2")[0] == 2


def test_grants_table_is_aligned(env):
    env.write_dropin("grant-g-0000dead.yaml", EXPIRED)
    rc, m1, _, err = grant(env, "alice", "rds-prod", "--allow", "forward",
                           "--for", "1h", "--from", "198.51.100.9",
                           "--reason", "INC-42")
    assert rc == 0, err
    rc, out, err = env.run("policy", "grants")
    assert rc == 0, err
    lines = out.splitlines()
    header = lines[0].split()
    assert header == ["ID", "USER", "TARGETS", "ALLOW", "FROM", "UNTIL",
                      "STATE", "REASON"]
    rows = {line.split()[0]: line for line in lines[1:]}
    assert set(rows) == {"g-0000dead", m1["id"]}
    col = {name: lines[0].index(name) for name in header}
    for gid, state in (("g-0000dead", "expired"), (m1["id"], "active")):
        row = rows[gid]
        assert row[col["STATE"]:].split()[0] == state
        assert row[col["USER"]:].split()[0] == "alice"
        assert row[col["UNTIL"]:].split()[0] in (m1["until"], "2020-01-02T03:04:05Z")
    assert rows[m1["id"]][col["FROM"]:].split()[0] == "198.51.100.9/32"
    assert rows["g-0000dead"][col["FROM"]:].split()[0] == "-"
    assert rows[m1["id"]][col["REASON"]:].strip() == "INC-42"


def test_grants_json_and_expired_grants_are_ignored(env):
    env.write_dropin("grant-g-0000dead.yaml", EXPIRED)
    (g,) = grants_json(env)
    assert g["id"] == "g-0000dead"
    assert g["state"] == "expired"
    assert g["until"] == "2020-01-02T03:04:05Z"
    assert g["targets"] == ["rds-prod"] and g["allow"] == ["forward"]
    assert g["reason"] == "INC-1" and g["user"] == "alice"
    assert g["file"] == str(env.policy_d / "grant-g-0000dead.yaml")
    rc, j = explain(env, "alice", "203.0.113.5", "rds-prod", "forward")
    assert rc == 1


def test_prune_removes_ended_grants_and_lists_the_rest(env):
    dead = env.write_dropin("grant-g-0000dead.yaml", EXPIRED)
    rc, m, _, err = grant(env, "alice", "rds-prod", "--allow", "forward",
                          "--for", "1h", "--reason", "keep")
    assert rc == 0, err
    rc, out, err = env.run("policy", "grants", "--prune")
    assert rc == 0, err
    assert "pruned g-0000dead (alice, ended 2020-01-02T03:04:05Z)" in out
    assert not dead.exists()
    listed = [line.split()[0] for line in out.splitlines()
              if line.startswith("g-")]
    assert listed == [m["id"]]
    # Nothing left to prune the second time.
    rc, out, err = env.run("policy", "grants", "--prune", "--json")
    assert rc == 0, err
    assert "pruned" not in out + err
    assert [g["id"] for g in json.loads(out)] == [m["id"]]


def test_prune_with_json_keeps_stdout_json(env):
    env.write_dropin("grant-g-0000dead.yaml", EXPIRED)
    rc, out, err = env.run("policy", "grants", "--prune", "--json")
    assert rc == 0, err
    assert json.loads(out) == []
    assert "pruned g-0000dead" in err


def test_prune_keeps_hand_written_grants(env):
    env.policy.write_text(env.policy.read_text() + EXPIRED)
    rc, out, err = env.run("policy", "grants", "--prune", "--json")
    assert rc == 0, err
    assert "g-0000dead" in env.policy.read_text()
    assert [g["id"] for g in json.loads(out)] == ["g-0000dead"]


def test_twenty_concurrent_grants_are_all_kept(env):
    procs = [env.popen("policy", "grant", "alice", "rds-prod", "--allow",
                       "forward", "--for", f"{i + 1}h", "--reason", f"race-{i}")
             for i in range(20)]
    ids = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        m = GRANTED_RE.search(out)
        assert m, out
        ids.append(m["id"])
    assert len(set(ids)) == 20
    listed = grants_json(env)
    assert sorted(g["id"] for g in listed) == sorted(ids)
    assert sorted(g["reason"] for g in listed) == sorted(f"race-{i}"
                                                         for i in range(20))
    assert len([f for f in env.dropins() if f.endswith(".yaml")]) == 20
    rc, out, err = env.run("policy", "check")
    assert rc == 0, err
    assert "20 grants (20 active)" in out


def test_grant_needs_a_readable_policy(env):
    env.policy.unlink()
    rc, m, out, err = grant(env, "alice", "rds-prod", "--allow", "forward",
                            "--for", "1h", "--reason", "x")
    assert rc == 2, (out, err)
    assert str(env.policy) in err


def test_grants_table_shows_control_characters_as_question_marks(env):
    # A hand-written grant may carry a newline in its reason; the table
    # keeps one row per grant.
    env.write_dropin("grant-g-0000f00d.yaml", """\
grants:
  - {id: g-0000f00d, user: alice, targets: [rds-prod], allow: [forward],
     until: 2099-01-01T00:00:00Z, reason: "two\\nlines\\ttab"}
""")
    rc, out, err = env.run("policy", "grants")
    assert rc == 0, err
    lines = out.splitlines()
    assert len(lines) == 2
    assert lines[1].endswith("two?lines?tab")
    (g,) = grants_json(env)
    assert g["reason"] == "two\nlines\ttab"
