# SPDX-License-Identifier: Apache-2.0
# tests/integration/test_gateway_sandbox.py - the worker runs the whole SSH
# session sandboxed: unprivileged uid, no new privileges, the seccomp
# filter, an empty chroot and tight limits; a forbidden system call kills
# only that worker, logged by its monitor, while other sessions go on.
import pwd
import subprocess
import time
from pathlib import Path

import pytest

from gw_fixtures import *  # noqa: F401,F403
from gw_fixtures import descendants

WORKER_UID = pwd.getpwnam("jumpgate").pw_uid


def _status(pid):
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        k, _, v = line.partition(":")
        out[k] = v.split()
    return out


def _workers(gw):
    found = []
    for pid in descendants(gw.proc.pid):
        try:
            if int(_status(pid)["Uid"][0]) == WORKER_UID:
                found.append(pid)
        except (OSError, KeyError):
            continue
    return found


def _session(gw, target="alice:web-1"):
    """A live session (cat on the target, echoing its input), shown to
    work, and its worker's pid."""
    before = set(_workers(gw))
    p = subprocess.Popen(gw.ssh_args(target) + ["cat"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert _echo(p, b"up\n") == b"up\n"
    end = time.monotonic() + 15
    while time.monotonic() < end:
        # a probe connection's worker may still be ending: take live ones
        new = [w for w in set(_workers(gw)) - before
               if Path(f"/proc/{w}").exists()]
        if len(new) == 1:
            return p, new[0]
        time.sleep(0.05)
    p.kill()
    raise AssertionError("no single new worker appeared")


def _echo(p, text):
    p.stdin.write(text)
    p.stdin.flush()
    return p.stdout.read(len(text))


def test_worker_is_sandboxed(gw):
    p, pid = _session(gw)
    try:
        assert _echo(p, b"ping\n") == b"ping\n"
        st = _status(pid)
        assert int(st["Uid"][0]) == WORKER_UID and int(st["Uid"][2]) == WORKER_UID
        assert st["NoNewPrivs"] == ["1"]
        assert st["Seccomp"] == ["2"]
        assert Path(f"/proc/{pid}/root").resolve() == Path("/run/jumpgated/empty")
        limits = Path(f"/proc/{pid}/limits").read_text()
        nofile = [l for l in limits.splitlines() if l.startswith("Max open files")][0]
        assert int(nofile.split()[3]) <= 1024
        nproc = [l for l in limits.splitlines() if l.startswith("Max processes")][0]
        assert nproc.split()[2] == "0"
    finally:
        p.kill()
        p.wait()


def test_forbidden_syscall_kills_only_that_worker(gw):
    victim, vpid = _session(gw)
    other, opid = _session(gw)
    try:
        assert _echo(victim, b"a\n") == b"a\n"
        assert _echo(other, b"b\n") == b"b\n"
        # Make the victim's worker call fork() (clone) from inside.
        r = subprocess.run(["gdb", "-nx", "-batch", "-p", str(vpid), "-ex",
                            "call (long)syscall(57)"],
                           capture_output=True, text=True, timeout=60)
        end = time.monotonic() + 10
        while time.monotonic() < end and Path(f"/proc/{vpid}").exists():
            time.sleep(0.05)
        assert not Path(f"/proc/{vpid}").exists(), r.stdout + r.stderr
        assert gw.wait_log("killed by the seccomp filter"), r.stdout + r.stderr
        victim.wait(timeout=15)
        assert victim.returncode != 0
        # the other session and the master are untouched
        assert _echo(other, b"still here\n") == b"still here\n"
        assert gw.proc.poll() is None
        r = gw.ssh("alice:web-1", "echo", "new")
        assert r.returncode == 0 and r.stdout == b"new\n"
    finally:
        for p in (victim, other):
            p.kill()
            p.wait()
