# SPDX-License-Identifier: Apache-2.0
# tests/integration/test_sync_ecs.py - ECS discovery through the fake ECS and
# EC2 (paging, throttling, failures): `sync discover` writes
# policy.d/ecs-prod.discovered.json, `policy explain` then resolves members
# (and refuses names discovery did not find), a failed call keeps the old
# file, and `sync run` serves its metrics and logs sync.apply events that
# `audit verify` accepts.
import json
import signal
import socket
import stat
import subprocess
import time
import urllib.request

from sync_fixtures import (SECRET, SG_GRAFANA, SG_SSH, WANT_GRAFANA,  # noqa: F401
                           WANT_SSH, ec2, ecs, sync_ecs)

CLUSTER = "prestashop-prod"
THU10 = "2026-11-26T10:00:00Z"   # inside ops-prod-shell's window
ECS_DROPIN = """\
targets:
  ecs-prod: {kind: ssh, discover: {ecs_cluster: prestashop-prod},
             labels: {env: prod, tier: ecs}}
"""
# EC2 instance id -> (private IP, Name tag)
INSTANCES = {
    "i-0a11111111111111a": ("10.0.3.11", "web-a"),
    "i-0b22222222222222b": ("10.0.3.12", "ECS Instance - shop"),
    "i-0c33333333333333c": ("10.0.3.13", "ECS Instance - shop"),
    "i-0d44444444444444d": ("10.0.3.14", None),
    "i-0e55555555555555e": ("10.0.3.15", "web-e"),
}
DRAINING = "i-0f66666666666666f"
METRICS = {
    "jumpgate_build_info", "process_start_time_seconds",
    "jumpgate_sync_runs_total", "jumpgate_sync_changes_total",
    "jumpgate_sync_errors_total",
    "jumpgate_sync_last_success_timestamp_seconds",
    "jumpgate_sync_last_run_duration_seconds",
    "jumpgate_sync_discovered_targets",
}


def setup_cluster(sync):
    sync.env.write_dropin("10-ecs.yaml", ECS_DROPIN)
    est, cst = sync.ecs.state, sync.ec2.state
    est.add_cluster(CLUSTER)
    est.page_size = 2               # 6 container instances: 3 pages
    cst.page_size = 2               # DescribeInstances pages too
    for iid, (ip, name) in INSTANCES.items():
        est.add_instance(CLUSTER, iid)
        cst.add_instance(iid, ip, name=name)
    est.add_instance(CLUSTER, DRAINING, status="DRAINING")
    cst.add_instance(DRAINING, "10.0.3.16")
    return sync.env.policy_d / "ecs-prod.discovered.json"


def explain(sync, target, user="alice", src="203.0.113.5"):
    return sync.env.run("policy", "explain", "--user", user, "--from", src,
                        "--target", target, "--action", "shell", "--at",
                        THU10)


def test_discovery_writes_members_and_explain_resolves_them(sync_ecs):
    sync = sync_ecs
    path = setup_cluster(sync)
    rc, out, err = sync.run("discover")
    assert rc == 0, err
    assert "ecs-prod: 5 members in ECS cluster prestashop-prod" in out
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    doc = json.loads(path.read_text())
    assert doc["target"] == "ecs-prod" and doc["cluster"] == CLUSTER
    assert doc["refreshed"].endswith("Z")
    names = [m["name"] for m in doc["members"]]
    assert names == ["ecs-prod/" + i for i in sorted(INSTANCES)]
    by_id = {m["labels"]["instance-id"]: m for m in doc["members"]}
    for iid, (ip, _) in INSTANCES.items():
        assert by_id[iid]["address"] == f"{ip}:22"
        assert by_id[iid]["labels"]["tier"] == "ecs"
    # unique Name tags become aliases; a shared tag or none: the id's tail
    assert by_id["i-0a11111111111111a"]["alias"] == "web-a"
    assert by_id["i-0b22222222222222b"]["alias"] == "2222222b"
    assert by_id["i-0d44444444444444d"]["alias"] == "4444444d"
    # every page was followed
    est = sync.ecs.state
    lists = [r for a, r in est.calls if a == "ListContainerInstances"]
    assert len(lists) == 3 and all(r["status"] == "ACTIVE" for r in lists)
    assert "nextToken" in lists[1] and "nextToken" in lists[2]
    desc = [r for a, r in est.calls if a == "DescribeContainerInstances"]
    assert sum(len(r["containerInstances"]) for r in desc) == 5
    di = [p for a, p in sync.ec2.state.calls if a == "DescribeInstances"]
    assert len(di) == 3 and "NextToken" in di[-1]
    assert est.auth_failures == 0 and sync.ec2.state.auth_failures == 0

    rc, out, err = explain(sync, "ecs-prod/i-0a11111111111111a")
    assert rc == 0 and out.startswith("allow"), out + err
    assert "ops-prod-shell" in out
    rc, out, err = explain(sync, "ecs-prod/web-e")
    assert rc == 0 and out.startswith("allow"), out + err
    rc, out, err = explain(sync, "ecs-prod/" + DRAINING)
    assert rc == 1 and "unknown target" in out, out + err
    rc, out, err = explain(sync, "ecs-prod/i-0000000000000dead")
    assert rc == 1 and "unknown target" in out, out + err
    rc, out, err = explain(sync, "ecs-prod/i-0a11111111111111a", user="bob",
                           src="198.51.100.7")
    assert rc == 1 and out.startswith("deny")
    rc, out, err = sync.env.run("policy", "check")
    assert rc == 0 and "discovered members: 5" in out, out + err

    # an instance leaves the cluster: the next discovery forgets it
    est.clusters[CLUSTER] = [c for c in est.clusters[CLUSTER]
                             if c["ec2InstanceId"] != "i-0e55555555555555e"]
    rc, out, err = sync.run("discover")
    assert rc == 0 and "4 members" in out, err
    rc, out, err = explain(sync, "ecs-prod/web-e")
    assert rc == 1 and "unknown target" in out


