# SPDX-License-Identifier: Apache-2.0
# tests/fakes/fake_ec2.py - an in-memory EC2 Query API (2016-11-15) for the
# security-group calls jumpgate makes, answering with the XML shapes and error
# codes of the EC2 API reference, checking every request's SigV4 signature with
# botocore, and able to inject throttling, 5xx, slow and malformed answers and
# small pages.
#   DescribeSecurityGroupRules, AuthorizeSecurityGroupIngress,
#   RevokeSecurityGroupIngress, DescribeInstances
import ipaddress
import re
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

import fakeserver
import sigv4check

NS = "http://ec2.amazonaws.com/doc/2016-11-15/"
OWNER = "123456789012"
DESC_RE = re.compile(r"^[a-zA-Z0-9. _\-:/()#,@\[\]+=&;{}!$*]{0,255}$")


class Ec2Error(Exception):
    def __init__(self, code, message, status=400):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


class State:
    """What the fake EC2 holds; tests read and change it directly."""

    def __init__(self, region="eu-west-1"):
        self.lock = threading.Lock()
        self.region = region
        self.creds = {}             # key id -> (secret, token or None)
        self.groups = set()
        self.rules = {}             # rule id -> dict
        self.instances = {}         # instance id -> dict (add_instance)
        self.page_size = 1000       # items per page at most
        self.inject = []            # [(action or None, status, code, msg)]
        self.raw = {}               # action -> raw 200 body, once
        self.delay = {}             # action -> seconds, once
        self.calls = []             # (action, params) of signed requests
        self.auth_failures = 0
        self.tokens = {}            # nextToken -> remaining list

    def add_creds(self, key, secret, token=None):
        self.creds[key] = (secret, token)

    def add_group(self, gid):
        self.groups.add(gid)

    def add_instance(self, iid, private_ip, name=None, state="running",
                     tags=None):
        t = dict(tags or {})
        if name is not None:
            t["Name"] = name
        self.instances[iid] = {"ip": private_ip, "state": state, "tags": t}

    def add_rule(self, group, cidr, port, tags=None, description=None,
                 protocol="tcp", egress=False):
        rid = "sgr-" + uuid.uuid4().hex[:17]
        net = ipaddress.ip_network(cidr)
        self.rules[rid] = {
            "id": rid, "group": group, "egress": egress,
            "protocol": protocol, "from": port, "to": port,
            "cidr4": str(net) if net.version == 4 else None,
            "cidr6": str(net) if net.version == 6 else None,
            "description": description, "tags": dict(tags or {}),
        }
        return rid

    def managed(self, group=None):
        return sorted(
            (r for r in self.rules.values()
             if r["tags"].get("managed-by") == "jumpgate"
             and (group is None or r["group"] == group)),
            key=lambda r: (r["group"], r["from"], r["cidr4"] or "",
                           r["cidr6"] or ""))

    def cidrs(self, group):
        return sorted((r["cidr4"] or r["cidr6"], r["from"])
                      for r in self.managed(group))

    def writes(self):
        return [a for a, _ in self.calls
                if a in ("AuthorizeSecurityGroupIngress",
                         "RevokeSecurityGroupIngress")]


def _rule_xml(r):
    tags = "".join(f"<item><key>{escape(k)}</key><value>{escape(v)}</value>"
                   f"</item>" for k, v in r["tags"].items())
    cidr = (f"<cidrIpv4>{r['cidr4']}</cidrIpv4>" if r["cidr4"]
            else f"<cidrIpv6>{r['cidr6']}</cidrIpv6>")
    desc = (f"<description>{escape(r['description'])}</description>"
            if r["description"] is not None else "")
    return (f"<item><securityGroupRuleId>{r['id']}</securityGroupRuleId>"
            f"<groupId>{r['group']}</groupId>"
            f"<groupOwnerId>{OWNER}</groupOwnerId>"
            f"<isEgress>{'true' if r['egress'] else 'false'}</isEgress>"
            f"<ipProtocol>{r['protocol']}</ipProtocol>"
            f"<fromPort>{r['from']}</fromPort><toPort>{r['to']}</toPort>"
            f"{cidr}{desc}<tagSet>{tags}</tagSet>"
            f"<securityGroupRuleArn>arn:aws:ec2:eu-west-1:{OWNER}:"
            f"security-group-rule/{r['id']}</securityGroupRuleArn></item>")


