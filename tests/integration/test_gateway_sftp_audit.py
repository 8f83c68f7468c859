# SPDX-License-Identifier: Apache-2.0
# tests/integration/test_gateway_sftp_audit.py - jumpgated parses the SFTP
# it relays: the real OpenSSH sftp client through the gateway puts and gets
# a file, renames, makes and removes a folder, removes a file, changes a
# mode, links and copies; the event log has sftp.* events with the right
# paths, flags, modes and byte counts, all under the channel's session id;
# `jumpgate audit search` finds a path and the log still verifies. A raw
# SFTP client shows that what follows a repeated INIT is logged, and that
# a stream the parser cannot follow ends the channel before it reaches the
# target.
import os
import struct
import subprocess
import time

import pytest

from gw_fixtures import *  # noqa: F401,F403
from gw_fixtures import gateway_events, wait_for

SIZE = 1234567  # not a multiple of any SFTP block size


def jg(g, *args):
    return subprocess.run([str(JUMPGATE), "-c", str(g.config), *args],
                          capture_output=True, text=True, timeout=60)


events = gateway_events


def wait_events(g, pred, timeout=15.0):
    """The monitor appends events as the worker sends them; wait until pred
    holds for the log (bounded)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        ev = events(g)
        if pred(ev):
            return ev
        time.sleep(0.1)
    raise AssertionError(f"events not complete: {[e['type'] for e in events(g)]}")


def verified(g):
    """verify --all passes once the seal after the session's last events is
    written (the master seals the log shortly after they are appended)."""
    last = []

    def ok():
        last[:] = [jg(g, "audit", "verify", "--all")]
        return last[0].returncode == 0
    try:
        wait_for(ok, what="the event log to verify")
    except AssertionError:
        raise AssertionError(last[0].stdout + last[0].stderr)


def sftp(g, batch, tmp_path):
    b = tmp_path / "batch"
    b.write_text(batch)
    r = subprocess.run(["sftp", "-b", str(b)] + g.client_opts("alice:web-1") +
                       ["127.0.0.1"], capture_output=True, timeout=120)
    assert r.returncode == 0, r
    return r


def sftp_sessions(ev):
    return [e["session"] for e in ev
            if e["type"] == "session.start" and e["action"] == "sftp"]


@pytest.fixture(scope="module")
def g(gw_env, tmp_path_factory):
    gw = Gateway(gw_env, tmp_path_factory.mktemp("gwsftp"), policy_text(gw_env))
    yield gw
    gw.stop()


def test_sftp_operations_logged_with_paths_and_counts(g, tmp_path):
    src = tmp_path / "src.bin"
    src.write_bytes(os.urandom(SIZE))
    src.chmod(0o640)
    remote = tmp_path / "remote"
    remote.mkdir()
    up, moved = remote / "upload.bin", remote / "moved-zq7.bin"
    back = tmp_path / "back.bin"
    d, gone = remote / "newdir", remote / "doomed.txt"
    gone.write_text("bye\n")
    before = {e["seq"] for e in events(g)}
    sftp(g, f"put {src} {up}\n"
            f"get {up} {back}\n"
            f"rename {up} {moved}\n"
            f"mkdir {d}\n"
            f"rmdir {d}\n"
            f"rm {gone}\n"
            f"chmod 600 {moved}\n", tmp_path)
    assert back.read_bytes() == src.read_bytes()
    assert not d.exists() and not gone.exists()
    assert moved.stat().st_mode & 0o777 == 0o600

    def done(ev):
        ids = [s for s in sftp_sessions(ev)]
        return any(e["type"] == "session.end" and e["session"] in ids
                   for e in ev)
    ev = [e for e in wait_events(g, done) if e["seq"] not in before]
    [sid] = sftp_sessions(ev)
    mine = [e for e in ev if e.get("session") == sid]
    sf = [e for e in mine if e["type"].startswith("sftp.")]
    # Every event names the channel's session, the user, target and login.
    for e in mine:
        assert e["user"] == "alice" and e["target"] == "web-1", e
        assert e["login"] == "root" and e["action"] == "sftp", e
        assert e["rule"] == "ops-shell" and e["from"] == "127.0.0.1", e
    assert not any(e["type"] == "sftp.error" for e in sf), sf

    def one(type_, **kw):
        hits = [e for e in sf if e["type"] == type_ and
                all(e.get(k) == v for k, v in kw.items())]
        assert len(hits) == 1, (type_, kw, sf)
        return hits[0]

    # put: opened for writing with the local mode, all bytes written
    o = one("sftp.open", path=str(up), status="ok",
            flags="write,creat,trunc")
    assert o["mode"] == "0640"
    c = one("sftp.close", path=str(up), bytes_written=SIZE)
    assert c["bytes_read"] == 0 and c["status"] == "ok"
    # get: opened for reading, all bytes read
    one("sftp.open", path=str(up), flags="read", status="ok")
    c = one("sftp.close", path=str(up), bytes_read=SIZE)
    assert c["bytes_written"] == 0
    one("sftp.rename", path=str(up), to=str(moved), status="ok")
    one("sftp.mkdir", path=str(d), status="ok")
    one("sftp.rmdir", path=str(d), status="ok")
    one("sftp.remove", path=str(gone), status="ok")
    one("sftp.setstat", path=str(moved), mode="0600", status="ok")
    # In the order the client did them.
    order = [e["type"] for e in sf if e["type"] in
             ("sftp.rename", "sftp.mkdir", "sftp.rmdir", "sftp.remove",
              "sftp.setstat")]
    assert order == ["sftp.rename", "sftp.mkdir", "sftp.rmdir",
                     "sftp.remove", "sftp.setstat"]
    start = next(e for e in mine if e["type"] == "session.start")
    end = next(e for e in mine if e["type"] == "session.end")
    assert start["seq"] < min(e["seq"] for e in sf) < end["seq"]
    # The channel carried at least the file both ways.
    assert end["bytes_in"] > SIZE and end["bytes_out"] > SIZE
    assert isinstance(end["duration_ms"], int) and end["duration_ms"] >= 0

    s = jg(g, "audit", "search", r"moved-zq7\.bin$")
    assert s.returncode == 0, s.stdout + s.stderr
    lines = s.stdout.splitlines()
    assert any(sid in l and "alice \u2192 web-1" in l and "sftp.rename to" in l
               and str(moved) in l and "+0:" in l for l in lines), lines
    assert any("sftp.setstat path" in l for l in lines), lines
    verified(g)


def test_failed_operation_and_listing(g, tmp_path):
    missing = tmp_path / "no-such-file"
    before = {e["seq"] for e in events(g)}
    b = tmp_path / "batch"
    # "-" before a command: sftp goes on when it fails.
    b.write_text(f"-rm {missing}\nls {tmp_path}\n")
    r = subprocess.run(["sftp", "-b", str(b)] + g.client_opts("alice:web-1") +
                       ["127.0.0.1"], capture_output=True, timeout=60)
    assert r.returncode == 0, r

    def done(ev):
        new = [e for e in ev if e["seq"] not in before]
        ids = sftp_sessions(new)
        return any(e["type"] == "session.end" and e["session"] in ids
                   for e in new)
    ev = [e for e in wait_events(g, done) if e["seq"] not in before]
    rm = [e for e in ev if e["type"] == "sftp.remove"]
    assert [(e["path"], e["status"]) for e in rm] == [(str(missing),
                                                       "no_such_file")]
    # (sftp's ls asks for the folder with a trailing slash)
    assert any(e["type"] == "sftp.opendir" and
               e["path"].rstrip("/") == str(tmp_path) and
               e["status"] == "ok" for e in ev), ev
    verified(g)


def test_sftp_refused_when_it_cannot_be_logged(make_gateway, tmp_path):
    # audit.on_failure: refuse (the default): without an event log there is
    # no session at all (its first event cannot be written), and the user
    # is told why.
    gw = make_gateway()
    events_dir = gw.audit_dir / "events"
    if events_dir.is_dir():
        for f in events_dir.iterdir():
            f.unlink()
        events_dir.rmdir()
    events_dir.write_text("not a folder\n")
    target = tmp_path / "must-not-exist"
    b = tmp_path / "batch"
    b.write_text(f"mkdir {target}\n")
    r = subprocess.run(["sftp", "-b", str(b)] + gw.client_opts("alice:web-1") +
                       ["127.0.0.1"], capture_output=True, timeout=60)
    assert r.returncode != 0
    assert not target.exists()
    assert b"the audit event log could not be written" in r.stderr, r.stderr
    assert gw.wait_log("cannot open the event log"), gw.logtext()


def test_links_and_copies_logged(g, tmp_path):
    remote = tmp_path / "remote"
    remote.mkdir()
    orig = remote / "orig.txt"
    orig.write_text("original\n")
    sym, hard, copy = remote / "sym", remote / "hard", remote / "copy.txt"
    before = {e["seq"] for e in events(g)}
    # sftp's ln -s sends SYMLINK, ln hardlink@openssh.com, cp copy-data.
    sftp(g, f"ln -s {orig} {sym}\n"
            f"ln {orig} {hard}\n"
            f"cp {orig} {copy}\n", tmp_path)
    assert os.readlink(sym) == str(orig)
    assert hard.stat().st_ino == orig.stat().st_ino
    assert copy.read_text() == "original\n"

    def done(ev):
        new = [e for e in ev if e["seq"] not in before]
        ids = sftp_sessions(new)
        return any(e["type"] == "session.end" and e["session"] in ids
                   for e in new)
    ev = [e for e in wait_events(g, done) if e["seq"] not in before]
    sf = [e for e in ev if e["type"].startswith("sftp.")]
    assert not any(e["type"] == "sftp.error" for e in sf), sf
    assert [(e["path"], e["to"], e["status"]) for e in sf
            if e["type"] == "sftp.symlink"] == [(str(sym), str(orig), "ok")]
    assert [(e["path"], e["to"], e["status"]) for e in sf
            if e["type"] == "sftp.link"] == [(str(hard), str(orig), "ok")]
    assert [(e["path"], e["to"], e["length"], e["status"]) for e in sf
            if e["type"] == "sftp.copy"] == [(str(orig), str(copy), 0, "ok")]


class RawSftp:
    """An SFTP client speaking packets over `ssh -s ... sftp` through the
    gateway, so a test can send what the sftp program never would."""

    def __init__(self, g):
        self.p = subprocess.Popen(
            g.ssh_args("alice:web-1", extra=("-s",)) + ["sftp"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE)

    @staticmethod
    def s(v):
        v = v.encode() if isinstance(v, str) else v
        return struct.pack(">I", len(v)) + v

    @staticmethod
    def packet(type_, body):
        return struct.pack(">IB", len(body) + 1, type_) + body

    def send(self, data):
        self.p.stdin.write(data)
        self.p.stdin.flush()

    def read(self):
        """The next packet from the server: (type, body); None at EOF."""
        head = self.p.stdout.read(4)
        if len(head) < 4:
            return None
        (n,) = struct.unpack(">I", head)
        body = self.p.stdout.read(n)
        return body[0], body[1:]

    def init(self):
        self.send(self.packet(1, struct.pack(">I", 3)))
        t, body = self.read()
        assert t == 2 and struct.unpack(">I", body[:4])[0] == 3

    def call(self, type_, id_, body):
        """A request; the reply's type and what follows its id."""
        self.send(self.packet(type_, struct.pack(">I", id_) + body))
        t, rest = self.read()
        assert struct.unpack(">I", rest[:4])[0] == id_
        return t, rest[4:]

    def ok(self, type_, id_, body, code=0):
        t, rest = self.call(type_, id_, body)
        assert t == 101 and struct.unpack(">I", rest[:4])[0] == code, rest
        return rest

    def handle(self, id_, path, pflags):
        t, rest = self.call(3, id_, self.s(str(path)) +
                            struct.pack(">II", pflags, 0))
        assert t == 102, rest
        (n,) = struct.unpack(">I", rest[:4])
        return rest[4:4 + n]

    def finish(self, timeout=30):
        self.p.stdin.close()
        out = self.p.stdout.read()
        err = self.p.stderr.read()
        return self.p.wait(timeout=timeout), out, err


