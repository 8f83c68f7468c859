# SPDX-License-Identifier: Apache-2.0
# tests/integration/audit_fixtures.py - fixtures for the audit tests: a tiny
# driver program, compiled here against build/libaudit.a, that makes real
# recordings and event-log lines through the library (so what the tests
# tamper with, play and search is exactly what the gateway will write), an
# audit configuration with a fresh seal key, and asciinema run on a pty.
import json
import os
import pty
import select
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# The driver reads one JSON command per line on stdin and prints one JSON
# answer per line. Recorders are kept by session id.
DRIVER_C = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "audit/audit.h"

#define MAXREC 16
static struct { char id[JG_AUDIT_ID_STRLEN]; struct jg_audit_rec *r; } recs[MAXREC];

static struct jg_audit_rec **find(const char *id) {
    for (int i = 0; i < MAXREC; i++)
        if (recs[i].r != NULL && strcmp(recs[i].id, id) == 0) return &recs[i].r;
    return NULL;
}
static const char *s(json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }
static int64_t n(json_t *o, const char *k) { return json_integer_value(json_object_get(o, k)); }
static size_t unhex(const char *h, unsigned char *out) {
    size_t l = strlen(h) / 2;
    for (size_t i = 0; i < l; i++) { unsigned v; sscanf(h + 2 * i, "%2x", &v); out[i] = (unsigned char)v; }
    return l;
}

