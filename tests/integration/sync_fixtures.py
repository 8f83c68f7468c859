# SPDX-License-Identifier: Apache-2.0
# tests/integration/sync_fixtures.py - fixtures for the `jumpgate sync` tests:
# the fake EC2, ECS, IMDS and Cloudflare servers on 127.0.0.1 and the
# environment that points jumpgate at them (never at a real endpoint).
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "fakes"))

import fake_ec2  # noqa: E402
import fake_ecs  # noqa: E402
import fake_cloudflare  # noqa: E402
import fake_imds  # noqa: E402

KEY = "AKIDJUMPGATETEST0001"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYzzTESTKEY"
REGION = "eu-west-1"
SG_SSH = "sg-0a1b2c3d"
SG_GRAFANA = "sg-0e5f6a7b"

# BASE_POLICY's exposure sets now (conftest.py): every active user for
# jump-ssh, group ops for grafana.
WANT_SSH = sorted([("100.64.0.0/24", 22), ("198.18.0.0/23", 22),
                   ("198.51.100.0/24", 22), ("203.0.113.0/24", 22),
                   ("2001:db8::/48", 22)])
WANT_GRAFANA = sorted([("198.18.0.0/23", 3000), ("203.0.113.0/24", 3000),
                       ("2001:db8::/48", 3000)])

CONFIG = """\
policy: policy.yaml
sync:
  interval: 60s
  aws: {{region: {region}}}
  max_removals: {max_removals}
"""


@pytest.fixture
def ec2():
    st = fake_ec2.State(region=REGION)
    st.add_creds(KEY, SECRET)
    st.add_group(SG_SSH)
    st.add_group(SG_GRAFANA)
    srv = fake_ec2.start(st)
    yield srv
    srv.close()


@pytest.fixture
def ecs():
    st = fake_ecs.State(region=REGION)
    st.add_creds(KEY, SECRET)
    srv = fake_ecs.start(st)
    yield srv
    srv.close()


@pytest.fixture
def cf():
    srv = fake_cloudflare.start(fake_cloudflare.State())
    yield srv
    srv.close()


@pytest.fixture
def imds():
    st = fake_imds.State()
    srv = fake_imds.start(st)
    yield srv
    srv.close()


class SyncEnv:
    """Runs `jumpgate sync ...` in a conftest Env against the fakes."""

    def __init__(self, env, ec2, cf=None, ecs=None):
        self.env = env
        self.ec2 = ec2
        self.cf = cf
        self.ecs = ecs
        self.vars = {
            "AWS_ACCESS_KEY_ID": KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET,
            "AWS_SESSION_TOKEN": "",
            "AWS_PROFILE": "",
            "AWS_SHARED_CREDENTIALS_FILE": str(env.root / "no-aws-credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:9/",
            "AWS_ENDPOINT_URL": "",
            "AWS_ENDPOINT_URL_EC2": ec2.url,
            "AWS_ENDPOINT_URL_ECS": ecs.url if ecs else "http://127.0.0.1:9/",
            "AWS_REGION": "",
            "AWS_DEFAULT_REGION": "",
            "HOME": str(env.root),
            "http_proxy": "", "https_proxy": "", "HTTP_PROXY": "",
            "HTTPS_PROXY": "", "ALL_PROXY": "", "all_proxy": "",
        }
        self.config(max_removals=10)
        if cf is None:
            # AWS-only tests: drop the Cloudflare exposure of BASE_POLICY.
            text = env.policy.read_text()
            cut = text.find("  - name: shop-admin")
            if cut >= 0:
                env.policy.write_text(text[:cut])

    def config(self, max_removals=10, extra="", top=""):
        if self.cf is not None and not extra:
            tok = self.env.root / "cloudflare.token"
            tok.write_text(self.cf.state.token + "\n")
            tok.chmod(0o600)
            extra = ("  cloudflare: {account_id: %s, api_token_file: %s, "
                     "api_base: \"%s/client/v4\"}\n"
                     % (self.cf.state.account, tok, self.cf.url))
        self.env.config.write_text(
            top + CONFIG.format(region=REGION, max_removals=max_removals) +
            extra)

    def run(self, *args, **kw):
        e = dict(self.vars)
        e.update(kw.pop("env", {}) or {})
        return self.env.run("sync", *args, env=e, **kw)


@pytest.fixture
def sync(env, ec2):
    return SyncEnv(env, ec2)


@pytest.fixture
def sync_cf(env, ec2, cf):
    return SyncEnv(env, ec2, cf)


@pytest.fixture
def sync_ecs(env, ec2, ecs):
    return SyncEnv(env, ec2, ecs=ecs)