def session_events(g, before):
    """Events of the first sftp session after before, once it ended."""
    def done(ev):
        new = [e for e in ev if e["seq"] not in before]
        ids = sftp_sessions(new)
        return any(e["type"] == "session.end" and e["session"] in ids
                   for e in new)
    ev = [e for e in wait_events(g, done) if e["seq"] not in before]
    [sid] = sftp_sessions(ev)
    return [e for e in ev if e.get("session") == sid]


def test_requests_after_a_second_init_are_logged(g, tmp_path):
    # OpenSSH's sftp-server answers a repeated INIT and carries on; the
    # audit must too, and log every change that follows it.
    remote = tmp_path / "remote"
    remote.mkdir()
    orig = remote / "orig.txt"
    orig.write_text("0123456789")
    d, sym, hard = remote / "dir", remote / "sym", remote / "hard"
    new, moved, copy = remote / "new", remote / "moved", remote / "copy"
    before = {e["seq"] for e in events(g)}
    c, s = RawSftp(g), RawSftp.s
    c.init()
    c.init()
    c.ok(14, 1, s(str(d)) + struct.pack(">I", 0))           # MKDIR
    c.ok(20, 2, s(str(orig)) + s(str(sym)))                # SYMLINK
    c.ok(200, 3, s("hardlink@openssh.com") + s(str(orig)) + s(str(hard)))
    h = c.handle(4, new, 0x2 | 0x8 | 0x10)                 # write,creat,trunc
    c.ok(6, 5, s(h) + struct.pack(">Q", 0) + s(b"hello"))  # WRITE
    c.ok(4, 6, s(h))                                       # CLOSE
    c.ok(18, 7, s(str(new)) + s(str(moved)))               # RENAME
    r = c.handle(8, orig, 0x1)
    w = c.handle(9, copy, 0x2 | 0x8)
    c.ok(200, 10, s("copy-data") + s(r) + struct.pack(">QQ", 0, 4) + s(w) +
         struct.pack(">Q", 0))
    c.ok(4, 11, s(r))
    c.ok(4, 12, s(w))
    c.ok(200, 13, s("no-such@example.com") + s("x"), code=8)
    t, _ = c.call(200, 14, s("statvfs@openssh.com") + s("/"))
    assert t == 201
    rc, _, err = c.finish()
    assert rc == 0, err
    assert d.is_dir() and os.readlink(sym) == str(orig)
    assert hard.stat().st_ino == orig.stat().st_ino
    assert moved.read_bytes() == b"hello" and copy.read_text() == "0123"

    mine = session_events(g, before)
    sf = [(e["type"], {k: v for k, v in e.items() if k in
                       ("path", "to", "request", "status", "bytes_written",
                        "length")})
          for e in mine if e["type"].startswith("sftp.")]
    assert sf == [
        ("sftp.mkdir", {"path": str(d), "status": "ok"}),
        ("sftp.symlink", {"path": str(sym), "to": str(orig), "status": "ok"}),
        ("sftp.link", {"path": str(hard), "to": str(orig), "status": "ok"}),
        ("sftp.open", {"path": str(new), "status": "ok"}),
        ("sftp.close", {"path": str(new), "bytes_written": 5,
                        "status": "ok"}),
        ("sftp.rename", {"path": str(new), "to": str(moved), "status": "ok"}),
        ("sftp.open", {"path": str(orig), "status": "ok"}),
        ("sftp.open", {"path": str(copy), "status": "ok"}),
        ("sftp.copy", {"path": str(orig), "to": str(copy), "length": 4,
                       "status": "ok"}),
        ("sftp.close", {"path": str(orig), "bytes_written": 0,
                        "status": "ok"}),
        ("sftp.close", {"path": str(copy), "bytes_written": 0,
                        "status": "ok"}),
        ("sftp.extended", {"request": "no-such@example.com",
                           "status": "op_unsupported"}),
    ], sf


