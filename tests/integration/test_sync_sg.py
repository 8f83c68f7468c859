# SPDX-License-Identifier: Apache-2.0
# tests/integration/test_sync_sg.py - `jumpgate sync plan/apply` against the
# fake EC2: the diff, idempotent applies, unmanaged rules left alone, expired
# grants and changed sources, the max_removals guard, invalid policies.
import json

from sync_fixtures import (SG_GRAFANA, SG_SSH, WANT_GRAFANA, WANT_SSH,  # noqa: F401
                           ec2, sync)


def test_plan_shows_the_diff_and_changes_nothing(sync):
    st = sync.ec2.state
    rc, out, err = sync.run("plan")
    assert rc == 0, err
    assert f"jump-ssh: aws security group {SG_SSH}" in out
    assert "+ 203.0.113.0/24" in out and "tcp/22" in out
    assert "+ 2001:db8::/48" in out
    assert "Plan: 8 to add, 0 to remove." in out
    assert st.writes() == []


def test_plan_json(sync):
    rc, out, err = sync.run("plan", "--json")
    assert rc == 0, err
    doc = json.loads(out)
    assert doc["add"] == 8 and doc["remove"] == 0
    got = sorted((c["cidr"], c["port"]) for c in doc["changes"]
                 if c["target"] == SG_SSH)
    assert got == WANT_SSH
    c = next(c for c in doc["changes"] if c["cidr"] == "100.64.0.0/24")
    assert c["op"] == "add" and c["where"] == "aws_security_group"
    assert c["exposure"] == "jump-ssh" and "erin" in c["description"]


def test_apply_then_apply_again_changes_nothing(sync):
    st = sync.ec2.state
    rc, out, err = sync.run("apply")
    assert rc == 0, err
    assert "Apply complete: 8 changes." in out
    assert st.cidrs(SG_SSH) == WANT_SSH
    assert st.cidrs(SG_GRAFANA) == WANT_GRAFANA
    r = next(r for r in st.managed(SG_SSH) if r["cidr4"] == "203.0.113.0/24")
    assert r["tags"] == {"managed-by": "jumpgate",
                         "jumpgate-exposure": "jump-ssh"}
    assert "alice" in r["description"] and "carol" in r["description"]
    n = len(st.writes())
    rc, out, err = sync.run("apply")
    assert rc == 0, err
    assert "No changes" in out
    assert len(st.writes()) == n
    rc, out, _ = sync.run("plan")
    assert "No changes" in out


def test_unmanaged_rules_are_never_touched(sync):
    st = sync.ec2.state
    theirs = st.add_rule(SG_SSH, "192.0.2.0/24", 22, description="office")
    other = st.add_rule(SG_SSH, "10.9.0.0/16", 22,
                        tags={"managed-by": "terraform"})
    rc, out, err = sync.run("apply")
    assert rc == 0, err
    assert theirs in st.rules and other in st.rules
    assert "192.0.2.0/24" not in out and "10.9.0.0/16" not in out
    for a, params in st.calls:
        if a == "RevokeSecurityGroupIngress":
            assert theirs not in params.values()


def test_stale_managed_rule_is_removed(sync):
    st = sync.ec2.state
    stale = st.add_rule(SG_SSH, "192.0.2.0/24", 22,
                        tags={"managed-by": "jumpgate",
                              "jumpgate-exposure": "jump-ssh"})
    rc, out, err = sync.run("plan")
    assert rc == 0, err
    assert f"- 192.0.2.0/24" in out and stale in out
    rc, out, err = sync.run("apply")
    assert rc == 0, err
    assert stale not in st.rules
    assert st.cidrs(SG_SSH) == WANT_SSH


def test_expired_grant_is_removed_on_next_apply(sync):
    st = sync.ec2.state
    grant = ("grants:\n  - {{id: g-0000abcd, user: bob, targets: [grafana], "
             "allow: [forward], until: {until}, reason: INC-42, "
             "from: [192.0.2.77/32]}}\n")
    sync.env.write_dropin("grant-g-0000abcd.yaml",
                          grant.format(until="2099-01-01T00:00:00Z"))
    rc, out, err = sync.run("apply")
    assert rc == 0, err
    assert ("192.0.2.77/32", 22) in st.cidrs(SG_SSH)
    r = next(r for r in st.managed(SG_SSH) if r["cidr4"] == "192.0.2.77/32")
    assert "g-0000abcd" in r["description"]
    sync.env.write_dropin("grant-g-0000abcd.yaml",
                          grant.format(until="2020-01-01T00:00:00Z"))
    rc, out, err = sync.run("apply")
    assert rc == 0, err
    assert "- 192.0.2.77/32" in out
    assert st.cidrs(SG_SSH) == WANT_SSH


def test_changed_from_swaps_the_rule(sync):
    st = sync.ec2.state
    assert sync.run("apply")[0] == 0
    pol = sync.env.policy.read_text().replace("from: [100.64.0.0/24]",
                                              "from: [100.65.0.0/24]")
    sync.env.policy.write_text(pol)
    rc, out, err = sync.run("apply")
    assert rc == 0, err
    cidrs = [c for c, _ in st.cidrs(SG_SSH)]
    assert "100.65.0.0/24" in cidrs and "100.64.0.0/24" not in cidrs
    acts = [a for a in st.writes()][-2:]
    # additions go first: the new source is let in before the old goes.
    assert acts == ["AuthorizeSecurityGroupIngress",
                    "RevokeSecurityGroupIngress"]


def test_max_removals_guard(sync):
    st = sync.ec2.state
    for i in range(3):
        st.add_rule(SG_SSH, f"192.0.2.{i * 16}/28", 22,
                    tags={"managed-by": "jumpgate"})
    sync.config(max_removals=2)
    n = len(st.rules)
    rc, out, err = sync.run("apply")
    assert rc == 1
    assert "sync.max_removals (2)" in err and "--force" in err
    assert len(st.rules) == n and st.writes() == []
    rc, out, err = sync.run("apply", "--force")
    assert rc == 0, err
    assert st.cidrs(SG_SSH) == WANT_SSH


def test_invalid_policy_changes_nothing(sync):
    st = sync.ec2.state
    sync.env.policy.write_text(sync.env.policy.read_text() +
                               "bogus_key: 1\n")
    rc, out, err = sync.run("apply")
    assert rc == 1
    assert "policy not valid" in err
    assert st.calls == []


def test_paging_over_several_pages(sync):
    st = sync.ec2.state
    st.page_size = 2
    assert sync.run("apply")[0] == 0
    n, ncalls = len(st.writes()), len(st.calls)
    rc, out, err = sync.run("apply")
    assert rc == 0 and "No changes" in out, err
    assert len(st.writes()) == n
    # 5 rules in sg-0a1b2c3d at 2 a page: 3 pages, following NextToken.
    pages = [p for a, p in st.calls[ncalls:] if a == "DescribeSecurityGroupRules"
             and p["Filter.1.Value.1"] == SG_SSH]
    assert len(pages) >= 3 and all("NextToken" in p for p in pages[-2:])
