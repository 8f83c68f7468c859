# SPDX-License-Identifier: Apache-2.0
# tests/integration/test_cli_exposure.py - `jumpgate policy exposure`: the
# source CIDRs each cloud firewall entry must allow, canonicalised.
import datetime
import ipaddress
import json

import yaml

from jgtest import rfc3339, utc

NOW = datetime.datetime.now(datetime.timezone.utc)


def expires(u):
    e = u.get("expires")
    if e is None:
        return None
    if isinstance(e, datetime.datetime):
        return e if e.tzinfo else e.replace(tzinfo=datetime.timezone.utc)
    if isinstance(e, datetime.date):
        return utc(e.year, e.month, e.day)
    return datetime.datetime.fromisoformat(str(e).replace("Z", "+00:00"))


def expected_sources(policy, sources, at, grants=()):
    """What semantics.md says: the from of every unexpired user named by
    sources, and of their unexpired grants; collapsed like ipaddress does
    (duplicates and contained networks dropped, siblings merged)."""
    users = policy["users"]
    names = []
    for s in ([sources] if isinstance(sources, str) else sources):
        if s == "users":
            names += list(users)
        elif s.startswith("group:"):
            names += [n for n, u in users.items()
                      if s[6:] in u.get("groups", [])]
        elif s.startswith("user:"):
            names.append(s[5:])
    nets = []
    for n in set(names):
        e = expires(users[n])
        if e is not None and e <= at:
            continue
        nets += [ipaddress.ip_network(c, strict=False) for c in users[n]["from"]]
        for g in grants:
            if g["user"] == n and g["until"] > at:
                nets += [ipaddress.ip_network(c) for c in g["from"]]
    v4 = [x for x in nets if x.version == 4]
    v6 = [x for x in nets if x.version == 6]
    return {str(x) for x in list(ipaddress.collapse_addresses(v4)) +
            list(ipaddress.collapse_addresses(v6))}


def exposure(env, *args):
    rc, out, err = env.run("policy", "exposure", "--json", *args)
    assert rc == 0, err
    return {e["name"]: e for e in json.loads(out)}


def test_exposure_json_users_and_group_sources(env):
    policy = env.policy_data()
    got = exposure(env)
    assert set(got) == {e["name"] for e in policy["exposure"]}
    for e in policy["exposure"]:
        g = got[e["name"]]
        want = expected_sources(policy, e["sources"], NOW)
        assert set(g["cidrs"]) == want, e["name"]
        assert len(g["cidrs"]) == len(set(g["cidrs"]))     # deduplicated
        assert g["sources"] == e["sources"]
        assert g["port"] == e.get("port")
        assert g["aws_security_group"] == e.get("aws_security_group")
    # The overlapping and sibling networks really were folded.
    ops = got["grafana"]["cidrs"]
    assert "203.0.113.128/25" not in ops and "203.0.113.0/24" in ops
    assert "198.18.0.0/23" in ops and "198.18.0.0/24" not in ops
    # dave expired in 2020: none of his networks.
    assert not any(c.startswith("192.0.2.") for c in got["jump-ssh"]["cidrs"])
    cf = got["shop-admin"]["cloudflare"]
    want_cf = policy["exposure"][2]["cloudflare"]
    assert cf == want_cf
    assert got["jump-ssh"]["cloudflare"] is None


def test_exposure_at_follows_user_expiry(env):
    policy = env.policy_data()
    before = utc(2098, 6, 1)
    after = utc(2099, 6, 1)          # erin expires 2099-01-01
    a = exposure(env, "--at", rfc3339(before))["jump-ssh"]["cidrs"]
    b = exposure(env, "--at", rfc3339(after))["jump-ssh"]["cidrs"]
    assert "100.64.0.0/24" in a and "100.64.0.0/24" not in b
    assert set(a) == expected_sources(policy, "users", before)
    assert set(b) == expected_sources(policy, "users", after)


def test_exposure_includes_active_grants_only(env):
    policy = env.policy_data()
    rc, out, err = env.run("policy", "grant", "alice", "rds-prod", "--allow",
                           "forward", "--for", "1d", "--from", "192.0.2.7",
                           "--reason", "vendor")
    assert rc == 0, err
    env.write_dropin("grant-g-0000dead.yaml", """\
grants:
  - {id: g-0000dead, user: alice, targets: [rds-prod], allow: [forward],
     until: 2020-01-02T03:04:05Z, reason: old, from: [192.0.2.99/32]}
""")
    grants = [{"user": "alice", "until": NOW + datetime.timedelta(days=1),
               "from": ["192.0.2.7/32"]},
              {"user": "alice", "until": utc(2020, 1, 2, 3, 4, 5),
               "from": ["192.0.2.99/32"]}]
    got = exposure(env)
    for name in ("jump-ssh", "grafana"):
        e = next(x for x in policy["exposure"] if x["name"] == name)
        assert set(got[name]["cidrs"]) == expected_sources(
            policy, e["sources"], NOW, grants)
        assert "192.0.2.7/32" in got[name]["cidrs"]
        assert "192.0.2.99/32" not in got[name]["cidrs"]


def test_exposure_user_source_list(env):
    policy = env.policy_data()
    policy["exposure"].append({"name": "bob-only", "port": 8443,
                               "sources": ["user:bob", "user:carol"],
                               "aws_security_group": "sg-0123abcd"})
    env.policy.write_text(yaml.safe_dump(policy))
    got = exposure(env)["bob-only"]
    assert set(got["cidrs"]) == expected_sources(
        policy, ["user:bob", "user:carol"], NOW)


def test_exposure_text(env):
    rc, out, err = env.run("policy", "exposure")
    assert rc == 0, err
    policy = env.policy_data()
    got = exposure(env)
    for e in policy["exposure"]:
        assert f"{e['name']}:" in out
        for c in got[e["name"]]["cidrs"]:
            assert f"  allow {c}\n" in out
    assert "sg-0a1b2c3d" in out and "jumpgate_admin_ips" in out


def test_exposure_bad_at_exit_2(env):
    rc, out, err = env.run("policy", "exposure", "--at", "soon")
    assert rc == 2
    assert "soon" in err