def test_a_stream_the_audit_cannot_follow_ends_the_channel(g, tmp_path):
    # A MKDIR whose attributes run past its packet, sent with a good MKDIR
    # behind it: sftp-server would read the size from the next packet and
    # make the folder, and the audit could not say so. The gateway relays
    # neither: the channel ends with the reason, logged and shown.
    bad, good = tmp_path / "bad-dir", tmp_path / "good-dir"
    before = {e["seq"] for e in events(g)}
    c, s = RawSftp(g), RawSftp.s
    c.init()
    c.send(c.packet(14, struct.pack(">I", 1) + s(str(bad)) +
                    struct.pack(">I", 0x1)) +
           c.packet(14, struct.pack(">I", 2) + s(str(good)) +
                    struct.pack(">I", 0)))
    assert c.read() is None     # no reply: the channel closed
    rc, _, err = c.finish()
    assert rc == 1, err
    assert b"jumpgate: sftp channel closed: the audit cannot follow it" \
        in err and b"SSH_FXP_MKDIR" in err, err
    assert not bad.exists() and not good.exists()
    mine = session_events(g, before)
    [e] = [e for e in mine if e["type"] == "sftp.error"]
    assert "SSH_FXP_MKDIR: a field runs past the end" in e["reason"], e
    assert not any(e["type"] == "sftp.mkdir" for e in mine), mine
    assert mine[-1]["type"] == "session.end"


