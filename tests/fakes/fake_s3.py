# SPDX-License-Identifier: Apache-2.0
# tests/fakes/fake_s3.py - an in-memory S3 for the calls jumpgate's shipper
# makes (PutObject, Create/UploadPart/Complete/AbortMultipartUpload, and
# GetObject to read back), path-style, answering with S3's XML shapes and
# error codes. Unlike s3rver it checks every request's SigV4 signature with
# botocore, and, as S3 does, refuses a body whose x-amz-content-sha256 or
# Content-MD5 does not match. It can inject errors, wrong ETags and
# Complete answers that are 200 with an <Error> inside.
import base64
import hashlib
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qsl, quote, unquote, urlsplit
from xml.etree import ElementTree
from xml.sax.saxutils import escape

import fakeserver
import sigv4check


class S3Error(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class State:
    """What the fake S3 holds; tests read and change it directly."""

    def __init__(self, region="eu-west-1"):
        self.lock = threading.Lock()
        self.region = region
        self.creds = {}          # key id -> (secret, token or None)
        self.buckets = set()
        self.objects = {}        # (bucket, key) -> bytes
        self.uploads = {}        # upload id -> {"bucket","key","parts":{}}
        self.aborted = []        # upload ids
        self.calls = []          # (op, key) of signed, accepted requests
        self.auth_failures = 0
        self.inject = []         # [(op or None, status, code)], used once each
        self.bad_etag = set()    # ops answering a wrong ETag
        self.complete_error = 0  # Complete answers 200 + <Error> this often

    def add_creds(self, key, secret, token=None):
        self.creds[key] = (secret, token)

    def ops(self):
        return [op for op, _ in self.calls]


def _xml(root, **kids):
    inner = "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in kids.items())
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<{root} xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
            f"{inner}</{root}>")


def _error_xml(code, message, rid):
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{escape(code)}</Code><Message>{escape(message)}"
            f"</Message><RequestId>{rid}</RequestId>"
            "<HostId>ZmFrZS1zMw==</HostId></Error>")