def test_failed_call_keeps_the_old_file(sync_ecs):
    sync = sync_ecs
    path = setup_cluster(sync)
    assert sync.run("discover")[0] == 0
    before = path.read_bytes()
    cases = [
        ("ListContainerInstances", 400, "ClusterNotFoundException",
         "Cluster not found."),
        ("DescribeContainerInstances", 400, "AccessDeniedException",
         "User is not authorized to perform ecs:DescribeContainerInstances"),
    ]
    for action, status, type_, msg in cases:
        sync.ecs.state.inject.append((action, status, type_, msg))
        rc, out, err = sync.run("discover")
        assert rc == 2, out
        assert type_ in err and "stays as it was" in err
        assert path.read_bytes() == before
    # a malformed answer, and an EC2 failure, keep it too
    sync.ecs.state.raw["ListContainerInstances"] = '{"containerInstanceArns": 7}'
    rc, out, err = sync.run("discover")
    assert rc == 2 and "malformed answer" in err
    sync.ec2.state.inject.append(("DescribeInstances", 400,
                                  "UnauthorizedOperation", "not allowed"))
    rc, out, err = sync.run("discover")
    assert rc == 2 and "UnauthorizedOperation" in err
    assert path.read_bytes() == before
    # apply reports the discovery failure but still keeps the firewalls
    sync.ecs.state.inject.append(("ListContainerInstances", 400,
                                  "ClusterNotFoundException", "gone"))
    rc, out, err = sync.run("apply")
    assert rc == 2 and "ClusterNotFoundException" in err
    assert sync.ec2.state.cidrs(SG_SSH) == WANT_SSH
    assert path.read_bytes() == before
    # a broken file is a policy error everywhere, named with its path
    path.write_text('{"target": "ecs-prod", "members": [')
    rc, out, err = sync.env.run("policy", "check")
    assert rc == 1 and "ecs-prod.discovered.json" in err
    assert "not valid JSON" in err


def test_throttled_ecs_recovers(sync_ecs):
    sync = sync_ecs
    path = setup_cluster(sync)
    est = sync.ecs.state
    est.inject += [("ListContainerInstances", 400, "ThrottlingException",
                    "Rate exceeded")] * 2
    est.inject.append(("DescribeContainerInstances", 500, "ServerException",
                       "Service unavailable"))
    rc, out, err = sync.run("discover")
    assert rc == 0, err
    assert len(json.loads(path.read_text())["members"]) == 5
    assert est.inject == []
    # 3 pages plus the 2 throttled attempts
    assert est.count("ListContainerInstances") == 5
    assert est.count("DescribeContainerInstances") == 2


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scrape(url):
    """{(name, frozenset(labels)): value}, and the HELP and TYPE names."""
    with urllib.request.urlopen(url, timeout=5) as r:
        assert r.status == 200
        text = r.read().decode()
    samples, helps, types = {}, set(), set()
    for line in text.splitlines():
        if line.startswith("# HELP "):
            helps.add(line.split()[2])
        elif line.startswith("# TYPE "):
            types.add(line.split()[2])
        elif line and not line.startswith("#"):
            head, value = line.rsplit(" ", 1)
            name, _, rest = head.partition("{")
            labels = frozenset(
                tuple(kv.split("=", 1)) for kv in rest.rstrip("}").split(",")
                if kv) if rest else frozenset()
            samples[(name, labels)] = float(value)
    return samples, helps, types


def value(samples, name, **labels):
    want = frozenset((k, f'"{v}"') for k, v in labels.items())
    return samples.get((name, want))


