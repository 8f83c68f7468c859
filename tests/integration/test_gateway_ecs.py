# SPDX-License-Identifier: Apache-2.0
# tests/integration/test_gateway_ecs.py - an ECS-discovered member at the
# gateway: `jumpgate sync discover` (through the fake ECS and EC2) finds an
# "instance" whose private address is 127.0.0.5, where an OpenSSH sshd
# listens; the member is in the target list and the menu instead of its
# discovering target, a session to it (by instance id and by alias) runs, and a member
# discovery did not find is refused as an unknown target.
import json
import subprocess
import sys

import pexpect
from pathlib import Path

from gw_fixtures import *  # noqa: F401,F403
from gw_fixtures import (JUMPGATE, free_port, gateway_events, keygen, policy_text,
                         sshd_argv, stop, wait_for, wait_port)

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" /
                       "fakes"))
import fake_ec2  # noqa: E402
import fake_ecs  # noqa: E402

IP = "127.0.0.5"
IID = "i-0a5a5a5a5a5a5a5a5"
KEY, SECRET = "AKIDJUMPGATETEST0002", "gatewayEcsTestSecretKey0000000000000000"


def start_instance(base, upstream_pub):
    """An sshd on IP, standing in for the container instance."""
    d = base / "instance"
    d.mkdir()
    port = free_port()
    hostkey = d / "hostkey"
    keygen(hostkey)
    ak = d / "authorized_keys"
    ak.write_text(upstream_pub + "\n")
    cfg = d / "sshd_config"
    cfg.write_text(f"""\
Port {port}
ListenAddress {IP}
HostKey {hostkey}
PidFile {d}/pid
AuthorizedKeysFile {ak}
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
LogLevel ERROR
""")
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    log = open(d / "log", "w")
    proc = subprocess.Popen(sshd_argv(cfg), stdout=log, stderr=subprocess.STDOUT)
    log.close()
    wait_port(port, host=IP, proc=proc)
    hostpub = Path(str(hostkey) + ".pub").read_text().strip()
    return proc, port, hostpub


def discover(gwdir, port):
    """Runs `jumpgate sync discover` against the fakes for the policy in
    gwdir; the one instance has private address IP."""
    est = fake_ecs.State()
    est.add_creds(KEY, SECRET)
    est.add_cluster("shop")
    est.add_instance("shop", IID)
    cst = fake_ec2.State()
    cst.add_creds(KEY, SECRET)
    cst.add_instance(IID, IP, name="shop-a")
    ecs, ec2 = fake_ecs.start(est), fake_ec2.start(cst)
    try:
        cfg = gwdir / "sync.yaml"
        cfg.write_text(f"policy: {gwdir}/policy.yaml\n"
                       "sync: {aws: {region: eu-west-1}}\n")
        env = {"PATH": "/usr/bin:/bin", "HOME": str(gwdir),
               "AWS_ACCESS_KEY_ID": KEY, "AWS_SECRET_ACCESS_KEY": SECRET,
               "AWS_SHARED_CREDENTIALS_FILE": str(gwdir / "none"),
               "AWS_EC2_METADATA_DISABLED": "true",
               "AWS_ENDPOINT_URL_ECS": ecs.url,
               "AWS_ENDPOINT_URL_EC2": ec2.url}
        r = subprocess.run([str(JUMPGATE), "-c", str(cfg), "sync", "discover"],
                           capture_output=True, text=True, env=env,
                           timeout=60)
        assert r.returncode == 0, r.stderr
        assert "ecs-prod: 1 member" in r.stdout
    finally:
        ecs.close()
        ec2.close()


def test_member_listed_and_reachable(gw_env, make_gateway, tmp_path):
    proc, port, hostpub = start_instance(tmp_path, gw_env.identity_pub)
    try:
        with open(gw_env.known_hosts, "a") as f:
            f.write(f"[{IP}]:{port} {hostpub}\n")
        text = policy_text(
            gw_env, targets_extra=(
                "  ecs-prod: {kind: ssh, labels: {tier: ecs},\n"
                f"             discover: {{ecs_cluster: shop, port: {port}}}}}\n"))
        gwdir = tmp_path / "gw0"      # where make_gateway puts its files
        gwdir.mkdir()
        (gwdir / "policy.yaml").write_text(text)
        discover(gwdir, port)
        gw = make_gateway(text)
        assert gw.dir == gwdir

        r = gw.ssh("alice", "uptime")
        out = r.stdout.decode()
        assert r.returncode == 1 and f"ecs-prod/{IID}" in out, r
        lines = [l.split()[0] for l in out.splitlines() if l.startswith("  ")]
        assert "ecs-prod" not in lines and "web-1" in lines
        # by its alias, with the instance it is now
        assert f"ecs-prod/shop-a (ecs-prod/{IID})" in out, out

        # ... and in the interactive menu
        child = pexpect.spawn(gw.ssh_args("alice", extra=["-tt"])[0],
                              gw.ssh_args("alice", extra=["-tt"])[1:],
                              timeout=15, dimensions=(24, 100))
        try:
            # by its alias, with the instance it is now
            child.expect_exact(f"ecs-prod/shop-a ({IID})")
            child.send("q")
            child.expect(pexpect.EOF)
        finally:
            child.close(force=True)

        r = gw.ssh(f"alice:ecs-prod/{IID}", "echo", "on-the-instance")
        assert r.returncode == 0, r
        assert r.stdout == b"on-the-instance\n"
        r = gw.ssh("alice:ecs-prod/shop-a", "id", "-un")
        assert r.returncode == 0 and r.stdout == b"root\n", r
        # Recorded under the alias, with the instance and its address, and
        # found by either.
        starts = wait_for(lambda: [e for e in gateway_events(gw)
                                   if e["type"] == "session.start" and
                                   e["target"] == "ecs-prod/shop-a"],
                          what="session.start by alias")
        assert starts[0]["target_id"] == f"ecs-prod/{IID}"
        assert starts[0]["address"] == f"{IP}:{port}"
        r = subprocess.run([str(JUMPGATE), "-c", str(gw.config), "audit",
                            "list", "--json", "--target", "ecs-prod/i-0a5a*"],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        rows = {x["id"]: x for x in json.loads(r.stdout)}
        sid = starts[0]["session"]
        assert rows[sid]["target"] == "ecs-prod/shop-a"
        assert rows[sid]["target_id"] == f"ecs-prod/{IID}"
        assert rows[sid]["address"] == f"{IP}:{port}"

        r = gw.ssh("alice:ecs-prod/i-0000000000000dead", "true")
        assert r.returncode == 1
        assert b"denied" in r.stderr
        assert gw.wait_log("unknown target 'ecs-prod/i-0000000000000dead'")
    finally:
        stop(proc)
