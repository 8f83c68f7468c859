# SPDX-License-Identifier: Apache-2.0
# tests/fakes/fake_imds.py - an EC2 instance metadata service, version 2 only:
# a session token from PUT /latest/api/token, then the role name and its
# temporary credentials; each fetch can hand out new keys with an expiration.
import datetime
import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler

import fakeserver


class State:
    def __init__(self, role="jumpgate-role"):
        self.lock = threading.Lock()
        self.role = role
        self.tokens = set()
        self.lifetime = 3600      # seconds until Expiration of issued keys
        self.issue = None         # callback(n) -> (key, secret, token)
        self.fetches = 0          # role credential documents served
        self.token_puts = 0
        self.v1_attempts = 0      # requests without a session token


class Handler(BaseHTTPRequestHandler):
    state = None
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def _send(self, status, body, ctype="text/plain"):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_PUT(self):
        st = self.state
        n = int(self.headers.get("Content-Length", "0"))
        self.rfile.read(n)
        ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds")
        if self.path != "/latest/api/token":
            self._send(404, "Not Found")
            return
        if ttl is None or not ttl.isdigit() or not 1 <= int(ttl) <= 21600:
            self._send(400, "Bad Request")
            return
        tok = uuid.uuid4().hex
        with st.lock:
            st.tokens.add(tok)
            st.token_puts += 1
        self._send(200, tok)

    def do_GET(self):
        st = self.state
        tok = self.headers.get("X-aws-ec2-metadata-token")
        with st.lock:
            if tok not in st.tokens:
                st.v1_attempts += 1
                self._send(401, "Unauthorized")
                return
        base = "/latest/meta-data/iam/security-credentials/"
        if self.path == base:
            self._send(200, st.role)
            return
        if self.path != base + st.role:
            self._send(404, "Not Found")
            return
        with st.lock:
            st.fetches += 1
            key, secret, token = st.issue(st.fetches)
            exp = (datetime.datetime.now(datetime.timezone.utc) +
                   datetime.timedelta(seconds=st.lifetime))
        doc = {"Code": "Success",
               "LastUpdated": exp.strftime("%Y-%m-%dT%H:%M:%SZ"),
               "Type": "AWS-HMAC", "AccessKeyId": key,
               "SecretAccessKey": secret, "Token": token,
               "Expiration": exp.strftime("%Y-%m-%dT%H:%M:%SZ")}
        self._send(200, json.dumps(doc), "application/json")


def start(state):
    return fakeserver.Server(Handler, state)
