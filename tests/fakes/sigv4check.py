# SPDX-License-Identifier: Apache-2.0
# tests/fakes/sigv4check.py - checks a received request's SigV4 signature by
# recomputing it with botocore (an implementation independent of libcurl's)
# from the method, URL, signed headers, body and the request's X-Amz-Date.
import hmac
import re

from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

AUTH_RE = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/"
    r"(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request, "
    r"SignedHeaders=(?P<signed>[a-z0-9;-]+), Signature=(?P<sig>[0-9a-f]{64})$")


class SigError(Exception):
    """The request's signature is missing or wrong; str() says why."""


def check(method, host, path, headers, body, creds, service, region):
    """creds: {access key id: (secret, session token or None)}. headers: a
    list of (name, value) as received. Raises SigError, or returns the key
    id that signed."""
    auth = [v for k, v in headers if k.lower() == "authorization"]
    if len(auth) != 1:
        raise SigError("missing or repeated Authorization header")
    m = AUTH_RE.match(auth[0])
    if not m:
        raise SigError("Authorization header is not AWS4-HMAC-SHA256")
    if m["key"] not in creds:
        raise SigError("unknown access key id")
    secret, token = creds[m["key"]]
    if m["service"] != service or m["region"] != region:
        raise SigError(f"credential scope {m['region']}/{m['service']}, "
                       f"expected {region}/{service}")
    signed = m["signed"].split(";")
    by_name = {}
    for k, v in headers:
        by_name.setdefault(k.lower(), []).append(v)
    for need in ("host", "x-amz-date"):
        if need not in signed:
            raise SigError(f"{need} is not signed")
    dates = by_name.get("x-amz-date", [])
    if len(dates) != 1:
        raise SigError("missing or repeated X-Amz-Date header")
    if not dates[0].startswith(m["date"]):
        raise SigError("X-Amz-Date does not match the credential scope date")
    if token is not None:
        if by_name.get("x-amz-security-token") != [token]:
            raise SigError("missing or wrong X-Amz-Security-Token")
        if "x-amz-security-token" not in signed:
            raise SigError("x-amz-security-token is not signed")
    sign_headers = {}
    for name in signed:
        vals = by_name.get(name)
        if vals is None:
            raise SigError(f"signed header {name} not sent")
        sign_headers[name] = ",".join(vals)
    req = AWSRequest(method=method, url=f"http://{host}{path}",
                     data=body, headers=sign_headers)
    req.context["timestamp"] = dates[0]
    # S3 signs the path as sent (no normalising, no second encoding).
    cls = S3SigV4Auth if service == "s3" else SigV4Auth
    signer = cls(Credentials(m["key"], secret, token), service, region)
    canonical = signer.canonical_request(req)
    sts = signer.string_to_sign(req, canonical)
    want = signer.signature(sts, req)
    if not hmac.compare_digest(want, m["sig"]):
        raise SigError("signature mismatch")
    return m["key"]