def _indexed(params, prefix):
    """{N: {rest: value}} for params named PREFIX.N.rest (or PREFIX.N)."""
    out = {}
    for k, v in params.items():
        if not k.startswith(prefix + "."):
            continue
        rest = k[len(prefix) + 1:]
        n, _, sub = rest.partition(".")
        if not n.isdigit():
            raise Ec2Error("InvalidParameter", f"bad parameter {k}")
        out.setdefault(int(n), {})[sub] = v
    return dict(sorted(out.items()))


def _filters(params):
    fl = []
    for _, f in _indexed(params, "Filter").items():
        name = f.get("Name")
        vals = [v for k, v in sorted(f.items()) if k.startswith("Value.")]
        if not name or not vals:
            raise Ec2Error("InvalidParameterValue", "filter without name or values")
        fl.append((name, vals))
    return fl


def _match(r, fl):
    for name, vals in fl:
        if name == "group-id":
            ok = r["group"] in vals
        elif name == "security-group-rule-id":
            ok = r["id"] in vals
        elif name.startswith("tag:"):
            ok = r["tags"].get(name[4:]) in vals
        elif name == "tag-key":
            ok = any(k in vals for k in r["tags"])
        else:
            raise Ec2Error("InvalidParameterValue",
                           f"The filter '{name}' is invalid")
        if not ok:
            return False
    return True


def _page(st, items, params):
    mr = params.get("MaxResults")
    limit = st.page_size
    if mr is not None:
        if not mr.isdigit() or not 5 <= int(mr) <= 1000:
            raise Ec2Error("InvalidParameterValue",
                           f"Value ( {mr} ) for parameter maxResults is "
                           "invalid. Expecting a value between 5 and 1000.")
        limit = min(limit, int(mr))
    tok = params.get("NextToken")
    if tok is not None:
        if tok not in st.tokens:
            raise Ec2Error("InvalidNextToken",
                           "The specified token is not valid")
        items = st.tokens.pop(tok)
    page, rest = items[:limit], items[limit:]
    nxt = None
    if rest:
        nxt = uuid.uuid4().hex
        st.tokens[nxt] = rest
    return page, nxt


def describe_rules(st, params):
    fl = _filters(params)
    if "SecurityGroupRuleId.1" in params and "Filter.1.Name" in params:
        raise Ec2Error("InvalidParameterCombination",
                       "rule ids and filters cannot be combined")
    items = [r for r in sorted(st.rules.values(), key=lambda r: r["id"])
             if _match(r, fl)]
    page, nxt = _page(st, items, params)
    body = "".join(_rule_xml(r) for r in page)
    tok = f"<nextToken>{nxt}</nextToken>" if nxt else ""
    return ("DescribeSecurityGroupRulesResponse",
            f"<securityGroupRuleSet>{body}</securityGroupRuleSet>{tok}")


def _group(st, params):
    gid = params.get("GroupId")
    if not gid:
        raise Ec2Error("MissingParameter",
                       "The request must contain the parameter groupId")
    if gid not in st.groups:
        raise Ec2Error("InvalidGroup.NotFound",
                       f"The security group '{gid}' does not exist")
    return gid