def wait_for(pred, timeout=20):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        r = pred()
        if r:
            return r
        time.sleep(0.1)
    return None


def test_run_serves_metrics_and_logs_verified_events(sync_ecs):
    sync = sync_ecs
    path = setup_cluster(sync)
    env = sync.env
    audit = env.root / "audit"
    audit.mkdir()
    key = env.root / "audit_ed25519.pem"
    port = free_port()
    sync.config(top=f"audit: {{dir: {audit}, signing_key: {key}}}\n",
                extra=f'  metrics: {{listen: "127.0.0.1:{port}"}}\n')
    rc, out, err = env.run("audit", "keygen")
    assert rc == 0, err
    url = f"http://127.0.0.1:{port}/metrics"
    e = env.base_env()
    e.update(sync.vars)
    p = subprocess.Popen([str(env.bin), "-c", str(env.config), "sync", "run"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env=e)
    try:
        def one_success():
            try:
                s, _, _ = scrape(url)
            except OSError:
                return None
            v = value(s, "jumpgate_sync_runs_total", result="success")
            return s if v and v >= 1 else None

        samples = wait_for(one_success)
        assert samples is not None, "no successful round in time"
        _, helps, types = scrape(url)
        with urllib.request.urlopen(url.replace("/metrics", "/other"),
                                    timeout=5) as r:
            assert False, f"/other answered {r.status}"
    except urllib.error.HTTPError as x:
        assert x.code == 404
    finally:
        p.send_signal(signal.SIGTERM)
        try:
            out, err = p.communicate(timeout=15)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
    assert p.returncode == 0, err
    names = {n for n, _ in samples}
    assert names == METRICS
    assert helps == METRICS and types == METRICS
    n_add = len(WANT_SSH) + len(WANT_GRAFANA)
    assert value(samples, "jumpgate_sync_changes_total", provider="aws",
                 op="add") == n_add
    assert value(samples, "jumpgate_sync_changes_total", provider="aws",
                 op="remove") == 0
    assert value(samples, "jumpgate_sync_errors_total", provider="aws") == 0
    assert value(samples, "jumpgate_sync_runs_total", result="failure") == 0
    assert value(samples, "jumpgate_sync_discovered_targets",
                 target="ecs-prod") == 5
    last = value(samples, "jumpgate_sync_last_success_timestamp_seconds")
    assert abs(last - time.time()) < 600
    assert value(samples, "jumpgate_sync_last_run_duration_seconds") >= 0
    assert value(samples, "jumpgate_build_info",
                 version=env.run("--version")[1].split()[1]) == 1
    assert path.exists()

    evs = []
    for f in sorted((audit / "events").glob("*.jsonl")):
        evs += [json.loads(line) for line in f.read_text().splitlines()]
    applied = [x for x in evs if x["type"] == "sync.apply"]
    assert len(applied) == n_add
    got = sorted((x["resource"], x["cidr"], x["port"]) for x in applied)
    want = sorted([(SG_SSH, c, p) for c, p in WANT_SSH] +
                  [(SG_GRAFANA, c, p) for c, p in WANT_GRAFANA])
    assert got == want
    for x in applied:
        assert x["provider"] == "aws" and x["op"] == "add"
        assert x["exposure"] in ("jump-ssh", "grafana")
        assert x["description"].startswith("jumpgate:")
        assert x["already"] is False
    raw = "".join(f.read_text() for f in (audit / "events").glob("*"))
    assert SECRET not in raw and "AKID" not in raw
    rc, out, err = env.run("audit", "verify", "--all")
    assert rc == 0, out + err


def test_failures_are_sync_error_events(sync_ecs):
    sync = sync_ecs
    setup_cluster(sync)
    env = sync.env
    audit = env.root / "audit"
    audit.mkdir()
    sync.config(top=f"audit: {{dir: {audit}}}\n")
    sync.ecs.state.inject.append(("ListContainerInstances", 400,
                                  "ClusterNotFoundException", "gone"))
    sync.ec2.state.inject.append(("AuthorizeSecurityGroupIngress", 400,
                                  "InvalidGroup.NotFound", "no such group"))
    rc, out, err = sync.run("apply")
    assert rc == 2
    evs = []
    for f in sorted((audit / "events").glob("*.jsonl")):
        evs += [json.loads(line) for line in f.read_text().splitlines()]
    errs = [x for x in evs if x["type"] == "sync.error"]
    assert [x["step"] for x in errs] == [
        "discovery of ecs-prod (ECS cluster prestashop-prod)", "apply"]
    assert all(x["provider"] == "aws" for x in errs)
    assert "ClusterNotFoundException" in errs[0]["reason"]
    assert "InvalidGroup.NotFound" in errs[1]["reason"]
    assert not [x for x in evs if x["type"] == "sync.apply"]
    assert SECRET not in "".join(json.dumps(x) for x in evs)
