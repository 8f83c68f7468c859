# SPDX-License-Identifier: Apache-2.0
# tests/integration/conftest.py - fixtures for the integration tests: the
# jumpgate binary from $JG_BUILD, real SSH test keys, and a throw-away
# configuration + policy folder with a helper to run the CLI in it.
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]

# A policy shaped like the example policy. Key lines are filled in per run.
BASE_POLICY = """\
version: 1
users:
  alice:
    keys: ["{alice}"]
    groups: [ops]
    from: [203.0.113.0/24, "2001:db8::/48"]
  bob:
    keys: ["{bob}"]
    groups: [contractors]
    from: [198.51.100.0/24]
  carol:
    keys: ["{carol}"]
    groups: [ops]
    from: [203.0.113.128/25, 198.18.0.0/24, 198.18.1.0/24]
  dave:
    keys: ["{dave}"]
    groups: [ops]
    from: [192.0.2.64/26]
    expires: 2020-01-01T00:00:00Z
  erin:
    keys: ["{erin}"]
    groups: [auditors]
    from: [100.64.0.0/24]
    expires: 2099-01-01T00:00:00Z
targets:
  web-1:    {kind: ssh, address: "10.0.1.11:22", labels: {env: prod, tier: ecs}}
  monitor:  {kind: ssh, address: "10.0.2.10:22", labels: {tier: monitoring}}
  grafana:  {kind: tcp, address: "10.0.2.10:3000", labels: {tier: monitoring}}
  rds-prod: {kind: tcp, address: "shop.abc.eu-west-1.rds.amazonaws.com:3306", protocol: mysql}
rules:
  - name: ops-prod-shell
    groups: [ops]
    targets: ["tier=ecs", monitor]
    allow: [shell, exec, sftp]
    logins: [ec2-user]
    when: "Mon-Fri 07:00-21:00 Europe/Madrid"
    max_session: 4h
  - name: grafana-forward
    groups: [ops, contractors]
    targets: [grafana]
    allow: [forward]
  - name: weekend-freeze
    effect: deny
    groups: [contractors]
    when: "Sat-Sun"
exposure:
  - {name: jump-ssh, port: 22, sources: users, aws_security_group: sg-0a1b2c3d}
  - {name: grafana, port: 3000, sources: "group:ops", aws_security_group: sg-0e5f6a7b}
  - name: shop-admin
    sources: "group:ops"
    cloudflare: {list: jumpgate_admin_ips, zone_id: "023e105f4ecef8ad9ca31a8372d0c353",
                 host: shop.example.com, path_prefix: /admin}
"""

USERS = ("alice", "bob", "carol", "dave", "erin")


def makefile_version():
    """VERSION as the Makefile defines it (what JG_VERSION is built from)."""
    m = re.search(r"^VERSION\s*:?=\s*(\S+)", (ROOT / "Makefile").read_text(),
                  re.M)
    assert m, "no VERSION in the Makefile"
    return m.group(1)


@pytest.fixture(scope="session")
def jg_bin():
    build = os.environ.get("JG_BUILD")
    assert build, "JG_BUILD must name the build folder (run via make integration)"
    path = Path(build) / "jumpgate"
    assert path.is_file() and os.access(path, os.X_OK), f"{path} not built"
    return path


@pytest.fixture(scope="session")
def keys(tmp_path_factory):
    """name -> OpenSSH public key line, from real ed25519 keys."""
    d = tmp_path_factory.mktemp("keys")
    out = {}
    for name in USERS + ("frank",):
        f = d / name
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C",
                        f"{name}@test", "-f", str(f)], check=True)
        out[name] = (d / f"{name}.pub").read_text().strip()
    return out


class Env:
    """A configuration and policy folder, and a way to run jumpgate in it."""

    def __init__(self, root, binary, keys):
        self.root = root
        self.bin = binary
        self.keys = keys
        self.config = root / "jumpgate.yaml"
        self.policy = root / "policy.yaml"
        self.policy_d = root / "policy.d"
        # A control socket of its own: `policy grant/revoke` tell a running
        # jumpgated, and none runs here.
        self.control_socket = root / "control.sock"
        self.config.write_text("policy: policy.yaml\n"
                               f"control_socket: {self.control_socket}\n")

    def fill(self, text):
        """Replaces {NAME} with NAME's public key line (other braces, YAML
        flow mappings, stay as they are)."""
        for name, key in self.keys.items():
            text = text.replace("{" + name + "}", key)
        return text

    def write_policy(self, text):
        self.policy.write_text(self.fill(text))

    def write_dropin(self, name, text):
        self.policy_d.mkdir(exist_ok=True)
        p = self.policy_d / name
        p.write_text(self.fill(text))
        return p

    def base_env(self):
        env = dict(os.environ)
        # Nothing from the machine: a config only when a test names one.
        env["JUMPGATE_CONFIG"] = str(self.root / "no-such-config.yaml")
        env["LC_ALL"] = "C.UTF-8"
        return env

    def run(self, *args, config=True, env=None, stdin=None):
        """Runs jumpgate [-c CONFIG] ARGS; returns (rc, stdout, stderr)."""
        cmd = [str(self.bin)]
        if config:
            cmd += ["-c", str(self.config)]
        cmd += [str(a) for a in args]
        e = self.base_env()
        if env:
            e.update(env)
        p = subprocess.run(cmd, capture_output=True, text=True, env=e,
                           input=stdin, timeout=60)
        return p.returncode, p.stdout, p.stderr

    def popen(self, *args, text=True):
        cmd = [str(self.bin), "-c", str(self.config)] + [str(a) for a in args]
        return subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=text,
                                env=self.base_env())

    def policy_data(self):
        return yaml.safe_load(self.policy.read_text())

    def dropins(self):
        if not self.policy_d.is_dir():
            return []
        return sorted(p.name for p in self.policy_d.iterdir())


@pytest.fixture
def env(tmp_path, jg_bin, keys):
    """A folder with jumpgate.yaml and BASE_POLICY as policy.yaml."""
    e = Env(tmp_path, jg_bin, keys)
    e.write_policy(BASE_POLICY)
    return e
