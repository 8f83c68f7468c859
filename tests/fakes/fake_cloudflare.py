# SPDX-License-Identifier: Apache-2.0
# tests/fakes/fake_cloudflare.py - an in-memory Cloudflare API v4: account IP
# lists and their items (cursor paging, bulk replace as an asynchronous bulk
# operation), and zone rulesets (phase entrypoints, rules added one by one).
# Checks the bearer token; can inject 429 with retry-after and 5xx.
import ipaddress
import json
import re
import threading
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

import fakeserver

BASE = "/client/v4"


def _now():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class CfError(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class State:
    def __init__(self, account="01a7362d577a6c3019a474fd6f485823",
                 token="cf-test-token-0123456789"):
        self.lock = threading.Lock()
        self.account = account
        self.token = token
        self.lists = {}          # id -> {"name", "kind", "items": [dict]}
        self.rulesets = {}       # zone -> ruleset dict (the entrypoint)
        self.ops = {}            # operation id -> polls left before done
        self.page_size = 25
        self.inject = []         # [(status, retry_after or None)]
        self.requests = []       # (method, path)
        self.phase_puts = 0      # PUTs of a whole phase (must stay 0)
        self.auth_failures = 0
        self.raw = {}            # (method, path regex) -> raw body, once

    def list_by_name(self, name):
        for lid, lst in self.lists.items():
            if lst["name"] == name:
                return lid, lst
        return None, None

    def ips(self, name):
        _, lst = self.list_by_name(name)
        return sorted(i["ip"] for i in lst["items"]) if lst else None

    def writes(self):
        return [(m, p) for m, p in self.requests if m != "GET"]


def _check_ip(s):
    try:
        net = ipaddress.ip_network(s)
    except ValueError:
        raise CfError(400, 10013, f"invalid IP address or range: {s}")
    lo, hi = (8, 32) if net.version == 4 else (12, 64)
    single = net.prefixlen == net.max_prefixlen and "/" not in s
    if not single and not lo <= net.prefixlen <= hi:
        raise CfError(400, 10013, f"invalid IP range size: {s}")
    return s


class Handler(BaseHTTPRequestHandler):
    state = None
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def _send(self, status, doc, headers=()):
        data = (doc if isinstance(doc, str) else json.dumps(doc)).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _ok(self, result, info=None, status=200):
        doc = {"success": True, "errors": [], "messages": [], "result": result}
        if info is not None:
            doc["result_info"] = info
        self._send(status, doc)

    def _err(self, status, code, message):
        self._send(status, {"success": False,
                            "errors": [{"code": code, "message": message}],
                            "messages": [], "result": None})

    def _handle(self, method):
        st = self.state
        n = int(self.headers.get("Content-Length", "0") or 0)
        raw = self.rfile.read(n) if n else b""
        url = urlsplit(self.path)
        path = url.path
        with st.lock:
            st.requests.append((method, path))
            if st.inject:
                status, ra = st.inject.pop(0)
                hdr = [("retry-after", str(ra))] if ra is not None else []
                self._send(status, {"success": False, "errors": [
                    {"code": 10429 if status == 429 else 10500,
                     "message": "rate limited" if status == 429
                     else "internal error"}], "messages": [], "result": None},
                    hdr)
                return
            for (m, rx), body in list(st.raw.items()):
                if m == method and re.fullmatch(rx, path):
                    del st.raw[(m, rx)]
                    self._send(200, body)
                    return
        if self.headers.get("Authorization") != f"Bearer {st.token}":
            with st.lock:
                st.auth_failures += 1
            self._err(403, 10000, "Authentication error")
            return
        if not path.startswith(BASE):
            self._err(404, 7003, "Could not route to " + path)
            return
        body = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                self._err(400, 10026, "filter JSON parsing failed")
                return
        try:
            with st.lock:
                self._route(method, path[len(BASE):], parse_qs(url.query),
                            body)
        except CfError as e:
            self._err(e.status, e.code, e.message)

    def _route(self, method, p, q, body):
        st = self.state
        acct = f"/accounts/{st.account}/rules/lists"
        if p.startswith("/accounts/") and not p.startswith(acct):
            raise CfError(403, 10000, "Authentication error")
        m = re.fullmatch(re.escape(acct) + r"/bulk_operations/(\w+)", p)
        if m and method == "GET":
            op = m[1]
            if op not in st.ops:
                raise CfError(404, 10003, "operation not found")
            left = st.ops[op]
            st.ops[op] = max(0, left - 1)
            self._ok({"id": op, "status": "completed" if left == 0
                      else "pending", "completed": _now() if left == 0
                      else None})
            return
        if p == acct and method == "GET":
            self._ok([{"id": lid, "name": lst["name"], "kind": lst["kind"],
                       "description": lst.get("description", ""),
                       "num_items": len(lst["items"]),
                       "num_referencing_filters": 0, "created_on": _now(),
                       "modified_on": _now()}
                      for lid, lst in st.lists.items()])
            return
        if p == acct and method == "POST":
            name = (body or {}).get("name", "")
            if not re.fullmatch(r"[a-z0-9_]{1,50}", name) or \
                    (body or {}).get("kind") != "ip":
                raise CfError(400, 10013, "invalid list name or kind")
            if st.list_by_name(name)[0]:
                raise CfError(400, 10014, "a list with this name exists")
            lid = uuid.uuid4().hex
            st.lists[lid] = {"name": name, "kind": "ip", "items": [],
                             "description": body.get("description", "")}
            self._ok({"id": lid, "name": name, "kind": "ip", "num_items": 0})
            return
        m = re.fullmatch(re.escape(acct) + r"/(\w+)/items", p)
        if m:
            lst = st.lists.get(m[1])
            if lst is None:
                raise CfError(404, 10000, "list not found")
            if method == "GET":
                start = int(q.get("cursor", ["0"])[0] or 0)
                items = lst["items"][start:start + st.page_size]
                info = {"cursors": {"before": str(start)}}
                if start + st.page_size < len(lst["items"]):
                    info["cursors"]["after"] = str(start + st.page_size)
                self._ok(items, info)
                return
            if method == "PUT":
                if not isinstance(body, list):
                    raise CfError(400, 10026, "expected an array of items")
                new = []
                for it in body:
                    new.append({"id": uuid.uuid4().hex,
                                "ip": _check_ip(it.get("ip", "")),
                                "comment": it.get("comment", ""),
                                "created_on": _now(), "modified_on": _now()})
                lst["items"] = new
                op = uuid.uuid4().hex
                st.ops[op] = 2  # pending twice, then completed
                self._ok({"operation_id": op})
                return
        m = re.fullmatch(r"/zones/(\w+)/rulesets/phases/"
                         r"http_request_firewall_custom/entrypoint", p)
        if m:
            if method == "PUT":
                st.phase_puts += 1
                self._ok(None)
                return
            rs = st.rulesets.get(m[1])
            if rs is None:
                raise CfError(404, 10003,
                              "could not find entrypoint ruleset in the "
                              "http_request_firewall_custom phase")
            self._ok(rs)
            return
        m = re.fullmatch(r"/zones/(\w+)/rulesets", p)
        if m and method == "POST":
            zone = m[1]
            if zone in st.rulesets:
                raise CfError(400, 20217, "a ruleset for this phase exists")
            rs = {"id": uuid.uuid4().hex, "name": body.get("name"),
                  "kind": body.get("kind"), "phase": body.get("phase"),
                  "version": "1", "rules": []}
            for r in body.get("rules", []):
                rs["rules"].append(self._rule(r))
            st.rulesets[zone] = rs
            self._ok(rs)
            return
        m = re.fullmatch(r"/zones/(\w+)/rulesets/(\w+)/rules(?:/(\w+))?", p)
        if m:
            rs = st.rulesets.get(m[1])
            if rs is None or rs["id"] != m[2]:
                raise CfError(404, 10003, "ruleset not found")
            if method == "POST" and m[3] is None:
                rs["rules"].append(self._rule(body))
                self._ok(rs)
                return
            if method == "PATCH" and m[3]:
                for r in rs["rules"]:
                    if r["id"] == m[3]:
                        r.update({k: v for k, v in body.items()
                                  if k in ("description", "expression",
                                           "action", "enabled")})
                        self._ok(rs)
                        return
                raise CfError(404, 10003, "rule not found")
        raise CfError(404, 7003, f"no route for {method} {p}")

    def _rule(self, r):
        if not isinstance(r, dict) or r.get("action") != "block" or \
                not r.get("expression"):
            raise CfError(400, 20021, "invalid rule")
        lists = re.findall(r"\$(\w+)", r["expression"])
        for name in lists:
            if not self.state.list_by_name(name)[0]:
                raise CfError(400, 20120,
                              f"could not find list {name} referenced in "
                              "the expression")
        return {"id": uuid.uuid4().hex, "version": "1", "action": "block",
                "expression": r["expression"],
                "description": r.get("description", ""),
                "enabled": r.get("enabled", True), "last_updated": _now()}

    def do_GET(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")

    def do_PUT(self):
        self._handle("PUT")

    def do_PATCH(self):
        self._handle("PATCH")

    def do_DELETE(self):
        self._handle("DELETE")


def start(state=None):
    return fakeserver.Server(Handler, state or State())
