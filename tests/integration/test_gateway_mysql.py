# SPDX-License-Identifier: Apache-2.0
# tests/integration/test_gateway_mysql.py - the MySQL-aware tunnel: a real
# MariaDB with TLS on (its own test CA) and a password-file account behind
# jumpgated; the real `mariadb` client and pymysql through `ssh -L` sign in
# with no database password; SELECT, INSERT, a prepared statement with
# bound parameters (COM_STMT_PREPARE / COM_STMT_EXECUTE), one that opens
# a cursor with a parameter sent as long data, and an erroring statement
# each become a db.query event with their outcome, between
# db.session.start and db.session.end; `audit search` finds a statement; a
# database login the policy does not give, a server certificate from
# another CA, TLS inside the tunnel and bytes behind the login are refused
# with a clear error. RDS IAM sign-in against a fake RDS endpoint that
# checks the token with botocore (tests/fakes/fake_rds_mysql.py); bad files
# at jumpgated -t.
import os
import re
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from gw_fixtures import *  # noqa: F401,F403
from gw_fixtures import (JUMPGATE, JUMPGATED, Gateway, free_port,
                         gateway_events, policy_text, stop, wait_for, wait_port)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fakes"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
from fake_rds_mysql import FakeRdsMysql  # noqa: E402
import tls_mariadb  # noqa: E402

pymysql = pytest.importorskip("pymysql")

PASSWORD = "s3cret-ro-pw"
DOWN_PORT = free_port()     # nothing listens there


class TlsMariaDB:
    """A MariaDB on a loopback port with TLS from a CA of its own, a shop
    schema, and the accounts app_ro (in the password file) and app_admin
    (not given by the policy)."""

    def __init__(self, base):
        self.dir = base
        tls_mariadb.make_certs(base, other_cas=("other_ca",))
        self.port = free_port()
        self.log = open(base / "log", "w")
        self.proc = tls_mariadb.start(base, self.port, subprocess.Popen, self.log)
        wait_port(self.port, timeout=60, proc=self.proc)
        self.sql("CREATE DATABASE shop;"
                 "CREATE TABLE shop.customer (id INT AUTO_INCREMENT PRIMARY KEY,"
                 " email VARCHAR(100));"
                 "INSERT INTO shop.customer (email) VALUES ('a@shop.test'),"
                 " ('b@shop.test'), ('c@shop.test');"
                 f"CREATE USER app_ro@'%' IDENTIFIED BY '{PASSWORD}';"
                 "GRANT SELECT, INSERT ON shop.* TO app_ro@'%';"
                 "CREATE USER app_admin@'%' IDENTIFIED BY 'admin-pw';"
                 "GRANT ALL ON *.* TO app_admin@'%';")
        self.pwfile = base / "db.pw"
        self.pwfile.write_text(f"# login:password\napp_ro:{PASSWORD}\n"
                               "app_admin:admin-pw\n")
        os.chmod(self.pwfile, 0o600)

    def sql(self, text):
        return tls_mariadb.sql(self.dir, text)

    def stop(self):
        stop(self.proc, timeout=20)
        self.log.close()


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    m = TlsMariaDB(tmp_path_factory.mktemp("tlsdb"))
    yield m
    m.stop()


@pytest.fixture(scope="module")
def mgw(gw_env, db, tmp_path_factory):
    targets = (
        f"  rds-tls: {{kind: tcp, address: \"127.0.0.1:{db.port}\", protocol: mysql,"
        f" tls: {{ca: {db.dir}/ca.pem}}, auth: {{password_file: {db.pwfile}}}}}\n"
        f"  rds-other-ca: {{kind: tcp, address: \"127.0.0.1:{db.port}\","
        f" protocol: mysql, tls: {{ca: {db.dir}/other_ca.pem}},"
        f" auth: {{password_file: {db.pwfile}}}}}\n"
        f"  rds-down: {{kind: tcp, address: \"127.0.0.1:{DOWN_PORT}\","
        f" protocol: mysql, tls: {{ca: {db.dir}/ca.pem}},"
        f" auth: {{password_file: {db.pwfile}}}}}\n")
    rules = ("  - name: db-ro\n"
             "    users: [alice]\n"
             "    targets: [rds-tls, rds-other-ca, rds-down]\n"
             "    allow: [forward]\n"
             "    logins: [app_ro]\n")
    g = Gateway(gw_env, tmp_path_factory.mktemp("mgw"),
                policy_text(gw_env, targets_extra=targets, extra_rules=rules))
    yield g
    g.stop()


