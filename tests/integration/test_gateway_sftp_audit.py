# SPDX-License-Identifier: Apache-2.0
# tests/integration/test_gateway_sftp_audit.py - jumpgated parses the SFTP
# it relays: the real OpenSSH sftp client through the gateway puts and gets
# a file, renames, makes and removes a folder, removes a file and changes a
# mode; the event log has sftp.* events with the right paths, flags, modes
# and byte counts, all under the channel's session id; `jumpgate audit
# search` finds a path and the log still verifies.
import os
import subprocess
import time

import pytest

from gw_fixtures import *  # noqa: F401,F403
from gw_fixtures import gateway_events

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
    v = jg(g, "audit", "verify", "--all")
    assert v.returncode == 0, v.stdout + v.stderr


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
    v = jg(g, "audit", "verify", "--all")
    assert v.returncode == 0, v.stdout + v.stderr


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