int main(int argc, char **argv) {
    struct jg_audit_key *key = NULL;
    struct jg_audit_log *log = NULL;
    char line[1 << 20];
    if (argc != 3) return 2;
    if (jg_audit_key_load_private(argv[2], &key) != 0) { fprintf(stderr, "no key\n"); return 2; }
    if (jg_audit_log_open(argv[1], key, 4, &log) != 0) { fprintf(stderr, "no log\n"); return 2; }
    while (fgets(line, sizeof(line), stdin) != NULL) {
        json_t *c = json_loads(line, 0, NULL);
        const char *op = s(c, "op");
        int64_t t = n(c, "time");
        int r = 0;
        char id[JG_AUDIT_ID_STRLEN] = "";
        struct jg_audit_rec **rp = s(c, "session") ? find(s(c, "session")) : NULL;
        if (strcmp(op, "uuid") == 0) {
            r = jg_audit_uuid7(id);
        } else if (strcmp(op, "open") == 0) {
            struct jg_audit_rec_info in = {0};
            jg_audit_uuid7(id);
            in.session = s(c, "session") ? s(c, "session") : id;
            jg_strlcpy(id, in.session, sizeof(id));
            in.user = s(c, "user"); in.target = s(c, "target"); in.login = s(c, "login");
            in.from = s(c, "from"); in.rule = s(c, "rule"); in.action = s(c, "action");
            in.command = s(c, "command"); in.term = s(c, "term");
            in.width = (unsigned)n(c, "width"); in.height = (unsigned)n(c, "height");
            in.record_input = json_is_true(json_object_get(c, "record_input"));
            for (int i = 0; i < MAXREC; i++) if (recs[i].r == NULL) {
                r = jg_audit_rec_open(argv[1], &in, key, t, &recs[i].r);
                jg_strlcpy(recs[i].id, id, sizeof(recs[i].id));
                break;
            }
        } else if (rp == NULL && strcmp(op, "event") != 0 && strcmp(op, "seal") != 0 &&
                   strcmp(op, "tseal") != 0) {
            r = -100;
        } else if (strcmp(op, "o") == 0 || strcmp(op, "i") == 0 || strcmp(op, "e") == 0) {
            static unsigned char buf[1 << 19];
            size_t l = unhex(s(c, "hex"), buf);
            r = op[0] == 'o' ? jg_audit_rec_output(*rp, t, buf, l)
                : op[0] == 'e' ? jg_audit_rec_stderr(*rp, t, buf, l) : jg_audit_rec_input(*rp, t, buf, l);
        } else if (strcmp(op, "r") == 0) {
            r = jg_audit_rec_resize(*rp, t, (unsigned)n(c, "cols"), (unsigned)n(c, "rows"));
        } else if (strcmp(op, "m") == 0) {
            r = jg_audit_rec_marker(*rp, t, s(c, "label"));
        } else if (strcmp(op, "exit") == 0) {
            r = jg_audit_rec_exit_status(*rp, t, (int)n(c, "status"));
        } else if (strcmp(op, "tick") == 0) {
            r = jg_audit_rec_tick(*rp, t);
        } else if (strcmp(op, "close") == 0) {
            r = jg_audit_rec_close(*rp, t); *rp = NULL;
        } else if (strcmp(op, "crash") == 0) {
            jg_audit_rec_free(*rp); *rp = NULL;
        } else if (strcmp(op, "event") == 0) {
            json_t *e = json_object_get(c, "event");
            struct jg_audit_event ev = {.type = s(e, "type"), .session = s(e, "session"),
                .user = s(e, "user"), .from = s(e, "from"), .target = s(e, "target"),
                .login = s(e, "login"), .action = s(e, "action"), .rule = s(e, "rule"),
                .reason = s(e, "reason"), .extra = json_object_get(e, "extra")};
            r = jg_audit_log_append(log, &ev, t);
        } else if (strcmp(op, "seal") == 0) {
            r = jg_audit_log_seal(log, t);
        } else if (strcmp(op, "tseal") == 0) {
            r = jg_audit_log_seal_timed(log, t, (unsigned)n(c, "next"));
        }
        printf("{\"rc\":%d,\"id\":\"%s\"}\n", r, id);
        fflush(stdout);
        json_decref(c);
    }
    jg_audit_log_free(log);
    jg_audit_key_free(key);
    return 0;
}
"""


def build_dir():
    build = os.environ.get("JG_BUILD")
    assert build, "JG_BUILD must name the build folder (run via make integration)"
    return Path(build)


@pytest.fixture(scope="session")
def rec_driver(tmp_path_factory):
    """Path of the driver program, built against the tree's libraries."""
    build = build_dir()
    libs = [build / f"lib{d}.a" for d in ("audit", "policy", "common")]
    for lib in libs:
        assert lib.is_file(), f"{lib} not built"
    d = tmp_path_factory.mktemp("driver")
    src = d / "rec_driver.c"
    src.write_text(DRIVER_C)
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "jansson",
                            "openssl", "yaml-0.1", "libzstd"], capture_output=True,
                           text=True, check=True).stdout.split()
    exe = d / "rec_driver"
    # Libraries built with sanitizers (make unit-asan) need them at link.
    nm = subprocess.run(["nm", str(libs[0])], capture_output=True, text=True)
    cc, san = "cc", []
    if "__asan_" in nm.stdout:
        cc, san = "clang", ["-fsanitize=address,undefined"]
    subprocess.run([cc] + san + ["-std=c17", "-D_GNU_SOURCE", "-I", str(ROOT), "-o",
                    str(exe), str(src)] + [str(x) for x in libs] + flags +
                   ["-lm", "-lpthread"], check=True)
    return exe


class Driver:
    """Talks to one running rec_driver."""

    def __init__(self, exe, audit_dir, key):
        self.p = subprocess.Popen([str(exe), str(audit_dir), str(key)],
                                  stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)

    def do(self, op, **kw):
        kw["op"] = op
        self.p.stdin.write(json.dumps(kw) + "\n")
        self.p.stdin.flush()
        ans = json.loads(self.p.stdout.readline())
        assert ans["rc"] == 0, (op, kw, ans)
        return ans

    def close(self):
        self.p.stdin.close()
        assert self.p.wait(timeout=30) == 0


# Recording start times used by the tests: a fixed day, µs since the epoch.
T0 = 1795737600 * 1000000  # 2026-11-27T00:00:00Z