class Tunnel:
    def __init__(self, g, target, port):
        self.port = free_port()
        args = g.ssh_args("alice", key="alice",
                          extra=("-N", "-o", "ExitOnForwardFailure=yes", "-L",
                                 f"{self.port}:{target}:{port}"))
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        wait_port(self.port, proc=self.proc)

    def mariadb(self, user, sql, *extra):
        return subprocess.run(["mariadb", "-h", "127.0.0.1", "-P", str(self.port),
                               "-u", user, "--batch", "--skip-column-names",
                               *extra, "-e", sql],
                              capture_output=True, text=True, timeout=30)

    def stop(self):
        stop(self.proc)


def _events(g, kind):
    return [e for e in gateway_events(g) if e["type"] == kind]


def _prepare(conn, sql):
    """COM_STMT_PREPARE over pymysql's connection (which speaks only the
    text protocol itself): the statement id and its placeholders' count,
    the definitions read past."""
    conn._execute_command(0x16, sql)
    first = conn._read_packet()
    stmt_id, ncols, nparams = struct.unpack("<xIHH", first.get_all_data()[:9])
    for _ in range(nparams + (1 if nparams else 0) + ncols + (1 if ncols else 0)):
        conn._read_packet()
    return stmt_id, nparams


def _rows(conn):
    """The rows of a binary result up to its EOF."""
    rows = []
    while True:
        p = conn._read_packet()
        if p.is_eof_packet():
            return rows
        rows.append(p.get_all_data())


