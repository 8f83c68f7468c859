# SPDX-License-Identifier: Apache-2.0
# tests/integration/test_sync_removed.py - an exposure taken out of the
# policy: its managed security-group rules go (counted against
# max_removals), rules jumpgate did not create stay, and a Cloudflare list
# no exposure names any more is left in place but reported by the plan.
import json

from sync_fixtures import (SG_GRAFANA, SG_SSH, WANT_SSH, cf, ec2,  # noqa: F401
                           sync, sync_cf)


def drop_exposure(env, name):
    text = env.policy.read_text()
    lines = [l for l in text.splitlines(keepends=True)
             if not l.startswith(f"  - {{name: {name},")]
    assert len(lines) == len(text.splitlines()) - 1
    env.policy.write_text("".join(lines))


def test_removed_exposure_rules_go_unmanaged_stay(sync):
    st = sync.ec2.state
    assert sync.run("apply")[0] == 0
    n_grafana = len(st.managed(SG_GRAFANA))
    assert n_grafana == 3
    hand = st.add_rule(SG_GRAFANA, "192.0.2.0/24", 3000,
                       description="office, by hand")
    other = st.add_rule(SG_GRAFANA, "192.0.2.128/25", 3000,
                        tags={"managed-by": "terraform"})
    drop_exposure(sync.env, "grafana")

    rc, out, err = sync.run("plan", "--json")
    assert rc == 0, err
    plan = json.loads(out)
    rem = [c for c in plan["changes"] if c["op"] == "remove"]
    assert len(rem) == n_grafana and plan["add"] == 0
    assert all(c["target"] == SG_GRAFANA and c["exposure"] == "grafana"
               for c in rem)

    # three removals are more than max_removals 2: refused unless --force,
    # and plan says so with its exit status
    sync.config(max_removals=2)
    rc, out, err = sync.run("plan")
    assert rc == 1, out + err
    assert ("Apply will refuse this plan: it removes 3 managed rules or list "
            "entries, more than sync.max_removals (2)") in out
    assert "jumpgate sync apply --force" in out
    rc, out, err = sync.run("plan", "--json")
    assert rc == 1 and "sync.max_removals (2)" in json.loads(out)["apply_refuses"]
    rc, out, err = sync.run("apply")
    assert rc == 1 and "sync.max_removals (2)" in err
    assert len(st.managed(SG_GRAFANA)) == n_grafana
    rc, out, err = sync.run("apply", "--force")
    assert rc == 0, err
    assert st.managed(SG_GRAFANA) == []
    assert hand in st.rules and other in st.rules
    assert st.cidrs(SG_SSH) == WANT_SSH
    rc, out, err = sync.run("apply")
    assert rc == 0 and "No changes" in out


def test_unreferenced_cloudflare_list_is_left_and_noted(sync_cf):
    sync = sync_cf
    cst = sync.cf.state
    rc, out, err = sync.run("apply")
    assert rc == 0, err
    lid, lst = cst.list_by_name("jumpgate_admin_ips")
    assert lid is not None and lst["items"]
    # a list someone else made is never mentioned
    cst.lists["f" * 32] = {"name": "office_ips", "kind": "ip",
                           "description": "made by hand", "items": [],
                           "created_on": "2026-01-01T00:00:00Z",
                           "modified_on": "2026-01-01T00:00:00Z"}
    text = sync.env.policy.read_text()
    sync.env.policy.write_text(text[:text.find("  - name: shop-admin")])
    rc, out, err = sync.run("plan")
    assert rc == 0, err
    assert (f"Note: cloudflare list jumpgate_admin_ips ({lid}) is no longer "
            "named by any exposure; left in place") in out
    assert "office_ips" not in out
    rc, out, err = sync.run("plan", "--json")
    assert any("jumpgate_admin_ips" in n for n in json.loads(out)["notes"])
    n = len(cst.writes())
    rc, out, err = sync.run("apply")
    assert rc == 0, err
    assert len(cst.writes()) == n
    assert cst.list_by_name("jumpgate_admin_ips")[1]["items"] == lst["items"]


def test_a_saved_plan_is_applied_exactly_or_not_at_all(sync, tmp_path):
    """plan --out saves what apply PLAN carries out; when the policy or
    the cloud changed in between, apply PLAN changes nothing."""
    st = sync.ec2.state
    saved = tmp_path / "plan.json"
    rc, out, err = sync.run("plan", "--out", str(saved))
    assert rc == 0 and f"Saved to {saved}" in out, out + err
    n = len(json.loads(saved.read_text())["changes"])
    assert n > 0
    drop_exposure(sync.env, "grafana")          # the world moves on
    rc, out, err = sync.run("apply", str(saved))
    assert rc == 1 and "is no longer what would be done" in err, err
    assert st.managed(SG_GRAFANA) == [] and st.managed(SG_SSH) == []
    rc, out, err = sync.run("plan", "--out", str(saved))
    assert rc == 0, err
    n = len(json.loads(saved.read_text())["changes"])
    rc, out, err = sync.run("apply", str(saved))
    assert rc == 0 and f"Apply complete: {n} changes." in out, out + err
    assert st.cidrs(SG_SSH) == WANT_SSH
    rc, _, err = sync.run("apply", str(tmp_path / "nope.json"))
    assert rc == 2 and "nope.json" in err