def test_sftp_and_scp_take_plus_for_the_target(g, tmp_path):
    # sftp and scp read "alice:web-1@host" as host "alice" and a path;
    # "alice+web-1@host" reaches web-1 as "alice:web-1" does.
    opts = g.client_opts("unused")
    i = opts.index("User=unused")
    opts = opts[:i - 1] + opts[i + 1:]
    payload = os.urandom(4096)
    src = tmp_path / "up.bin"
    src.write_bytes(payload)
    remote = f"/tmp/jg-plus-{os.getpid()}-{tmp_path.name}.bin"
    b = tmp_path / "batch-plus"
    b.write_text(f"put {src} {remote}\n")
    r = subprocess.run(["sftp", "-b", str(b)] + opts + ["alice+web-1@127.0.0.1"],
                       capture_output=True, timeout=120)
    assert r.returncode == 0, r
    back = tmp_path / "back.bin"
    r = subprocess.run(["scp", "-q"] + opts +
                       [f"alice+web-1@127.0.0.1:{remote}", str(back)],
                       capture_output=True, timeout=120)
    assert r.returncode == 0, r
    assert back.read_bytes() == payload
    # With a login: scp takes the last '@' before the host.
    r = subprocess.run(["scp", "-q"] + opts +
                       [str(src), f"alice+root@web-1@127.0.0.1:{remote}.2"],
                       capture_output=True, timeout=120)
    assert r.returncode == 0, r
    assert open(remote + ".2", "rb").read() == payload
    os.unlink(remote + ".2")
    os.unlink(remote)
    ev = gateway_events(g)
    starts = [e for e in ev if e["type"] == "session.start" and
              e["action"] == "sftp" and e["user"] == "alice"]
    assert len(starts) >= 2 and all(e["target"] == "web-1" for e in starts)