def _prepared(conn, sql, params):
    """COM_STMT_PREPARE and COM_STMT_EXECUTE with long parameters; the
    rows of the binary result."""
    stmt_id, _ = _prepare(conn, sql)
    body = struct.pack("<IBI", stmt_id, 0, 1)
    body += bytes((len(params) + 7) // 8) + b"\x01"
    body += b"".join(b"\x08\x00" for _ in params)
    body += b"".join(struct.pack("<q", v) for v in params)
    conn._execute_command(0x17, body)
    p = conn._read_packet()
    n = p.read_length_encoded_integer()
    for _ in range(n + 1):
        conn._read_packet()
    return _rows(conn)


def _cursor_with_long_data(conn, sql, value):
    """COM_STMT_PREPARE of sql (one placeholder), its parameter sent as
    COM_STMT_SEND_LONG_DATA, COM_STMT_EXECUTE asking for a read-only
    cursor and COM_STMT_FETCH when the server opened one; the rows and
    whether it did."""
    stmt_id, nparams = _prepare(conn, sql)
    assert nparams == 1
    conn._execute_command(0x18, struct.pack("<IH", stmt_id, 0) + value)
    body = struct.pack("<IBI", stmt_id, 1, 1) + b"\x00\x01\xfd\x00"
    conn._execute_command(0x17, body)
    n = conn._read_packet().read_length_encoded_integer()
    for _ in range(n):
        conn._read_packet()
    end = conn._read_packet()
    assert end.is_eof_packet()
    cursor = bool(struct.unpack("<H", end.get_all_data()[3:5])[0] & 0x40)
    if cursor:
        conn._execute_command(0x1c, struct.pack("<II", stmt_id, 100))
    rows = _rows(conn)
    conn._execute_command(0x19, struct.pack("<I", stmt_id))
    return rows, cursor


def _refused_login(port, ssl=False):
    """Reads the greeting, sends an SSLRequest (ssl) or a login with a
    query right behind it in the same write, returns the ERR's text."""
    import socket
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        f = s.makefile("rb")
        h = f.read(4)
        greeting = f.read(h[0] | h[1] << 8 | h[2] << 16)
        assert greeting[0] == 10
        caps = 0x0200 | 0x8000                     # 4.1, secure connection
        if ssl:
            caps |= 0x0800
        body = struct.pack("<IIB", caps, 1 << 24, 33) + bytes(23)
        after = b""
        if not ssl:
            body += b"app_ro\x00\x00"
            after = b"\x09\x00\x00\x00\x03SELECT 1"
        s.sendall(struct.pack("<I", len(body))[:3] + b"\x01" + body + after)
        h = f.read(4)
        answer = f.read(h[0] | h[1] << 8 | h[2] << 16)
        assert answer[0] == 0xff, answer
        return answer[9:].decode()


def test_statements_are_audited(mgw, db):
    t = Tunnel(mgw, "rds-tls", db.port)
    try:
        # The real client, with no password: the gateway signs in.
        r = t.mariadb("app_ro", "SELECT email FROM customer ORDER BY id;"
                      "INSERT INTO customer (email) VALUES ('new@shop.test');"
                      "SELECT COUNT(*) FROM customer", "shop")
        assert r.returncode == 0, r.stderr
        assert r.stdout.split() == ["a@shop.test", "b@shop.test", "c@shop.test",
                                    "4"]
        r = t.mariadb("app_ro", "SELECT * FROM shop.nope")
        assert r.returncode != 0 and "doesn't exist" in r.stderr
        # A prepared statement through the binary protocol.
        c = pymysql.connect(host="127.0.0.1", port=t.port, user="app_ro",
                            password="", database="shop", connect_timeout=10)
        rows = _prepared(c, "SELECT ? * ?", [6, 7])
        assert len(rows) == 1
        # A cursor, its parameter sent as long data: the rows come with
        # FETCH, and the stream stays in step after them.
        rows, cursor = _cursor_with_long_data(
            c, "SELECT email FROM customer WHERE email <> ? ORDER BY id",
            b"x" * 1500)
        assert len(rows) == 4
        with c.cursor() as k:
            k.execute("SELECT 'after the cursor'")
            assert k.fetchall() == (("after the cursor",),)
        c.close()
    finally:
        t.stop()
    # The execute's event is the last one written.
    q = wait_for(lambda: (lambda v: v if any(
        e["statement"] == "SELECT 'after the cursor'" for e in v) else None)(
        _events(mgw, "db.query")), what="db.query events")
    by = {e["statement"]: e for e in q}
    sel = by["SELECT email FROM customer ORDER BY id"]
    assert sel["status"] == "ok" and sel["rows"] == 3
    assert sel["user"] == "alice" and sel["target"] == "rds-tls"
    assert sel["login"] == "app_ro" and sel["command"] == "query"
    assert sel["duration_ms"] >= 0
    ins = by["INSERT INTO customer (email) VALUES ('new@shop.test')"]
    assert ins["affected"] == 1 and ins["insert_id"] == 4
    bad = by["SELECT * FROM shop.nope"]
    assert bad["status"] == "error" and bad["error_code"] == 1146
    assert bad["sqlstate"] == "42S02" and "doesn't exist" in bad["error_message"]
    ex = [e for e in q if e["command"] == "execute"]
    assert ex and ex[0]["statement"] == "SELECT ? * ?"
    assert ex[0]["params"] == [{"type": "longlong", "value": "6"},
                               {"type": "longlong", "value": "7"}]
    assert ex[0]["rows"] == 1
    # The long data is the parameter's value, cut where every value is.
    assert ex[1]["params"] == [{"type": "string", "value": "x" * 256,
                                "truncated": True}]
    assert ex[1]["rows"] == (0 if cursor else 4) and ex[1]["status"] == "ok"
    starts = _events(mgw, "db.session.start")
    assert any(s["db_login"] == "app_ro" and s.get("schema") == "shop" and
               s["tls"] is True for s in starts), starts
    ends = wait_for(lambda: (lambda v: v if len(v) >= 3 else None)(
        _events(mgw, "db.session.end")), what="db.session.end")
    assert any(e["statements"] >= 3 and e["rows"] >= 4 for e in ends), ends
    # Durations read as written: milliseconds to the microsecond, in the
    # log and in `audit events`.
    r = subprocess.run([str(JUMPGATE), "-c", str(mgw.config), "audit", "events",
                        "--type", "db.query"], capture_output=True, text=True)
    shown = re.findall(r" duration_ms=(\S+)", r.stdout)
    assert r.returncode == 0 and len(shown) >= len(q), r.stdout + r.stderr
    for d in shown + [repr(e["duration_ms"]) for e in q]:
        assert re.fullmatch(r"\d+(\.\d{1,3})?", d), d
    # The auditor finds the statement.
    r = subprocess.run([str(JUMPGATE), "-c", str(mgw.config), "audit", "search",
                        "INSERT INTO customer"], capture_output=True, text=True)
    assert r.returncode == 0 and "db.query statement" in r.stdout, r.stdout + r.stderr
    # The database's own log would name app_ro: the account the policy gave.
    assert "new@shop.test" in db.sql("SELECT email FROM shop.customer")


def test_refusals(mgw, db):
    t = Tunnel(mgw, "rds-tls", db.port)
    try:
        r = t.mariadb("app_admin", "SELECT 1")
        assert r.returncode != 0
        # The policy's own words: which rule, which login.
        assert ("rule 'db-ro' does not allow login 'app_admin' on rds-tls"
                in r.stderr), r.stderr
        # The gateway does not offer TLS inside the tunnel; a client that
        # asks for it anyway hears why it is not needed.
        assert "needs no TLS" in _refused_login(t.port, ssl=True)
        # Nothing may ride behind the login before it is answered: it
        # would pass unread.
        assert "sent more before its login was answered" in \
            _refused_login(t.port)
    finally:
        t.stop()
    t = Tunnel(mgw, "rds-other-ca", db.port)
    try:
        r = t.mariadb("app_ro", "SELECT 1")
        assert r.returncode != 0
        assert "certificate was refused" in r.stderr, r.stderr
    finally:
        t.stop()
    # An unreachable database: the client reads why, as a MySQL error.
    t = Tunnel(mgw, "rds-down", DOWN_PORT)
    try:
        r = t.mariadb("app_ro", "SELECT 1")
        assert r.returncode != 0
        assert "1105" in r.stderr and \
            f"jumpgate: cannot connect to 127.0.0.1 port {DOWN_PORT}" in r.stderr, \
            r.stderr
    finally:
        t.stop()
    deny = wait_for(lambda: [e for e in _events(mgw, "policy.deny")
                             if "app_admin" in (e.get("reason") or "")],
                    what="policy.deny")
    assert deny[0]["target"] == "rds-tls"
    ends = wait_for(lambda: [e for e in _events(mgw, "db.session.end")
                             if "certificate" in (e.get("reason") or "")],
                    what="db.session.end with the TLS refusal")
    assert ends[0]["target"] == "rds-other-ca"


def test_bad_files_refused_at_check(mgw, db, tmp_path):
    # A password file others may read, and a CA bundle that is no PEM:
    # jumpgated -t (as at start and reload) names each.
    pw = tmp_path / "open.pw"
    pw.write_text(f"app_ro:{PASSWORD}\n")
    os.chmod(pw, 0o644)
    ca = tmp_path / "ca.txt"
    ca.write_text("not a certificate\n")
    pol = tmp_path / "policy.yaml"
    pol.write_text(mgw.policy.read_text()
                   .replace(str(db.pwfile), str(pw))
                   .replace(f"{db.dir}/other_ca.pem", str(ca)))
    cfg = tmp_path / "jumpgate.yaml"
    cfg.write_text(mgw.config.read_text().replace(str(mgw.policy), str(pol)))
    r = subprocess.run([str(JUMPGATED), "-t", "-c", str(cfg)],
                       capture_output=True, text=True)
    assert r.returncode != 0
    assert f"password_file {pw} must belong to root and be readable by root " \
        "only" in r.stderr, r.stderr
    assert f"tls.ca {ca} holds no PEM certificate" in r.stderr, r.stderr


KEY_ID, SECRET = "AKIAJUMPGATETEST0001", "rds/iam+secret=key"


def test_iam_sign_in(gw_env, db, tmp_path):
    def targets(port):
        return (f"  rds-iam: {{kind: tcp, address: \"127.0.0.1:{port}\","
                f" protocol: mysql, tls: {{ca: {db.dir}/ca.pem}},"
                " auth: {iam: {region: eu-west-1}}}\n")

    rds = FakeRdsMysql(db.dir / "server.pem", db.dir / "server.key", KEY_ID,
                       SECRET, "eu-west-1")
    rules = ("  - name: db-iam\n    users: [alice]\n    targets: [rds-iam]\n"
             "    allow: [forward]\n    logins: [app_ro]\n")
    env = ("env", f"AWS_ACCESS_KEY_ID={KEY_ID}", f"AWS_SECRET_ACCESS_KEY={SECRET}",
           "AWS_EC2_METADATA_DISABLED=true", "AWS_SHARED_CREDENTIALS_FILE=/nonexistent")
    g = Gateway(gw_env, tmp_path / "g",
                policy_text(gw_env, targets_extra=targets(rds.port),
                            extra_rules=rules), wrap=env)
    try:
        t = Tunnel(g, "rds-iam", rds.port)
        try:
            r = t.mariadb("app_ro", "SELECT 1")
            assert r.returncode == 0, r.stderr
        finally:
            t.stop()
        # The fake took a token botocore would have made, sent in clear
        # only inside TLS.
        assert rds.logins == [("app_ro", "mysql_clear_password", None)]
        q = wait_for(lambda: _events(g, "db.query"), what="db.query")
        assert q[0]["statement"] == "SELECT 1" and q[0]["target"] == "rds-iam"
        start = _events(g, "db.session.start")
        assert start and start[0]["sign_in"] == "iam" and start[0]["tls"] is True
    finally:
        g.stop()
        rds.stop()
    # Wrong credentials: the database's refusal reaches the client and the
    # event log.
    rds = FakeRdsMysql(db.dir / "server.pem", db.dir / "server.key", KEY_ID,
                       "another-secret", "eu-west-1")
    g = Gateway(gw_env, tmp_path / "g2",
                policy_text(gw_env, targets_extra=targets(rds.port),
                            extra_rules=rules), wrap=env)
    try:
        t = Tunnel(g, "rds-iam", rds.port)
        try:
            r = t.mariadb("app_ro", "SELECT 1")
            assert r.returncode != 0
            assert "the database refused the sign-in of app_ro: Access denied" \
                in r.stderr, r.stderr
        finally:
            t.stop()
        assert rds.logins[0][2] == "signature does not match"
        ends = wait_for(lambda: [e for e in _events(g, "db.session.end")
                                 if "refused the sign-in" in (e.get("reason") or "")],
                        what="db.session.end")
        assert ends[0]["target"] == "rds-iam"
    finally:
        g.stop()
        rds.stop()
    # No AWS credentials at all: said to the client and in the event log,
    # and nothing reaches the database.
    rds = FakeRdsMysql(db.dir / "server.pem", db.dir / "server.key", KEY_ID,
                       SECRET, "eu-west-1")
    g = Gateway(gw_env, tmp_path / "g3",
                policy_text(gw_env, targets_extra=targets(rds.port),
                            extra_rules=rules),
                wrap=("env", "-u", "AWS_ACCESS_KEY_ID", "-u",
                      "AWS_SECRET_ACCESS_KEY", "AWS_EC2_METADATA_DISABLED=true",
                      "AWS_SHARED_CREDENTIALS_FILE=/nonexistent"))
    try:
        t = Tunnel(g, "rds-iam", rds.port)
        try:
            r = t.mariadb("app_ro", "SELECT 1")
            assert r.returncode != 0
            assert "no AWS credentials for the IAM token" in r.stderr, r.stderr
        finally:
            t.stop()
        assert rds.logins == []
        wait_for(lambda: [e for e in _events(g, "db.session.end")
                          if "no AWS credentials" in (e.get("reason") or "")],
                 what="db.session.end")
    finally:
        g.stop()
        rds.stop()
