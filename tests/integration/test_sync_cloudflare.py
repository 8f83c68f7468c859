# SPDX-License-Identifier: Apache-2.0
# tests/integration/test_sync_cloudflare.py - `jumpgate sync` against the fake
# Cloudflare API: the IP list kept equal to the exposure set by bulk replace,
# the WAF custom rule added once (never a PUT of the phase), 429 honoured,
# envelope errors reported with their codes.
import json
import re
import time

from sync_fixtures import cf, ec2, sync_cf  # noqa: F401

LIST = "jumpgate_admin_ips"
ZONE = "023e105f4ecef8ad9ca31a8372d0c353"
WANT = ["198.18.0.0/23", "2001:db8::/48", "203.0.113.0/24"]
EXPR = ('(http.host eq "shop.example.com" and starts_with('
        'http.request.uri.path, "/admin") and not ip.src in '
        '$jumpgate_admin_ips)')


def test_plan_then_apply_then_nothing(sync_cf):
    cst = sync_cf.cf.state
    rc, out, err = sync_cf.run("plan")
    assert rc == 0, err
    assert f"shop-admin: cloudflare {LIST}" in out
    assert "+ 203.0.113.0/24" in out and "+ waf rule jumpgate: shop-admin" in out
    assert cst.writes() == []
    planned = int(re.search(r"Plan: (\d+) to add, 0 to remove", out).group(1))
    rc, out, err = sync_cf.run("apply")
    assert rc == 0, err
    # apply counts what plan announced: each list entry, not each call
    assert f"Apply complete: {planned} changes." in out, out
    assert cst.ips(LIST) == WANT
    rules = cst.rulesets[ZONE]["rules"]
    assert len(rules) == 1
    assert rules[0]["expression"] == EXPR and rules[0]["action"] == "block"
    assert cst.phase_puts == 0
    n = len(cst.writes())
    rc, out, err = sync_cf.run("apply")
    assert rc == 0, err
    assert "No changes" in out
    assert len(cst.writes()) == n


def test_list_and_rule_are_created_in_existing_entrypoint(sync_cf):
    cst = sync_cf.cf.state
    other = {"id": "r0", "version": "1", "action": "block",
             "expression": '(ip.src eq 192.0.2.1)', "description": "theirs",
             "enabled": True}
    cst.rulesets[ZONE] = {"id": "rs1", "name": "default", "kind": "zone",
                          "phase": "http_request_firewall_custom",
                          "rules": [other]}
    rc, out, err = sync_cf.run("apply")
    assert rc == 0, err
    rules = cst.rulesets[ZONE]["rules"]
    assert rules[0] == other and len(rules) == 2
    assert ("POST", f"/client/v4/zones/{ZONE}/rulesets/rs1/rules") in \
        cst.writes()


def test_drifted_rule_is_patched_and_list_replaced(sync_cf):
    cst = sync_cf.cf.state
    assert sync_cf.run("apply")[0] == 0
    cst.rulesets[ZONE]["rules"][0]["enabled"] = False
    lid, lst = cst.list_by_name(LIST)
    lst["items"].append({"id": "x", "ip": "192.0.2.0/24", "comment": "",
                         "created_on": "", "modified_on": ""})
    rc, out, err = sync_cf.run("plan")
    assert "- 192.0.2.0/24" in out and "(update)" in out
    rc, out, err = sync_cf.run("apply")
    assert rc == 0, err
    assert cst.ips(LIST) == WANT
    assert cst.rulesets[ZONE]["rules"][0]["enabled"] is True


def test_expired_grant_leaves_the_list(sync_cf):
    cst = sync_cf.cf.state
    grant = ("grants:\n  - {{id: g-0000beef, user: alice, targets: [grafana], "
             "allow: [forward], until: {until}, reason: INC-7, "
             "from: [192.0.2.9/32]}}\n")
    sync_cf.env.write_dropin("grant-g-0000beef.yaml",
                             grant.format(until="2099-01-01T00:00:00Z"))
    assert sync_cf.run("apply")[0] == 0
    assert "192.0.2.9" in cst.ips(LIST)
    sync_cf.env.write_dropin("grant-g-0000beef.yaml",
                             grant.format(until="2020-01-01T00:00:00Z"))
    rc, out, err = sync_cf.run("apply")
    assert rc == 0, err
    assert cst.ips(LIST) == WANT


def test_429_retry_after_is_honoured(sync_cf):
    cst = sync_cf.cf.state
    cst.inject += [(429, 1), (503, None)]
    t0 = time.monotonic()
    rc, out, err = sync_cf.run("apply")
    assert rc == 0, err
    assert time.monotonic() - t0 >= 1.0
    assert cst.ips(LIST) == WANT


def test_bad_token_reports_the_code(sync_cf):
    (sync_cf.env.root / "cloudflare.token").write_text("wrong-token\n")
    rc, out, err = sync_cf.run("plan")
    assert rc == 2
    assert "Cloudflare GET /accounts/" in err
    assert "HTTP 403: 10000: Authentication error" in err
    assert "wrong-token" not in err


def test_malformed_json_names_request_and_field(sync_cf):
    cst = sync_cf.cf.state
    cst.raw[("GET", r".*/rules/lists")] = '{"success": true, "errors": []'
    rc, out, err = sync_cf.run("plan")
    assert rc == 2 and "malformed answer" in err and "not JSON" in err
    cst.raw[("GET", r".*/rules/lists")] = json.dumps(
        {"success": True, "errors": [], "result": [{"name": LIST}]})
    rc, out, err = sync_cf.run("plan")
    assert rc == 2 and "without id" in err


def test_plan_json_lists_cloudflare_changes(sync_cf):
    rc, out, err = sync_cf.run("plan", "--json")
    assert rc == 0, err
    doc = json.loads(out)
    cfc = [c for c in doc["changes"] if c["where"] == "cloudflare_list"]
    assert sorted(c["cidr"] for c in cfc) == WANT
    assert any(c["where"] == "cloudflare_rule" for c in doc["changes"])


def test_changes_are_sync_apply_events(sync_cf):
    cst = sync_cf.cf.state
    audit = sync_cf.env.root / "audit"
    audit.mkdir()
    sync_cf.config(top=f"audit: {{dir: {audit}}}\n")
    # config() with top keeps the Cloudflare settings only without extra
    assert "cloudflare" in sync_cf.env.config.read_text()
    rc, out, err = sync_cf.run("apply")
    assert rc == 0, err
    evs = []
    for f in sorted((audit / "events").glob("*.jsonl")):
        evs += [json.loads(line) for line in f.read_text().splitlines()]
    cfe = [e for e in evs if e["type"] == "sync.apply"
           and e["provider"] == "cloudflare"]
    lid = cst.list_by_name(LIST)[0]
    items = sorted(e["cidr"] for e in cfe if e["resource"] == lid)
    assert items == WANT
    rule = [e for e in cfe if e["cidr"] is None]
    assert len(rule) == 1 and rule[0]["op"] == "add"
    assert rule[0]["resource"] == cst.rulesets[ZONE]["rules"][0]["id"]
    assert cst.token not in json.dumps(evs)
