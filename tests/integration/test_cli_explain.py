# SPDX-License-Identifier: Apache-2.0
# tests/integration/test_cli_explain.py - `jumpgate policy explain`: the
# answer, its exit status, text and JSON forms, and time windows (--at).
import datetime
import json
import zoneinfo

import pytest

from jgtest import fields, parse_rfc3339, rfc3339, utc

MADRID = zoneinfo.ZoneInfo("Europe/Madrid")
WEDNESDAY_10Z = utc(2026, 11, 25, 10, 0, 0)   # 11:00 in Madrid (CET)
WEDNESDAY_18Z = utc(2026, 11, 25, 18, 0, 0)   # 19:00 in Madrid
FRIDAY_20Z = utc(2026, 11, 27, 20, 0, 0)
SATURDAY_10Z = utc(2026, 11, 28, 10, 0, 0)


def madrid(dt, hour):
    """hour:00 in Madrid on dt's Madrid date, as a UTC datetime."""
    local = dt.astimezone(MADRID)
    return local.replace(hour=hour, minute=0, second=0).astimezone(
        datetime.timezone.utc)


def explain(env, user, src, target, action, *extra, at=None):
    args = ["policy", "explain", "--user", user, "--from", src,
            "--target", target, "--action", action, *extra]
    if at is not None:
        args += ["--at", rfc3339(at) if isinstance(at, datetime.datetime) else at]
    return env.run(*args)


def explain_json(env, *args, **kw):
    rc, out, err = explain(env, *args, "--json", **kw)
    assert rc in (0, 1), err
    return rc, json.loads(out)


def test_allow_in_window_text(env):
    rc, out, err = explain(env, "alice", "203.0.113.5", "web-1", "shell",
                           at=WEDNESDAY_10Z)
    assert rc == 0, err
    assert out.splitlines()[0] == "allow"
    f = fields(out)
    assert f["rule"] == "ops-prod-shell"
    assert f["login"] == "ec2-user"          # the rule's first login
    assert f["max_session"] == "4h"
    # Window ends 21:00 Madrid; max_session 4h ends earlier.
    end = min(madrid(WEDNESDAY_10Z, 21), WEDNESDAY_10Z + datetime.timedelta(hours=4))
    assert parse_rfc3339(f["until"]) == end
    assert f["reason"]


def test_until_is_the_window_end_when_that_comes_first(env):
    rc, out, err = explain(env, "alice", "2001:db8::7", "web-1", "exec",
                           at=WEDNESDAY_18Z)
    assert rc == 0, err
    end = madrid(WEDNESDAY_18Z, 21)
    assert end < WEDNESDAY_18Z + datetime.timedelta(hours=4)
    assert parse_rfc3339(fields(out)["until"]) == end


def test_outside_the_window_is_denied(env):
    late = madrid(WEDNESDAY_10Z, 22)
    rc, out, err = explain(env, "alice", "203.0.113.5", "web-1", "shell", at=late)
    assert rc == 1
    assert out.splitlines()[0] == "deny"
    f = fields(out)
    assert f["decided by"] == "default deny"
    assert "until" not in f
    # The reason names the closest miss, here the rule's window, and when
    # that window opens next: Thursday 07:00 in Madrid.
    assert "ops-prod-shell" in f["reason"]
    opens = datetime.datetime(2026, 11, 26, 7, 0, tzinfo=MADRID)
    want = opens.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert f["reason"].endswith(f"(it opens next at {want})"), f["reason"]


def test_at_with_an_offset_is_the_same_instant(env):
    inside = madrid(WEDNESDAY_10Z, 20)
    local = inside.astimezone(MADRID).isoformat()       # ...T20:00:00+01:00
    rc1, out1, _ = explain(env, "alice", "203.0.113.5", "web-1", "shell", at=local)
    rc2, out2, _ = explain(env, "alice", "203.0.113.5", "web-1", "shell", at=inside)
    assert rc1 == rc2 == 0
    assert out1 == out2


def test_allow_json_fields(env):
    rc, j = explain_json(env, "alice", "203.0.113.5", "web-1", "sftp",
                         at=WEDNESDAY_10Z)
    assert rc == 0
    assert set(j) == {"effect", "by", "name", "reason", "login", "until",
                      "max_session", "record_input"}
    assert j["effect"] == "allow"
    assert j["by"] == "rule"
    assert j["name"] == "ops-prod-shell"
    assert j["login"] == "ec2-user"
    assert j["max_session"] == 4 * 3600
    assert j["record_input"] is False
    assert parse_rfc3339(j["until"]) == WEDNESDAY_10Z + datetime.timedelta(hours=4)


def test_forward_without_window_lasts_forever(env):
    rc, j = explain_json(env, "alice", "203.0.113.5", "grafana", "forward")
    assert rc == 0
    assert j["effect"] == "allow" and j["name"] == "grafana-forward"
    assert j["until"] is None and j["max_session"] is None
    assert j["login"] is None        # forward: no login on the target
    rc, out, err = explain(env, "alice", "203.0.113.5", "grafana", "forward")
    assert rc == 0
    assert fields(out)["until"] == "never"
    assert "login" not in fields(out)