class Handler(BaseHTTPRequestHandler):
    state = None
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def _send(self, status, body=b"", headers=None):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amz-request-id", self.rid)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _op(self, method, query):
        if method == "PUT":
            return "UploadPart" if "uploadId" in query else "PutObject"
        if method == "POST":
            if "uploads" in query:
                return "CreateMultipartUpload"
            return "CompleteMultipartUpload"
        if method == "DELETE":
            return "AbortMultipartUpload"
        return "GetObject"

    def _handle(self, method):
        st = self.state
        self.rid = uuid.uuid4().hex[:16].upper()
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n) if n else b""
        u = urlsplit(self.path)
        query = dict(parse_qsl(u.query, keep_blank_values=True))
        op = self._op(method, query)
        try:
            try:
                sigv4check.check(method, self.headers.get("Host", ""),
                                 self.path, self.headers.items(), body,
                                 st.creds, "s3", st.region)
            except sigv4check.SigError as e:
                with st.lock:
                    st.auth_failures += 1
                raise S3Error(403, "SignatureDoesNotMatch",
                              f"The request signature we calculated does not "
                              f"match the signature you provided ({e})")
            # S3 signs the canonical form of what it decoded: a path or query
            # sent in any other encoding would fail against S3, even though
            # botocore, reading the raw URL, agrees with the sender.
            canon_q = "&".join(
                f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}"
                for k, v in sorted(parse_qsl(u.query,
                                             keep_blank_values=True)))
            if u.query != canon_q or u.path != quote(unquote(u.path),
                                                     safe="/-_.~"):
                raise S3Error(403, "SignatureDoesNotMatch",
                              f"path or query not in canonical form: "
                              f"{self.path}")
            sha = self.headers.get("x-amz-content-sha256")
            if sha != hashlib.sha256(body).hexdigest():
                raise S3Error(400, "XAmzContentSHA256Mismatch",
                              "The provided 'x-amz-content-sha256' header "
                              "does not match what was computed.")
            md5 = self.headers.get("Content-MD5")
            if method == "PUT" and md5 is None:
                raise S3Error(400, "InvalidRequest",
                              "Content-MD5 HTTP header is required")
            if md5 is not None and md5 != base64.b64encode(
                    hashlib.md5(body).digest()).decode():
                raise S3Error(400, "BadDigest", "The Content-MD5 you "
                              "specified did not match what we received.")
            parts = u.path.lstrip("/").split("/", 1)
            if len(parts) != 2 or not parts[1]:
                raise S3Error(400, "InvalidRequest", "path-style only")
            bucket, key = parts[0], unquote(parts[1])
            with st.lock:
                for i, (iop, status, code) in enumerate(st.inject):
                    if iop is None or iop == op:
                        del st.inject[i]
                        raise S3Error(status, code, "injected")
                if bucket not in st.buckets:
                    raise S3Error(404, "NoSuchBucket",
                                  "The specified bucket does not exist")
                st.calls.append((op, key))
                self._do(st, op, bucket, key, query, body)
        except S3Error as e:
            self._send(e.status, _error_xml(e.code, e.message, self.rid))

    def _etag(self, st, op, data):
        tag = hashlib.md5(data).hexdigest()
        if op in st.bad_etag:
            tag = hashlib.md5(data + b"x").hexdigest()
        return tag

    def _do(self, st, op, bucket, key, query, body):
        if op == "PutObject":
            st.objects[(bucket, key)] = body
            self._send(200, headers={"ETag": f'"{self._etag(st, op, body)}"'})
        elif op == "CreateMultipartUpload":
            uid = "up." + uuid.uuid4().hex + "~/+="
            st.uploads[uid] = {"bucket": bucket, "key": key, "parts": {}}
            self._send(200, _xml("InitiateMultipartUploadResult",
                                 Bucket=bucket, Key=key, UploadId=uid))
        elif op == "UploadPart":
            up = st.uploads.get(query["uploadId"])
            if up is None:
                raise S3Error(404, "NoSuchUpload", "no such upload")
            up["parts"][int(query["partNumber"])] = body
            self._send(200, headers={"ETag": f'"{self._etag(st, op, body)}"'})
        elif op == "CompleteMultipartUpload":
            up = st.uploads.get(query.get("uploadId"))
            if up is None:
                raise S3Error(404, "NoSuchUpload", "no such upload")
            if st.complete_error > 0:
                st.complete_error -= 1
                self._send(200, _error_xml("InternalError", "injected",
                                           self.rid))
                return
            doc = ElementTree.fromstring(body)
            ns = "{http://s3.amazonaws.com/doc/2006-03-01/}"
            listed = [(int(p.find(ns + "PartNumber").text),
                       p.find(ns + "ETag").text.strip('"'))
                      for p in doc.findall(ns + "Part")]
            if [n for n, _ in listed] != sorted(up["parts"]):
                raise S3Error(400, "InvalidPartOrder", "parts out of order")
            md5s = b""
            for n, tag in listed:
                if hashlib.md5(up["parts"][n]).hexdigest() != tag:
                    raise S3Error(400, "InvalidPart", f"part {n} ETag")
                md5s += hashlib.md5(up["parts"][n]).digest()
            data = b"".join(up["parts"][n] for n, _ in listed)
            st.objects[(bucket, key)] = data
            del st.uploads[query["uploadId"]]
            tag = f"{hashlib.md5(md5s).hexdigest()}-{len(listed)}"
            if op in st.bad_etag:
                tag = hashlib.md5(b"x").hexdigest() + f"-{len(listed)}"
            self._send(200, _xml("CompleteMultipartUploadResult",
                                 Bucket=bucket, Key=key, ETag=f'"{tag}"'))
        elif op == "AbortMultipartUpload":
            st.uploads.pop(query.get("uploadId"), None)
            st.aborted.append(query.get("uploadId"))
            self._send(204)
        else:
            data = st.objects.get((bucket, key))
            if data is None:
                raise S3Error(404, "NoSuchKey", "The specified key does not "
                              "exist.")
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    def do_PUT(self):
        self._handle("PUT")

    def do_POST(self):
        self._handle("POST")

    def do_DELETE(self):
        self._handle("DELETE")

    def do_GET(self):
        self._handle("GET")


def start(state=None):
    return fakeserver.Server(Handler, state or State())


if __name__ == "__main__":
    s = State()
    s.add_creds(sys.argv[1] if len(sys.argv) > 1 else "AKIDEXAMPLE",
                sys.argv[2] if len(sys.argv) > 2 else "secret")
    s.buckets.add("shop-audit")
    srv = start(s)
    print(srv.url, flush=True)
    threading.Event().wait()