def authorize(st, params):
    gid = _group(st, params)
    tags = {}
    for _, ts in _indexed(params, "TagSpecification").items():
        if ts.get("ResourceType") != "security-group-rule":
            raise Ec2Error("InvalidParameterValue",
                           "'%s' is not a valid taggable resource type for "
                           "this operation." % ts.get("ResourceType"))
        for k, v in ts.items():
            m = re.match(r"^Tag\.(\d+)\.Key$", k)
            if m:
                tags[v] = ts.get(f"Tag.{m[1]}.Value", "")
    new = []
    for _, p in _indexed(params, "IpPermissions").items():
        proto = p.get("IpProtocol")
        if proto not in ("tcp", "udp", "icmp", "-1", "6", "17"):
            raise Ec2Error("InvalidParameterValue",
                           f"Invalid value '{proto}' for IP protocol.")
        try:
            fp, tp = int(p["FromPort"]), int(p["ToPort"])
        except (KeyError, ValueError):
            raise Ec2Error("InvalidParameterValue", "bad port range")
        ranges = []
        for kind, key in (("IpRanges", "CidrIp"), ("Ipv6Ranges", "CidrIpv6")):
            idx = {}
            for k, v in p.items():
                m = re.match(rf"^{kind}\.(\d+)\.(\w+)$", k)
                if m:
                    idx.setdefault(int(m[1]), {})[m[2]] = v
            for _, rg in sorted(idx.items()):
                cidr = rg.get(key)
                try:
                    net = ipaddress.ip_network(cidr)
                except (TypeError, ValueError):
                    raise Ec2Error("InvalidParameterValue",
                                   f"CIDR block {cidr} is malformed")
                if (net.version == 4) != (kind == "IpRanges"):
                    raise Ec2Error("InvalidParameterValue",
                                   f"CIDR block {cidr} is malformed")
                d = rg.get("Description")
                if d is not None and not DESC_RE.match(d):
                    raise Ec2Error(
                        "InvalidParameterValue",
                        "Invalid rule description. Valid descriptions are "
                        "strings less than 256 characters from the following "
                        "set:  a-zA-Z0-9. _-:/()#,@[]+=&;{}!$*")
                ranges.append((str(net), d))
        for cidr, d in ranges:
            for r in st.rules.values():
                if (r["group"] == gid and not r["egress"]
                        and r["protocol"] == proto and r["from"] == fp
                        and r["to"] == tp
                        and cidr in (r["cidr4"], r["cidr6"])):
                    raise Ec2Error(
                        "InvalidPermission.Duplicate",
                        f'the specified rule "peer: {cidr}, TCP, from port: '
                        f'{fp}, to port: {tp}, ALLOW" already exists')
            new.append((proto, fp, tp, cidr, d))
    if not new:
        raise Ec2Error("MissingParameter", "no IpPermissions given")
    out = []
    for proto, fp, tp, cidr, d in new:
        rid = st.add_rule(gid, cidr, fp, tags=tags, description=d,
                          protocol=proto)
        st.rules[rid]["to"] = tp
        out.append(_rule_xml(st.rules[rid]))
    return ("AuthorizeSecurityGroupIngressResponse",
            "<return>true</return><securityGroupRuleSet>" + "".join(out) +
            "</securityGroupRuleSet>")


def revoke(st, params):
    gid = _group(st, params)
    ids = [v for k, v in sorted(params.items())
           if re.match(r"^SecurityGroupRuleId\.\d+$", k)]
    if not ids:
        raise Ec2Error("MissingParameter", "no SecurityGroupRuleId given")
    for rid in ids:
        r = st.rules.get(rid)
        if r is None or r["group"] != gid or r["egress"]:
            raise Ec2Error("InvalidSecurityGroupRuleId.NotFound",
                           f"The security group rule ID '{rid}' does not exist")
    for rid in ids:
        del st.rules[rid]
    return ("RevokeSecurityGroupIngressResponse", "<return>true</return>")


STATE_CODES = {"pending": 0, "running": 16, "shutting-down": 32,
               "terminated": 48, "stopping": 64, "stopped": 80}


def _instance_xml(iid, inst):
    tags = "".join(f"<item><key>{escape(k)}</key><value>{escape(v)}</value>"
                   f"</item>" for k, v in inst["tags"].items())
    ip = (f"<privateIpAddress>{inst['ip']}</privateIpAddress>"
          if inst["ip"] else "")
    return (f"<item><instanceId>{iid}</instanceId>"
            f"<imageId>ami-0123456789abcdef0</imageId>"
            f"<instanceState><code>{STATE_CODES[inst['state']]}</code>"
            f"<name>{inst['state']}</name></instanceState>"
            f"<instanceType>t3.large</instanceType>{ip}"
            f"<tagSet>{tags}</tagSet></item>")


