# SPDX-License-Identifier: Apache-2.0
# tests/fakes/fake_ecs.py - an in-memory Amazon ECS JSON 1.1 API for the
# discovery calls jumpgate makes (ListContainerInstances with nextToken
# paging, DescribeContainerInstances), answering with the shapes and error
# documents ({"__type": ..., "message": ...}) of the ECS API reference,
# checking every request's SigV4 signature with botocore, and able to inject
# throttling, 5xx and malformed answers and to use small pages.
import json
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler

import fakeserver
import sigv4check

PREFIX = "AmazonEC2ContainerServiceV20141113."
ACCOUNT = "123456789012"
STATUSES = ("ACTIVE", "DRAINING", "REGISTERING", "DEREGISTERING",
            "REGISTRATION_FAILED")


class EcsError(Exception):
    def __init__(self, type_, message, status=400):
        super().__init__(message)
        self.type, self.message, self.status = type_, message, status


class State:
    """What the fake ECS holds; tests read and change it directly."""

    def __init__(self, region="eu-west-1"):
        self.lock = threading.Lock()
        self.region = region
        self.creds = {}           # key id -> (secret, token or None)
        self.clusters = {}        # name -> [container instance dict]
        self.page_size = 100      # ARNs per ListContainerInstances page
        self.inject = []          # [(action or None, status, type, message)]
        self.raw = {}             # action -> raw 200 body, once
        self.calls = []           # (action, request object) of signed calls
        self.auth_failures = 0
        self.tokens = {}          # nextToken -> remaining ARNs

    def add_creds(self, key, secret, token=None):
        self.creds[key] = (secret, token)

    def add_cluster(self, name):
        self.clusters.setdefault(name, [])

    def arn(self, cluster, cid):
        return (f"arn:aws:ecs:{self.region}:{ACCOUNT}:container-instance/"
                f"{cluster}/{cid}")

    def add_instance(self, cluster, ec2_id, status="ACTIVE"):
        cid = uuid.uuid4().hex
        ci = {"containerInstanceArn": self.arn(cluster, cid),
              "ec2InstanceId": ec2_id, "status": status,
              "agentConnected": status == "ACTIVE", "runningTasksCount": 2,
              "pendingTasksCount": 0,
              "versionInfo": {"agentVersion": "1.82.0",
                              "dockerVersion": "DockerVersion: 20.10.25"},
              "registeredAt": 1700000000.123}
        self.clusters.setdefault(cluster, []).append(ci)
        return ci["containerInstanceArn"]

    def count(self, action):
        return sum(1 for a, _ in self.calls if a == action)


def _cluster(st, req):
    c = req.get("cluster", "default")
    if not isinstance(c, str):
        raise EcsError("InvalidParameterException",
                       "cluster must be a string")
    if c.startswith("arn:"):
        c = c.rsplit("/", 1)[-1]
    if c not in st.clusters:
        raise EcsError("ClusterNotFoundException", "Cluster not found.")
    return c


def list_container_instances(st, req):
    c = _cluster(st, req)
    mr = req.get("maxResults", 100)
    if not isinstance(mr, int) or not 1 <= mr <= 100:
        raise EcsError("InvalidParameterException",
                       "maxResults must be between 1 and 100")
    status = req.get("status")
    if status is not None and status not in STATUSES:
        raise EcsError("InvalidParameterException",
                       f"Invalid status: {status}")
    tok = req.get("nextToken")
    if tok is not None:
        if tok not in st.tokens:
            raise EcsError("InvalidParameterException",
                           "Invalid nextToken value.")
        arns = st.tokens.pop(tok)
    else:
        arns = [ci["containerInstanceArn"] for ci in st.clusters[c]
                if status is None or ci["status"] == status]
    limit = min(mr, st.page_size)
    page, rest = arns[:limit], arns[limit:]
    out = {"containerInstanceArns": page}
    if rest:
        nxt = uuid.uuid4().hex + uuid.uuid4().hex
        st.tokens[nxt] = rest
        out["nextToken"] = nxt
    return out


def describe_container_instances(st, req):
    c = _cluster(st, req)
    want = req.get("containerInstances")
    if not isinstance(want, list) or not want:
        raise EcsError("InvalidParameterException",
                       "containerInstances can not be empty.")
    if len(want) > 100:
        raise EcsError("InvalidParameterException",
                       "instanceIds can have at most 100 items.")
    by_arn = {ci["containerInstanceArn"]: ci for ci in st.clusters[c]}
    found, failures = [], []
    for a in want:
        if a in by_arn:
            found.append(by_arn[a])
        else:
            failures.append({"arn": a, "reason": "MISSING"})
    return {"containerInstances": found, "failures": failures}


ACTIONS = {
    "ListContainerInstances": list_container_instances,
    "DescribeContainerInstances": describe_container_instances,
}


class Handler(BaseHTTPRequestHandler):
    state = None
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def _send(self, status, obj=None, raw=None):
        data = raw.encode() if raw is not None else json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status, type_, message):
        self._send(status, {"__type": type_, "message": message})

    def do_POST(self):
        st = self.state
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        try:
            sigv4check.check("POST", self.headers.get("Host", ""), self.path,
                             self.headers.items(), body, st.creds, "ecs",
                             st.region)
        except sigv4check.SigError as e:
            with st.lock:
                st.auth_failures += 1
            self._error(400, "InvalidSignatureException",
                        f"The request signature we calculated does not match "
                        f"the signature you provided ({e})")
            return
        target = self.headers.get("X-Amz-Target", "")
        if not target.startswith(PREFIX):
            self._error(400, "UnknownOperationException", "")
            return
        action = target[len(PREFIX):]
        ctype = self.headers.get("Content-Type", "")
        if ctype != "application/x-amz-json-1.1":
            self._error(400, "SerializationException",
                        f"Unexpected content type {ctype}")
            return
        try:
            req = json.loads(body or b"{}")
            if not isinstance(req, dict):
                raise ValueError("not an object")
        except ValueError:
            self._error(400, "SerializationException",
                        "Start of structure or map found where not expected.")
            return
        with st.lock:
            st.calls.append((action, req))
            inj = None
            for i, (a, status, type_, msg) in enumerate(st.inject):
                if a is None or a == action:
                    inj = st.inject.pop(i)
                    break
            raw = st.raw.pop(action, None)
        if inj:
            self._error(inj[1], inj[2], inj[3])
            return
        if raw is not None:
            self._send(200, raw=raw)
            return
        fn = ACTIONS.get(action)
        if fn is None:
            self._error(400, "UnknownOperationException", "")
            return
        try:
            with st.lock:
                out = fn(st, req)
        except EcsError as e:
            self._error(e.status, e.type, e.message)
            return
        self._send(200, out)


def start(state=None):
    return fakeserver.Server(Handler, state or State())


if __name__ == "__main__":
    s = State()
    s.add_creds(sys.argv[1] if len(sys.argv) > 1 else "AKIDEXAMPLE",
                sys.argv[2] if len(sys.argv) > 2 else "secret")
    srv = start(s)
    print(srv.url, flush=True)
    srv.thread.join()
