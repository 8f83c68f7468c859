# SPDX-License-Identifier: Apache-2.0
# tests/integration/test_gateway_audit.py - jumpgated records what crosses
# it: exec and pty shell sessions through real ssh become sealed recordings
# under audit.dir/sessions/DAY/ that keep every byte of stdout and stderr,
# that `jumpgate audit verify` accepts, whose asciicast view asciinema
# plays and `jumpgate audit search` finds; the event log tells who, from
# where, to which target; input only where the rule says so.
import hashlib
import json
import os
import re
import subprocess
import threading
import time

import pexpect
import pytest

from audit_fixtures import asciinema_cat, jgr_final, jgr_frames
from gw_fixtures import *  # noqa: F401,F403
from gw_fixtures import gateway_events
from gw_fixtures import descendants, ppid, proc_uid, wait_for

REC_RULE = """\
  - name: bob-recorded
    users: [bob]
    targets: [monitor]
    allow: [shell, exec]
    logins: [root]
    record_input: true
"""


def jg(g, *args):
    return subprocess.run([str(JUMPGATE), "-c", str(g.config), *args],
                          capture_output=True, text=True, timeout=60)


def casts(g):
    return sorted((g.audit_dir / "sessions").glob("*/*.jgr"))


def wait_casts(g, n, timeout=10.0):
    """Recordings are closed by the monitor when the channel ends; wait for
    n final seals."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        done = [c for c in casts(g) if jgr_final(c)]
        if len(done) >= n:
            return done
        time.sleep(0.1)
    raise AssertionError(f"{n} finished recordings expected, have {casts(g)}")


events = gateway_events


def export(g, path, *args):
    """What `jumpgate audit export` gives for the recording at path."""
    r = subprocess.run([str(JUMPGATE), "-c", str(g.config), "audit",
                        "export", path.stem, *args], capture_output=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout


def view(g, path, tmp_path):
    """The asciicast view of a recording, written to a file."""
    out = tmp_path / (path.stem + ".cast")
    out.write_bytes(export(g, path))
    return out


def header(path):
    with open(path) as f:
        return json.loads(f.readline())


def lines(path):
    with open(path) as f:
        f.readline()
        return [json.loads(l) for l in f if l.strip()]


@pytest.fixture
def agw(make_gateway, gw_env):
    return make_gateway(policy_text(gw_env, extra_rules=REC_RULE))


def test_exec_recorded_verified_searchable(agw, tmp_path):
    r = agw.ssh("alice:web-1", "echo zebraquartz-$((40+2)); exit 3")
    assert r.returncode == 3, r
    assert r.stdout == b"zebraquartz-42\n"
    [rec] = wait_casts(agw, 1)
    cast = view(agw, rec, tmp_path)
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", rec.parent.name)
    h = header(cast)
    assert h["version"] == 2
    jgh = h["jumpgate"]
    assert jgh["user"] == "alice" and jgh["target"] == "web-1"
    assert jgh["action"] == "exec" and "zebraquartz" in jgh["command"]
    assert jgh["rule"] == "ops-shell" and jgh["login"] == "root"
    evs = lines(cast)
    assert any(e[1] == "o" and "zebraquartz-42" in e[2] for e in evs)
    assert any(e[1] == "m" and e[2] == "exit-status 3" for e in evs)
    assert not any(e[1] == "i" for e in evs)

    v = jg(agw, "audit", "verify", "--all")
    assert v.returncode == 0, v.stdout + v.stderr
    s = jg(agw, "audit", "search", "zebraquartz-42")
    assert s.returncode == 0, s.stderr
    assert cast.stem in s.stdout
    rc, out = asciinema_cat(cast)
    assert rc == 0 and b"zebraquartz-42" in out

    ev = events(agw)
    types = [e["type"] for e in ev]
    for t in ("auth.success", "session.start", "exec", "session.end"):
        assert t in types, types
    start = next(e for e in ev if e["type"] == "session.start")
    assert start["user"] == "alice" and start["target"] == "web-1"
    assert start["from"] == "127.0.0.1" and start["session"] == cast.stem
    assert start["rule"] == "ops-shell" and start["action"] == "exec"
    end = next(e for e in ev if e["type"] == "session.end")
    assert end["session"] == cast.stem and end["exit_status"] == 3
    auth = next(e for e in ev if e["type"] == "auth.success")
    assert auth["user"] == "alice"


def test_pty_shell_recorded_without_input(agw, tmp_path):
    args = agw.ssh_args("alice:web-1", extra=("-tt",))
    child = pexpect.spawn(args[0], args[1:],
                          env={**os.environ, "TERM": "xterm-256color"},
                          dimensions=(30, 100), timeout=15)
    try:
        child.sendline("echo shell-$((6*7))-marker")
        child.expect("shell-42-marker")
        child.setwinsize(40, 120)
        child.sendline("sleep 0.3; stty size")
        child.expect("40 120")
        child.sendline("exit 0")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    [rec] = wait_casts(agw, 1)
    cast = view(agw, rec, tmp_path)
    h = header(cast)
    assert (h["width"], h["height"]) == (100, 30)
    assert h["env"]["TERM"] == "xterm-256color"
    assert h["jumpgate"]["action"] == "shell"
    evs = lines(cast)
    assert any(e[1] == "o" and "shell-42-marker" in e[2] for e in evs)
    assert any(e[1] == "r" and e[2] == "120x40" for e in evs)
    assert not any(e[1] == "i" for e in evs)   # ops-shell does not say so
    v = jg(agw, "audit", "verify", "--all")
    assert v.returncode == 0, v.stdout + v.stderr
    rc, out = asciinema_cat(cast)
    assert rc == 0 and b"shell-42-marker" in out
    s = jg(agw, "audit", "search", "shell-42-marker")
    assert s.returncode == 0 and cast.stem in s.stdout
    types = [e["type"] for e in events(agw)]
    assert "session.start" in types and "session.end" in types


def test_input_recorded_when_rule_says_so(agw, tmp_path):
    r = agw.ssh("bob:monitor", "cat; echo done", input=b"typed-secret-77\n",
                key="bob")
    assert r.returncode == 0, r
    assert b"typed-secret-77" in r.stdout
    [rec] = wait_casts(agw, 1)
    cast = view(agw, rec, tmp_path)
    assert export(agw, rec, "--format", "raw", "--stream", "in") == \
        b"typed-secret-77\n"
    assert header(cast)["jumpgate"]["rule"] == "bob-recorded"
    evs = lines(cast)
    assert any(e[1] == "i" and "typed-secret-77" in e[2] for e in evs)
    v = jg(agw, "audit", "verify", "--all")
    assert v.returncode == 0, v.stdout + v.stderr


def test_every_byte_of_stdout_and_stderr_is_kept(agw, tmp_path):
    """20 MiB of random bytes and text on stdout and stderr through an exec
    session: the raw exports are exactly what the client received."""
    src = tmp_path / "payload.sh"
    src.write_text(
        "head -c 6291456 /dev/urandom; "
        "yes 'text line for the recording' | head -c 4194304; "
        "head -c 5242880 /dev/urandom >&2; "
        "yes 'an error line' | head -c 4194304 >&2; exit 7\n")
    r = agw.ssh("alice:web-1", f"sh {src}", timeout=180)
    assert r.returncode == 7, r.stderr[-300:]
    assert len(r.stdout) == 6291456 + 4194304
    assert len(r.stderr) >= 5242880 + 4194304
    [rec] = wait_casts(agw, 1, timeout=60)
    out = export(agw, rec, "--format", "raw", "--stream", "out")
    err = export(agw, rec, "--format", "raw", "--stream", "err")
    assert hashlib.sha256(out).hexdigest() == \
        hashlib.sha256(r.stdout).hexdigest()
    # The client's stderr may begin with ssh's own messages; the session's
    # stderr follows them.
    assert len(err) == 5242880 + 4194304
    assert hashlib.sha256(err).hexdigest() == \
        hashlib.sha256(r.stderr[len(r.stderr) - len(err):]).hexdigest()
    v = jg(agw, "audit", "verify", rec.stem)
    assert v.returncode == 0, v.stdout + v.stderr
    # Random bytes are stored as they are; text compresses.
    assert rec.stat().st_size < len(out) + len(err)
    assert rec.stat().st_size > 6291456 + 5242880
    cast = view(agw, rec, tmp_path)
    assert header(cast)["version"] == 2
    rc, _ = asciinema_cat(cast)
    assert rc == 0


def test_a_slow_reader_holds_the_target_back(agw, tmp_path):
    """The gateway buffers a bounded amount between a fast target and a
    slow client: the target's writes wait for the client instead of
    piling up in the worker (which once let libssh's store grow until it
    dropped data and crashed). Then every byte arrives and is recorded."""
    total = 128 << 20
    mark = tmp_path / "target-done"
    p = subprocess.Popen(
        agw.ssh_args("alice:web-1") + [f"head -c {total} /dev/zero; touch {mark}"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        got = 0
        slow_until = time.monotonic() + 3
        while time.monotonic() < slow_until:    # about 6 MB/s
            b = p.stdout.read1(64 << 10)
            assert b, p.stderr.read()[-300:]
            got += len(b)
            time.sleep(0.01)
        # At most a few windows and socket buffers lie between the two.
        assert not mark.exists(), f"the target sent all {total} bytes " \
            f"while the client had read {got}"
        assert got < 64 << 20
        while True:
            b = p.stdout.read1(1 << 20)
            if not b:
                break
            got += len(b)
        assert p.wait(timeout=120) == 0, p.stderr.read()[-300:]
    finally:
        p.kill()
        p.wait()
    assert got == total
    assert mark.exists()
    [rec] = wait_casts(agw, 1, timeout=60)
    v = jg(agw, "audit", "verify", rec.stem)
    assert v.returncode == 0, v.stdout + v.stderr


def test_a_slow_target_holds_the_client_back(agw, tmp_path):
    """The same bound the other way: a client uploading into a target that
    reads slowly waits for it."""
    total = 128 << 20
    mark = tmp_path / "slow-phase-over"
    reader = tmp_path / "reader.py"
    reader.write_text(
        "import sys, time\n"
        "n = 0\n"
        "end = time.monotonic() + 3\n"
        "while time.monotonic() < end:\n"
        "    n += len(sys.stdin.buffer.read1(65536))\n"
        "    time.sleep(0.01)\n"
        f"open('{mark}', 'w').close()\n"
        "while True:\n"
        "    b = sys.stdin.buffer.read1(1 << 20)\n"
        "    if not b:\n"
        "        break\n"
        "    n += len(b)\n"
        "print(n)\n")
    p = subprocess.Popen(
        agw.ssh_args("alice:web-1") + [f"/usr/bin/python3 {reader}"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    sent = [0]
    at_mark = []

    def feed():
        chunk = bytes(1 << 16)
        try:
            while sent[0] < total:
                p.stdin.write(chunk)
                sent[0] += len(chunk)
                if not at_mark and mark.exists():
                    at_mark.append(sent[0])
            p.stdin.close()
        except (BrokenPipeError, ValueError):
            pass

    t = threading.Thread(target=feed, daemon=True)
    t.start()
    try:
        out = p.stdout.read()
        err = p.stderr.read()
        p.wait(timeout=120)
    finally:
        p.kill()
        p.wait()
    t.join(timeout=10)
    assert p.returncode == 0, err[-300:]
    assert int(out) == total
    # What the client got rid of while the target read slowly: the target's
    # share plus a few windows and socket buffers, not the whole upload.
    assert at_mark and at_mark[0] < 64 << 20, at_mark


@pytest.mark.parametrize("victim", ["monitor", "worker"])
def test_a_killed_session_keeps_its_sealed_prefix(agw, tmp_path, victim):
    """SIGKILL of the monitor or the worker mid-session: what was sealed
    verifies, and the recording exports up to its last whole block."""
    gate = tmp_path / "gate"
    os.mkfifo(gate)
    gfd = os.open(gate, os.O_RDWR | os.O_NONBLOCK)
    cmd = ("for i in $(seq 1 30); do echo line-$i; sleep 0.05; done; "
           f"dd if={gate} bs=1 count=1 status=none; echo never")
    p = subprocess.Popen(agw.ssh_args("alice:web-1") + [cmd],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        # Wait for a seal over some of the lines (one a second while data
        # flows), then kill.
        def sealed():
            recs = casts(agw)
            return recs and sum(1 for t, _ in jgr_frames(recs[0])
                                if t == "S") >= 2
        wait_for(sealed, timeout=60, what="a second seal")
        kids = descendants(agw.proc.pid)
        if victim == "worker":
            pid = next(k for k in kids if proc_uid(k) not in (0, -1))
        else:
            pid = next(k for k in kids if proc_uid(k) == 0 and
                       ppid(k) == agw.proc.pid)
        os.kill(pid, 9)
        out, _ = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
            p.communicate()
        os.close(gfd)
    [rec] = casts(agw)
    v = jg(agw, "audit", "verify", rec.stem)
    if victim == "monitor":
        # Nobody wrote the final seal: the tail is unproven, never intact.
        assert v.returncode == 1, v.stdout + v.stderr
        assert "are sealed and intact" in v.stdout
        assert "intact (" not in v.stdout
    else:
        # The monitor outlives its worker and closes the recording.
        assert v.returncode == 0, v.stdout + v.stderr
    raw = export(agw, rec, "--format", "raw")
    assert raw.startswith(b"line-1\n") and b"never" not in raw
    assert raw == b"".join(b"line-%d\n" % i
                           for i in range(1, raw.count(b"\n") + 1))
    # The client and the recording saw the same bytes, as far as both go.
    n = min(len(out), len(raw))
    assert out[:n] == raw[:n]


def test_a_command_that_cannot_be_recorded_never_runs(agw, tmp_path):
    """The recording is opened before anything reaches the target: a
    session whose recording cannot be created (today's sessions folder is
    a file here) does not run its command there."""
    import datetime
    mark = tmp_path / "ran"
    day = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    (agw.audit_dir / "sessions").mkdir(exist_ok=True)
    (agw.audit_dir / "sessions" / day).write_text("not a folder\n")
    r = agw.ssh("alice:web-1", f"touch {mark}")
    assert r.returncode != 0
    assert b"the session cannot be recorded" in r.stderr, r.stderr
    # A second session, recorded, looks on the target after the first one
    # was refused (a whole SSH login later than its command would have
    # run).
    (agw.audit_dir / "sessions" / day).unlink()
    r = agw.ssh("alice:web-1", f"test -e {mark} && echo ran || echo clean")
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"clean\n"


def test_denial_and_failure_logged(agw):
    r = agw.ssh("bob:web-1", key="bob", extra=("-tt",))   # dev: exec only
    assert r.returncode != 0
    r = agw.ssh("alice:web-1", "true", key="bob")
    assert r.returncode == 255
    time.sleep(0.5)
    ev = events(agw)
    deny = [e for e in ev if e["type"] == "policy.deny"]
    assert deny and deny[0]["user"] == "bob" and deny[0]["target"] == "web-1"
    assert deny[0]["reason"]
    assert any(e["type"] == "auth.failure" and e["user"] == "alice"
               for e in ev)
    assert casts(agw) == []


def test_unreadable_signing_key_refuses_start(make_gateway, tmp_path):
    g = make_gateway()
    cfg = g.config.read_text().replace(str(g.audit_key),
                                       str(tmp_path / "missing.key"))
    bad = tmp_path / "bad.yaml"
    bad.write_text(cfg)
    r = subprocess.run([str(JUMPGATED), "-t", "-c", str(bad)],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode != 0
    assert str(tmp_path / "missing.key") in r.stdout + r.stderr


def test_refuse_when_recording_cannot_be_made(agw):
    # audit.on_failure defaults to refuse: a session whose recording cannot
    # be created does not run, and the user is told why.
    sessions = agw.audit_dir / "sessions"
    if sessions.is_dir():
        os.rmdir(sessions)
    sessions.write_text("not a folder\n")
    try:
        r = agw.ssh("alice:web-1", "echo must-not-run")
        assert r.returncode != 0
        assert b"must-not-run" not in r.stdout
        assert b"cannot be recorded" in r.stderr, r.stderr
    finally:
        sessions.unlink()


def test_missing_audit_dir_reported(make_gateway, tmp_path):
    g = make_gateway()
    cfg = g.config.read_text().replace(f"dir: {g.audit_dir}",
                                       f"dir: {tmp_path / 'nowhere'}")
    bad = tmp_path / "bad.yaml"
    bad.write_text(cfg)
    r = subprocess.run([str(JUMPGATED), "-t", "-c", str(bad)],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode != 0
    assert "audit.dir" in r.stdout + r.stderr
    assert str(tmp_path / "nowhere") in r.stdout + r.stderr


def test_write_failure_ends_session(agw):
    # A recording that cannot be written (disk full) ends the session with
    # a message, with audit.on_failure: refuse (the default); what was
    # sealed before still verifies.
    sessions = agw.audit_dir / "sessions"
    sessions.mkdir(exist_ok=True)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=128k,mode=0750", "tmpfs",
                       str(sessions)], capture_output=True).returncode != 0:
        pytest.skip("cannot mount a small tmpfs here")
    try:
        # Random bytes: the recording cannot compress them below what
        # the small file system holds.
        r = agw.ssh("alice:web-1",
                    "for i in $(seq 1 60); do head -c 20000 /dev/urandom; "
                    "sleep 0.05; done; echo finished-all", timeout=60)
        assert b"finished-all" not in r.stdout
        assert r.returncode != 0
        assert b"recording could not be written" in r.stderr, r.stderr
    finally:
        subprocess.run(["umount", "-l", str(sessions)])


def timed_seals(g):
    return [e for e in events(g) if e["type"] == "seal" and "next_within" in e]


def test_master_seals_the_log_on_a_timer(make_gateway):
    # (2 s: a seal may come up to 9 s late before verify calls it missing
    # time, room enough for a loaded machine.)
    g = make_gateway(seal_interval="2s")
    # Nothing happens, and the log is sealed all the same, each seal
    # promising the next.
    assert wait_for(lambda: len(timed_seals(g)) >= 3, timeout=120)
    assert all(s["next_within"] == 2 for s in timed_seals(g)[:3])
    # Stopped, it writes a last one promising none (waited for, however
    # slow the machine).
    g.proc.terminate()
    g.proc.wait(timeout=120)
    last = events(g)[-1]
    assert last["type"] == "seal" and last["next_within"] == 0
    v = jg(g, "audit", "verify")
    assert v.returncode == 0, v.stdout + v.stderr
    assert "event log: intact" in v.stdout
    assert "promised the next" not in v.stdout, v.stdout


def test_events_cut_off_while_running_show_as_missing_time(make_gateway):
    import fcntl
    from datetime import datetime

    def at(s):
        return datetime.fromisoformat(s["time"].replace("Z", "+00:00"))

    g = make_gateway(seal_interval="1s")
    assert wait_for(lambda: timed_seals(g), timeout=120)
    first = timed_seals(g)[0]
    # More than twice the interval plus the slack of seals, then cut the
    # log back to the first one while the daemon runs (under its lock).
    assert wait_for(lambda: (at(timed_seals(g)[-1]) - at(first)).total_seconds()
                    > 9, timeout=120)
    day = sorted((g.audit_dir / "events").glob("*.jsonl"))[-1]
    with open(day, "r+b") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        ls = f.read().splitlines(keepends=True)
        keep = next(i for i, x in enumerate(ls)
                    if json.loads(x)["seq"] == first["seq"])
        f.truncate(sum(len(x) for x in ls[:keep + 1]))
    # The daemon goes on from the cut.
    assert wait_for(lambda: len(timed_seals(g)) >= 2, timeout=120)
    g.stop()
    v = jg(g, "audit", "verify")
    assert v.returncode == 0, v.stdout + v.stderr
    assert "WARNING: missing time" in v.stdout
    assert f"missing time: no timed seal from {first['time']} to" in v.stdout
    assert jg(g, "audit", "verify", "--strict").returncode == 1


def test_world_writable_audit_folder(make_gateway):
    """-t applies the audit writers' rules to audit.dir and its events/ and
    sessions/, with the message the daemon logs when a session meets such a
    folder; the session then ends (audit.on_failure: refuse), told why."""
    g = make_gateway()
    events = g.audit_dir / "events"
    events.mkdir(exist_ok=True)
    for d in (g.audit_dir, events):
        mode = d.stat().st_mode & 0o7777
        d.chmod(0o1777)
        try:
            r = subprocess.run([str(JUMPGATED), "-t", "-c", str(g.config)],
                               capture_output=True, text=True, timeout=30)
            assert r.returncode == 1, r.stdout + r.stderr
            why = f"audit.dir: '{d}' can be written by every user (mode 1777)"
            assert why in r.stdout + r.stderr, r.stdout + r.stderr
        finally:
            d.chmod(mode)
    events.chmod(0o1777)
    try:
        r = g.ssh("alice:web-1", "echo should-not-run")
        assert b"should-not-run" not in r.stdout
        assert b"the audit event log could not be written" in r.stderr, r.stderr
        assert g.wait_log(why), g.logtext()[-2000:]
    finally:
        events.chmod(0o750)