def describe_instances(st, params):
    ids = [v for k, v in sorted(params.items(),
                                key=lambda kv: kv[0])
           if re.match(r"^InstanceId\.\d+$", k)]
    if ids and "MaxResults" in params:
        raise Ec2Error("InvalidParameterCombination",
                       "The parameter instancesSet cannot be used with the "
                       "parameter maxResults")
    for i in ids:
        if i not in st.instances:
            raise Ec2Error("InvalidInstanceID.NotFound",
                           f"The instance ID '{i}' does not exist")
    items = sorted(set(ids)) if ids else sorted(st.instances)
    page, nxt = _page(st, items, params)
    # One reservation per instance, as instances launched one by one are.
    res = "".join(
        f"<item><reservationId>r-{i[2:]}</reservationId>"
        f"<ownerId>{OWNER}</ownerId><groupSet/><instancesSet>"
        f"{_instance_xml(i, st.instances[i])}</instancesSet></item>"
        for i in page)
    tok = f"<nextToken>{nxt}</nextToken>" if nxt else ""
    return ("DescribeInstancesResponse",
            f"<reservationSet>{res}</reservationSet>{tok}")


ACTIONS = {
    "DescribeSecurityGroupRules": describe_rules,
    "AuthorizeSecurityGroupIngress": authorize,
    "RevokeSecurityGroupIngress": revoke,
    "DescribeInstances": describe_instances,
}


class Handler(BaseHTTPRequestHandler):
    state = None
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def _send(self, status, body):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/xml;charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status, code, message):
        rid = str(uuid.uuid4())
        self._send(status,
                   '<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors>'
                   f"<Error><Code>{escape(code)}</Code><Message>"
                   f"{escape(message)}</Message></Error></Errors>"
                   f"<RequestID>{rid}</RequestID></Response>")

    def do_POST(self):
        st = self.state
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        try:
            sigv4check.check("POST", self.headers.get("Host", ""), self.path,
                             self.headers.items(), body, st.creds, "ec2",
                             st.region)
        except sigv4check.SigError as e:
            with st.lock:
                st.auth_failures += 1
            self._error(401, "AuthFailure",
                        "AWS was not able to validate the provided access "
                        f"credentials ({e})")
            return
        params = dict(parse_qsl(body.decode(), keep_blank_values=True))
        action = params.get("Action", "")
        if params.get("Version") != "2016-11-15":
            self._error(400, "InvalidParameterValue", "bad Version")
            return
        with st.lock:
            st.calls.append((action, params))
            delay = st.delay.pop(action, 0)
            inj = None
            for i, (a, status, code, msg) in enumerate(st.inject):
                if a is None or a == action:
                    inj = st.inject.pop(i)
                    break
            raw = st.raw.pop(action, None)
        if delay:
            time.sleep(delay)
        if inj:
            self._error(inj[1], inj[2], inj[3])
            return
        if raw is not None:
            self._send(200, raw)
            return
        fn = ACTIONS.get(action)
        if fn is None:
            self._error(400, "InvalidAction",
                        f"The action {action} is not valid for this web "
                        "service.")
            return
        try:
            with st.lock:
                root, inner = fn(st, params)
        except Ec2Error as e:
            self._error(e.status, e.code, e.message)
            return
        rid = str(uuid.uuid4())
        self._send(200, f'<?xml version="1.0" encoding="UTF-8"?>\n'
                        f'<{root} xmlns="{NS}"><requestId>{rid}</requestId>'
                        f"{inner}</{root}>")


def start(state=None):
    return fakeserver.Server(Handler, state or State())


if __name__ == "__main__":
    s = State()
    s.add_creds(sys.argv[1] if len(sys.argv) > 1 else "AKIDEXAMPLE",
                sys.argv[2] if len(sys.argv) > 2 else "secret")
    srv = start(s)
    print(srv.url, flush=True)
    srv.thread.join()