class AuditEnv:
    """An audit folder, a seal key and a configuration naming both."""

    def __init__(self, env, driver_exe):
        self.env = env
        self.dir = env.root / "audit"
        self.dir.mkdir(mode=0o750)
        self.key = env.root / "audit_ed25519.pem"
        self.pub = env.root / "audit_ed25519.pem.pub"
        env.config.write_text(
            "policy: policy.yaml\n"
            "audit:\n"
            f"  dir: {self.dir}\n"
            f"  signing_key: {self.key}\n")
        self.exe = driver_exe
        self._driver = None

    @property
    def driver(self):
        if self._driver is None:
            rc, out, err = self.env.run("audit", "keygen") \
                if not self.key.exists() else (0, "", "")
            assert rc == 0, err
            self._driver = Driver(self.exe, self.dir, self.key)
        return self._driver

    def run(self, *args, **kw):
        return self.env.run("audit", *args, **kw)

    def record(self, events, start=T0, close=True, **info):
        """Makes a recording: events are (seconds, code, data) with code
        o/e/i/r/m/x (exit status) or t (a tick) and data bytes/str;
        returns its id."""
        d = self.driver
        base = dict(user="alice", target="web-1", login="ec2-user",
                    action="shell", rule="ops-prod-shell",
                    term="xterm-256color", width=100, height=30)
        base["from"] = "203.0.113.5"
        base.update(info)
        sid = d.do("uuid")["id"]
        d.do("open", session=sid, time=start, **base)
        for secs, code, data in events:
            t = start + int(secs * 1000000)
            if code in "oei":
                if isinstance(data, str):
                    data = data.encode()
                d.do(code, session=sid, time=t, hex=data.hex())
            elif code == "r":
                cols, rows = data
                d.do("r", session=sid, time=t, cols=cols, rows=rows)
            elif code == "m":
                d.do("m", session=sid, time=t, label=data)
            elif code == "x":
                d.do("exit", session=sid, time=t, status=data)
            elif code == "t":
                d.do("tick", session=sid, time=t)
        end = start + int(((events[-1][0] if events else 0) + 0.5) * 1000000)
        d.do("close" if close else "crash", session=sid, time=end)
        return sid

    def event(self, t, **ev):
        return self.driver.do("event", time=t, event=ev)

    def seal(self, t):
        return self.driver.do("seal", time=t)

    def timed_seal(self, t, next_within):
        """A timed seal, as the daemon writes every audit.seal_interval."""
        return self.driver.do("tseal", time=t, next=next_within)

    def rec(self, sid):
        """Path of recording sid (ID.jgr)."""
        for d in (self.dir / "sessions").iterdir():
            if (d / f"{sid}.jgr").exists():
                return d / f"{sid}.jgr"
        raise AssertionError(f"no recording {sid}")

    def export(self, sid, *args):
        """Bytes `jumpgate audit export sid ARGS` writes (asserts it
        succeeded)."""
        p = self.env.popen("audit", "export", sid, *args, text=False)
        out, _ = p.communicate(timeout=60)
        assert p.returncode == 0
        return out

    def finish(self):
        if self._driver is not None:
            self._driver.close()
            self._driver = None


@pytest.fixture
def audit(env, rec_driver):
    a = AuditEnv(env, rec_driver)
    yield a
    a.finish()


def jgr_frames(path):
    """The frames of a .jgr recording: (type, payload bytes); a frame not
    yet whole at the end is left out."""
    import struct
    b = Path(path).read_bytes()
    if b[:8] != b"JGREC1\n\0":
        return []
    out, at = [], 8
    while at + 12 <= len(b):
        n = struct.unpack_from("<I", b, at + 4)[0]
        if at + 12 + n > len(b):
            break
        out.append((chr(b[at]), b[at + 12:at + 12 + n]))
        at += 12 + n
    return out


def jgr_final(path):
    """True when the recording ends with its final seal."""
    fs = jgr_frames(path)
    return bool(fs) and fs[-1][0] == "S" and json.loads(fs[-1][1])["final"]


def asciinema_cat(path):
    """Output of `asciinema cat PATH` (it insists on a terminal): run on a
    pty, returns (exit status, bytes)."""
    exe = shutil.which("asciinema")
    assert exe, "asciinema is not installed"
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(exe, [exe, "cat", str(path)])
    out = bytearray()
    while True:
        r, _, _ = select.select([fd], [], [], 30)
        if not r:
            break
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), bytes(out)