def test_deny_json_by_default(env):
    rc, j = explain_json(env, "bob", "198.51.100.1", "web-1", "shell",
                         at=WEDNESDAY_10Z)
    assert rc == 1
    assert j["effect"] == "deny" and j["by"] == "default"
    assert j["name"] is None and j["until"] is None and j["login"] is None
    assert j["reason"]


def test_deny_rule_wins_and_is_named(env):
    rc, out, err = explain(env, "bob", "198.51.100.1", "grafana", "forward",
                           at=SATURDAY_10Z)
    assert rc == 1
    assert fields(out)["rule"] == "weekend-freeze"
    rc, j = explain_json(env, "bob", "198.51.100.1", "grafana", "forward",
                         at=SATURDAY_10Z)
    assert (j["by"], j["name"]) == ("rule", "weekend-freeze")


def test_allow_lapses_when_a_deny_window_starts(env):
    rc, j = explain_json(env, "bob", "198.51.100.1", "grafana", "forward",
                         at=FRIDAY_20Z)
    assert rc == 0
    # weekend-freeze has no zone: Saturday 00:00 UTC.
    assert parse_rfc3339(j["until"]) == utc(2026, 11, 28, 0, 0, 0)


@pytest.mark.parametrize("user,src,target,action,extra", [
    ("alice", "198.51.100.1", "web-1", "shell", []),        # source not in from
    ("alice", "203.0.113.5", "web-1", "shell", ["--login", "root"]),
    ("alice", "203.0.113.5", "rds-prod", "forward", []),    # no rule names it
    ("alice", "203.0.113.5", "web-1", "jump", []),          # jump never implied
    ("dave", "192.0.2.70", "web-1", "shell", []),           # expired user
    ("mallory", "203.0.113.5", "web-1", "shell", []),       # unknown user
    ("alice", "203.0.113.5", "no-such-host", "shell", []),  # unknown target
])
def test_denials_exit_1(env, user, src, target, action, extra):
    rc, out, err = explain(env, user, src, target, action, *extra,
                           at=WEDNESDAY_10Z)
    assert rc == 1, (out, err)
    assert out.splitlines()[0] == "deny"
    assert fields(out)["reason"]


def test_explicit_login_allowed(env):
    rc, out, err = explain(env, "alice", "203.0.113.5", "monitor", "shell",
                           "--login", "ec2-user", at=WEDNESDAY_10Z)
    assert rc == 0, err
    assert fields(out)["login"] == "ec2-user"


def test_unknown_or_expired_user_is_decided_by_user(env):
    for user, src in (("mallory", "203.0.113.5"), ("dave", "192.0.2.70")):
        rc, j = explain_json(env, user, src, "web-1", "shell", at=WEDNESDAY_10Z)
        assert rc == 1
        assert j["by"] == "user", j


def test_at_defaults_to_now(env):
    # Without --at the answer is the one for the current time.
    local = datetime.datetime.now(MADRID)
    minute = local.hour * 60 + local.minute
    if min(abs(minute - 7 * 60), abs(minute - 21 * 60), minute,
           24 * 60 - minute) <= 1:
        pytest.skip("too close to the edge of the rule's window")
    rc_now, out_now, _ = explain(env, "alice", "203.0.113.5", "web-1", "shell")
    rc_at, out_at, _ = explain(env, "alice", "203.0.113.5", "web-1", "shell",
                               at="now")
    inside = local.weekday() < 5 and 7 * 60 <= minute < 21 * 60
    assert rc_now == rc_at == (0 if inside else 1)


@pytest.mark.parametrize("args,needle", [
    (["--at", "yesterday"], "--at"),
    (["--at", "2026-13-01T00:00:00Z"], "--at"),
    (["--action", "teleport"], "teleport"),
    (["--from", "not-an-ip"], "not-an-ip"),
])
def test_bad_option_values_exit_2(env, args, needle):
    base = {"--user": "alice", "--from": "203.0.113.5", "--target": "web-1",
            "--action": "shell"}
    for k, v in zip(args[::2], args[1::2]):
        base[k] = v
    flat = [x for kv in base.items() for x in kv]
    rc, out, err = env.run("policy", "explain", *flat)
    assert rc == 2
    assert needle in err
    assert out == ""


@pytest.mark.parametrize("missing", ["--user", "--from", "--target", "--action"])
def test_missing_required_option_exits_2(env, missing):
    base = {"--user": "alice", "--from": "203.0.113.5", "--target": "web-1",
            "--action": "shell"}
    del base[missing]
    flat = [x for kv in base.items() for x in kv]
    rc, out, err = env.run("policy", "explain", *flat)
    assert rc == 2
    assert missing in err
    assert "usage:" in err


def test_invalid_policy_is_not_an_answer(env):
    # explain cannot answer from an invalid policy: a runtime error (2),
    # never mistaken for a deny (1).
    env.policy.write_text(env.policy.read_text() + "bogus_section: 1\n")
    rc, out, err = explain(env, "alice", "203.0.113.5", "web-1", "shell")
    assert rc == 2
    assert "policy not valid" in err
