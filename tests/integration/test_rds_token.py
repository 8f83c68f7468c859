# SPDX-License-Identifier: Apache-2.0
# tests/integration/test_rds_token.py - the RDS IAM authentication token
# jumpgate makes for a MySQL target with `auth: {iam: ...}`
# (sync/rds_token.c, printed by the test tool jg_rdstoken) is byte for
# byte what botocore's generate_db_auth_token makes for the same
# credentials, database, user, region and time.
import datetime
import os
import subprocess
from pathlib import Path
from unittest import mock

import botocore.session as botocore_session
import pytest

TOOL = Path(os.environ.get("JG_BUILD", "../../build")) / "tests" / "tools" / "jg_rdstoken"

CASES = [
    # host, port, user, region, time, key, secret, session token
    ("shop.abc.eu-west-1.rds.amazonaws.com", 3306, "app_ro", "eu-west-1",
     datetime.datetime(2026, 12, 6, 7, 0, 0), "AKIDEXAMPLE",
     "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "FwoGZXIvYXdzE+/=token"),
    ("shop.abc.eu-west-1.rds.amazonaws.com", 3306, "app_ro", "eu-west-1",
     datetime.datetime(2026, 12, 6, 7, 0, 0), "AKIDEXAMPLE",
     "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", None),
    ("db-2.cluster-xyz.us-east-1.rds.amazonaws.com", 3307, "ops+admin@shop",
     "us-east-1", datetime.datetime(2027, 2, 28, 23, 59, 59), "ASIAXYZ",
     "s3cr3t/with+odd=chars", "tok en"),
    ("127.0.0.1", 13306, "j\u00fcrgen", "ap-southeast-2",
     datetime.datetime(2026, 1, 1, 0, 0, 0), "AKID2", "x", None),
]


def botocore_token(host, port, user, region, when, key, secret, token):
    s = botocore_session.get_session()
    s.set_credentials(key, secret, token)
    c = s.create_client("rds", region_name=region)
    with mock.patch("botocore.auth.datetime") as dt:
        dt.datetime.utcnow.return_value = when
        return c.generate_db_auth_token(host, port, user, Region=region)


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[2]}@{c[0]}")
def test_token_is_botocores(case):
    host, port, user, region, when, key, secret, token = case
    unix = int(when.replace(tzinfo=datetime.timezone.utc).timestamp())
    args = [str(TOOL), host, str(port), user, region, str(unix), key, secret]
    if token is not None:
        args.append(token)
    r = subprocess.run(args, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    want = botocore_token(*case)
    assert r.stdout.strip() == want


def test_missing_user_is_refused():
    r = subprocess.run([str(TOOL), "h", "3306", "", "eu-west-1", "0", "k", "s"],
                       capture_output=True, text=True)
    assert r.returncode == 1 and "refused" in r.stderr
