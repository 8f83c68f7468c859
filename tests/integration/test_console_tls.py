# SPDX-License-Identifier: Apache-2.0
# tests/integration/test_console_tls.py - the auditors' console over HTTPS
# (audit.console.tls_cert and tls_key): it answers TLS only, with HSTS, and
# its session cookie is Secure as well as HttpOnly and SameSite=Strict; a
# key that does not load stops it with a message naming the setting.
import http.client
import ssl
import subprocess

import pytest

from audit_fixtures import AuditEnv, rec_driver  # noqa: F401
from gw_fixtures import wait_for
from test_console import PASSWORD, Console, totp


@pytest.fixture(scope="module")
def tls_console(tmp_path_factory, jg_bin, keys, rec_driver):  # noqa: F811
    from conftest import Env
    env = Env(tmp_path_factory.mktemp("console-tls"), jg_bin, keys)
    audit = AuditEnv(env, rec_driver)
    audit.record([(0.1, "o", "hello\r\n")])
    audit.finish()
    c = Console(env, audit)
    cert, key = env.root / "console.crt", env.root / "console.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext",
                    "subjectAltName=IP:127.0.0.1", "-keyout", str(key),
                    "-out", str(cert)], check=True, capture_output=True)
    key.chmod(0o600)
    cfg = env.config.read_text()
    assert "session_timeout: 10m}" in cfg
    env.config.write_text(cfg.replace(
        "session_timeout: 10m}",
        f"session_timeout: 10m, tls_cert: {cert}, tls_key: {key}}}"))
    c.cert, c.key = cert, key
    c.start()
    yield c
    c.stop()


def https(c, path, body=None):
    ctx = ssl.create_default_context(cafile=str(c.cert))
    conn = http.client.HTTPSConnection("127.0.0.1", c.port, context=ctx,
                                       timeout=30)
    hdrs = {"Content-Type": "application/x-www-form-urlencoded"} if body else {}
    conn.request("POST" if body else "GET", path, body=body, headers=hdrs)
    r = conn.getresponse()
    out = (r.status, r.getheaders(), r.read())
    conn.close()
    return out


def test_https_only_with_hsts_and_secure_cookie(tls_console):
    c = tls_console
    st, h, body = https(c, "/signin")
    assert st == 200 and b"signin" in body
    assert dict(h)["Strict-Transport-Security"].startswith("max-age=")
    # plain HTTP on the same port gets no page
    conn = http.client.HTTPConnection("127.0.0.1", c.port, timeout=10)
    try:
        conn.request("GET", "/signin")
        page = conn.getresponse().read()
    except (http.client.HTTPException, OSError):
        page = b""
    conn.close()
    assert b"signin" not in page
    form = f"account=carol&password={PASSWORD.replace(' ', '+')}&code={totp()}"
    st, h, _ = https(c, "/signin", form.encode())
    assert st == 303, h
    cookie = [v for k, v in h if k.lower() == "set-cookie"][0]
    attrs = {a.strip().split("=")[0] for a in cookie.split(";")[1:]}
    assert {"Secure", "HttpOnly", "SameSite"} <= attrs, cookie
    ok = wait_for(lambda: [e for e in c.events("console.login")
                           if e["result"] == "ok"], what="console.login")
    assert ok[-1]["user"] == "carol"


def test_a_key_that_does_not_load_is_named(tls_console, tmp_path):
    c = tls_console
    bad = tmp_path / "bad.key"
    bad.write_text("-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
    bad.chmod(0o600)
    cfg = tmp_path / "jumpgate.yaml"
    cfg.write_text(c.env.config.read_text().replace(str(c.key), str(bad)))
    p = subprocess.run([str(c.env.bin), "-c", str(cfg), "audit", "serve"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode != 0
    assert f"audit.console.tls_key {bad}: not a PEM private key" in p.stderr, p.stderr
    # a key, but another certificate's
    other = tmp_path / "other.key"
    subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out",
                    str(other)], check=True, capture_output=True)
    cfg.write_text(c.env.config.read_text().replace(str(c.key), str(other)))
    p = subprocess.run([str(c.env.bin), "-c", str(cfg), "audit", "serve"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode != 0
    assert f"is not the key of audit.console.tls_cert {c.cert}" in p.stderr, p.stderr
