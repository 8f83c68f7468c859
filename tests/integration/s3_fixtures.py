# SPDX-License-Identifier: Apache-2.0
# tests/integration/s3_fixtures.py - fixtures for the `jumpgate audit ship`
# tests: s3rver (the S3 store from npm, installed by tests/tools/deps.sh)
# on 127.0.0.1 in a temporary folder per test module, the signature-checking
# fake S3 of tests/fakes, an audit folder with a configuration that ships it,
# and reading objects back with a GET signed by botocore.
import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "fakes"))

import fake_s3 as fake_s3_api  # noqa: E402

S3RVER = ROOT / "tests" / "tools" / "node_modules" / "s3rver" / "bin" / "s3rver.js"
BUCKET = "shop-audit"
PREFIX = "jump-1/"
REGION = "eu-west-1"
S3RVER_KEY = "S3RVER"         # s3rver's built-in account
FAKE_KEY = "AKIDJUMPGATES3TEST01"
FAKE_SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYzzS3TESTKEY"
DAY_US = 86400 * 1000000


class S3rver:
    """One s3rver process; stop() and start() keep its port and folder."""

    def __init__(self, base):
        self.dir = base / "s3rver-data"
        self.dir.mkdir()
        self.port = 0
        self.proc = None
        self.start()

    def start(self):
        node = shutil.which("node") or shutil.which("nodejs")
        assert node, "node is not installed (tests/tools/deps.sh)"
        assert S3RVER.is_file(), f"{S3RVER} missing (tests/tools/deps.sh)"
        self.proc = subprocess.Popen(
            [node, str(S3RVER), "-d", str(self.dir), "-a", "127.0.0.1",
             "-p", str(self.port), "--silent", "--no-vhost-buckets",
             "--allow-mismatched-signatures", "--configure-bucket", BUCKET],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            m = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
            if m:
                self.port = int(m.group(1))
                self.url = f"http://127.0.0.1:{self.port}"
                return
        self.stop()
        pytest.fail("s3rver did not start")

    def stop(self):
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
            self.proc.stdout.close()
            self.proc = None


@pytest.fixture(scope="module")
def s3rver(tmp_path_factory):
    srv = S3rver(tmp_path_factory.mktemp("s3rver"))
    yield srv
    srv.stop()


@pytest.fixture
def fake_s3():
    st = fake_s3_api.State(region=REGION)
    st.add_creds(FAKE_KEY, FAKE_SECRET)
    st.buckets.add(BUCKET)
    srv = fake_s3_api.start(st)
    yield srv
    srv.close()


def s3_get(url, key, key_id=S3RVER_KEY, secret=S3RVER_KEY):
    """GetObject path-style from url, signed by botocore: bytes, or None
    when there is no such key."""
    full = f"{url}/{BUCKET}/{key}"
    req = AWSRequest(method="GET", url=full,
                     headers={"x-amz-content-sha256":
                              hashlib.sha256(b"").hexdigest()})
    S3SigV4Auth(Credentials(key_id, secret), "s3", REGION).add_auth(req)
    r = urllib.request.Request(full, headers=dict(req.headers.items()))
    try:
        with urllib.request.urlopen(r, timeout=30) as f:
            return f.read()
    except urllib.error.HTTPError as e:
        if e.code == 404:
            return None
        raise


def s3_put(url, key, body, key_id=S3RVER_KEY, secret=S3RVER_KEY):
    """PutObject path-style to url, signed by botocore."""
    full = f"{url}/{BUCKET}/{key}"
    req = AWSRequest(method="PUT", url=full, data=body,
                     headers={"x-amz-content-sha256":
                              hashlib.sha256(body).hexdigest()})
    S3SigV4Auth(Credentials(key_id, secret), "s3", REGION).add_auth(req)
    r = urllib.request.Request(full, data=body, method="PUT",
                               headers=dict(req.headers.items()))
    with urllib.request.urlopen(r, timeout=30) as f:
        f.read()


class ShipEnv:
    """An AuditEnv (audit_fixtures.py) whose configuration ships to S3."""

    def __init__(self, audit, url, key_id, secret, part_size=8, prefix=PREFIX):
        self.audit = audit
        self.env = audit.env
        self.url = url
        self.vars = {
            "AWS_ACCESS_KEY_ID": key_id,
            "AWS_SECRET_ACCESS_KEY": secret,
            "AWS_SESSION_TOKEN": "",
            "AWS_PROFILE": "",
            "AWS_SHARED_CREDENTIALS_FILE": str(self.env.root / "no-creds"),
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:9/",
            "AWS_ENDPOINT_URL": "",
            "AWS_ENDPOINT_URL_S3": url,
            "AWS_REGION": "",
            "AWS_DEFAULT_REGION": "",
            "HOME": str(self.env.root),
            "http_proxy": "", "https_proxy": "", "HTTP_PROXY": "",
            "HTTPS_PROXY": "", "ALL_PROXY": "", "all_proxy": "",
        }
        self.config(part_size=part_size, prefix=prefix)

    def config(self, part_size=8, prefix=PREFIX, s3=True):
        text = ("policy: policy.yaml\n"
                "audit:\n"
                f"  dir: {self.audit.dir}\n"
                f"  signing_key: {self.audit.key}\n")
        if s3:
            text += (f"  s3: {{bucket: {BUCKET}, prefix: {prefix}, "
                     f"region: {REGION}, part_size: {part_size}}}\n")
        text += "sync:\n  interval: 1s\n"
        self.env.config.write_text(text)

    def ship(self, *args, env=None):
        e = dict(self.vars)
        e.update(env or {})
        return self.env.run("audit", "ship", *args, env=e)

    def state_lines(self):
        p = self.audit.dir / "ship" / "state"
        return p.read_text().splitlines() if p.exists() else []

    def now_us(self):
        return int(time.time() * 1000000)

    def past_day(self, days=3, events=3):
        """Event-log lines on a day `days` ago, sealed at its end; returns
        the day file."""
        t = (self.now_us() // DAY_US - days) * DAY_US + 3600 * 1000000
        for i in range(events):
            self.audit.event(t + i * 1000000, type="auth.success",
                             user="alice", reason=f"event {i}")
        self.audit.seal(t + events * 1000000)
        day = time.strftime("%Y-%m-%d", time.gmtime(t // 1000000))
        return self.audit.dir / "events" / f"{day}.jsonl"

    def today_event(self):
        self.audit.event(self.now_us(), type="auth.success", user="bob")

    def rel(self, path):
        return str(Path(path).relative_to(self.audit.dir))


def events_of(audit_dir, type_):
    import json
    out = []
    for f in sorted((Path(audit_dir) / "events").glob("*.jsonl")):
        for line in f.read_text().splitlines():
            ev = json.loads(line)
            if ev.get("type") == type_:
                out.append(ev)
    return out


def file_sha(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


os.environ.setdefault("NODE_NO_WARNINGS", "1")
