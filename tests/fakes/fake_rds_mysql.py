# SPDX-License-Identifier: Apache-2.0
# tests/fakes/fake_rds_mysql.py - an RDS MySQL endpoint with IAM database
# authentication, as far as a client sees it: a MySQL greeting offering
# TLS, the TLS handshake (a certificate the caller gives), then a login
# whose auth plugin must be mysql_clear_password and whose password must
# be an IAM authentication token. The token is checked as RDS does: for
# this host:port and user, not expired (15 minutes), signed with the
# secret of the given key id; the signature is recomputed with botocore
# (generate_db_auth_token at the token's own X-Amz-Date) and must be the
# same bytes. A good token gets OK, a bad one ERR 1045 with RDS's words;
# COM_QUERY then gets an OK and COM_QUIT ends. What each login presented
# is kept in .logins for the test.
import datetime
import socket
import ssl
import struct
import threading
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import botocore.session

CLIENT_SSL = 0x0800
CAPS = (0x0001 | 0x0008 | 0x0200 | 0x8000 | 0x80000 | 0x200000 | CLIENT_SSL |
        0x2000 | 0x20000)


def _packet(seq, payload):
    return struct.pack("<I", len(payload))[:3] + bytes([seq & 0xff]) + payload


class FakeRdsMysql:
    def __init__(self, certfile, keyfile, key_id, secret, region):
        self.key_id, self.secret, self.region = key_id, secret, region
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(certfile, keyfile)
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.logins = []            # (user, plugin, token ok, why)
        self._stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def stop(self):
        self._stop = True
        self.sock.close()

    def _serve(self):
        while not self._stop:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._conn, args=(c,), daemon=True).start()

    @staticmethod
    def _read(f):
        h = f.read(4)
        if len(h) < 4:
            raise EOFError
        n = h[0] | h[1] << 8 | h[2] << 16
        return h[3], f.read(n)

    def check_token(self, token, user):
        """None when RDS would take the token, else why not."""
        url = urlsplit("https://" + token)
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.netloc != f"127.0.0.1:{self.port}":
            return f"token for {url.netloc}"
        if q.get("Action") != "connect" or q.get("DBUser") != user:
            return "token for another user or action"
        if not q.get("X-Amz-Credential", "").startswith(self.key_id + "/"):
            return "unknown access key"
        when = datetime.datetime.strptime(q["X-Amz-Date"], "%Y%m%dT%H%M%SZ")
        age = datetime.datetime.utcnow() - when
        if age > datetime.timedelta(seconds=int(q.get("X-Amz-Expires", 0))) or \
                age < datetime.timedelta(minutes=-5):
            return "token expired"
        s = botocore.session.get_session()
        s.set_credentials(self.key_id, self.secret)
        c = s.create_client("rds", region_name=self.region)
        with mock.patch("botocore.auth.datetime") as dt:
            dt.datetime.utcnow.return_value = when
            want = c.generate_db_auth_token("127.0.0.1", self.port, user,
                                            Region=self.region)
        return None if want == token else "signature does not match"

    def _conn(self, raw):
        try:
            f = raw.makefile("rb")
            g = (bytes([10]) + b"8.0.35\0" + struct.pack("<I", 7) + b"01234567\0" +
                 struct.pack("<H", CAPS & 0xffff) + bytes([255]) +
                 struct.pack("<H", 2) + struct.pack("<H", CAPS >> 16) +
                 bytes([21]) + bytes(10) + b"89abcdefghij\0" +
                 b"mysql_native_password\0")
            raw.sendall(_packet(0, g))
            seq, req = self._read(f)
            caps = struct.unpack("<I", req[:4])[0]
            if len(req) != 32 or not caps & CLIENT_SSL:
                raw.sendall(_packet(seq + 1, b"\xff\x15\x04#28000Connections "
                                    b"using insecure transport are prohibited"))
                return
            conn = self.ctx.wrap_socket(raw, server_side=True)
            f = conn.makefile("rb")
            seq, req = self._read(f)
            body = req[32:]
            user, rest = body.split(b"\0", 1)
            login_caps = struct.unpack("<I", req[:4])[0]
            if login_caps & 0x200000 and rest[0] == 0xfc:
                alen, off = struct.unpack("<H", rest[1:3])[0], 3
            else:
                alen, off = rest[0], 1
            auth = rest[off:off + alen]
            tail = rest[off + alen:]
            if login_caps & 0x0008:          # a schema first
                tail = tail.split(b"\0", 1)[1]
            plugin = tail.split(b"\0")[0].decode()
            user = user.decode()
            why = None
            if plugin != "mysql_clear_password":
                why = f"plugin {plugin}"
            else:
                why = self.check_token(auth.rstrip(b"\0").decode(), user)
            self.logins.append((user, plugin, why))
            if why is not None:
                conn.sendall(_packet(seq + 1, b"\xff\x15\x04#28000" +
                                     f"Access denied for user '{user}'@'10.0.1.5' "
                                     "(using password: YES)".encode()))
                return
            conn.sendall(_packet(seq + 1, b"\x00\x00\x00\x02\x00\x00\x00"))
            while True:
                seq, req = self._read(f)
                if not req or req[0] == 0x01:
                    return
                conn.sendall(_packet(seq + 1, b"\x00\x00\x00\x02\x00\x00\x00"))
        except (EOFError, OSError, ssl.SSLError, IndexError, ValueError):
            return
        finally:
            try:
                raw.close()
            except OSError:
                pass
