# SPDX-License-Identifier: Apache-2.0
# tests/integration/test_gateway_faults.py - fault and load runs, bounded in
# time and on loopback only: 200 recorded sessions open at once, streaming
# while workers and monitors are SIGKILLed and SIGHUPs arrive in a storm; a
# thousand connections that never speak; garbage and truncated SSH
# packets; a target dying mid-transfer; one worker or one monitor killed
# under a session that has sent output. After each: the master is alive,
# the sessions not hit are intact, every session has its end event (with
# its session id, the bytes it moved and the signal that ended it), and
# the event log and the recordings of the sessions not hit verify.
import os
import random
import resource
import signal
import socket
import struct
import subprocess
import threading
import time

import pytest

from gw_fixtures import *  # noqa: F401,F403
from gw_fixtures import gateway_events
from gw_fixtures import JUMPGATE, descendants, ppid, proc_uid, wait_for

SESSIONS = 200         # recorded sessions open at once
LINES = 40             # each streams these between its gates, 20 a second
# The systemd unit sets no LimitNOFILE: the master runs with systemd's
# default soft limit.
UNIT_NOFILE = 1024


events = gateway_events


def verify(g, *ids):
    r = subprocess.run([str(JUMPGATE), "-c", str(g.config), "audit", "verify",
                        *ids], capture_output=True, text=True, timeout=120)
    return r.returncode, r.stdout + r.stderr


def greeting_ok(g):
    r = g.ssh("alice:web-1", "echo alive")
    return r.returncode == 0 and r.stdout == b"alive\n"


def test_load_with_kills_and_a_sighup_storm(make_gateway, gw_env, tmp_path):
    n = SESSIONS
    # Two pipes per client, beside pytest's own descriptors.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 4 * n + 256:
        resource.setrlimit(resource.RLIMIT_NOFILE,
                           (max(soft, 4096), max(hard, 4096)))
    g = make_gateway(limits="{login_grace: 30s, auth_failures: {max: 1000}, "
                            "max_startups: 200, per_source_startups: 200}")
    # The master gets no more descriptors than the systemd unit gives it.
    _, master_hard = resource.prlimit(g.proc.pid, resource.RLIMIT_NOFILE)
    resource.prlimit(g.proc.pid, resource.RLIMIT_NOFILE,
                     (UNIT_NOFILE, master_hard))
    # Every session says "ready" and waits at a gate (a FIFO read on the
    # target) until all of them are open at once, streams its lines, and
    # waits at a second gate until the storm is over: so every victim is
    # a live session, killed while the others stream.
    gates = [tmp_path / "gate1", tmp_path / "gate2"]
    for gate in gates:
        os.mkfifo(gate)
    gate_fds = [os.open(gate, os.O_RDWR | os.O_NONBLOCK) for gate in gates]
    wait = "dd if={} bs=1 count=1 status=none >/dev/null".format
    cmd = (f"echo ready; {wait(gates[0])}; "
           f"for i in $(seq 1 {LINES}); do echo line-$i; sleep 0.05; done; "
           f"{wait(gates[1])}; echo done")
    procs = []
    try:
        # Started eight at a time: the target's sshd drops unauthenticated
        # connections beyond its own MaxStartups (10).
        for batch in range(0, n, 8):
            procs += [subprocess.Popen(g.ssh_args("alice:web-1") + [cmd],
                                       stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE)
                      for _ in range(batch, min(n, batch + 8))]
            end = time.monotonic() + 60
            while time.monotonic() < end:
                starts = [e for e in events(g) if e["type"] == "session.start"]
                if len(starts) >= len(procs):
                    break
                time.sleep(0.1)
            assert len(starts) >= len(procs), (len(starts), len(procs))
        kids = descendants(g.proc.pid)
        workers = [p for p in kids if proc_uid(p) not in (0, -1)]
        monitors = [p for p in kids if proc_uid(p) == 0 and ppid(p) == g.proc.pid]
        assert len(workers) == n and len(monitors) == n, \
            (len(workers), len(monitors))
        master_fds = len(os.listdir(f"/proc/{g.proc.pid}/fd"))
        assert master_fds < UNIT_NOFILE, master_fds
        os.write(gate_fds[0], b"g" * n)    # all of them stream now
        rng = random.Random(7)
        victims_w = rng.sample(workers, 4)
        spared = {ppid(w) for w in victims_w}
        victims_m = rng.sample([m for m in monitors if m not in spared], 3)
        for i in range(10):            # a SIGHUP storm while they stream
            g.sighup()
            if i == 3:
                for p in victims_w:
                    os.kill(p, signal.SIGKILL)
            if i == 6:
                for p in victims_m:
                    os.kill(p, signal.SIGKILL)
            time.sleep(0.1)
        os.write(gate_fds[1], b"g" * n)    # and end
        results = [p.communicate(timeout=120) + (p.returncode,) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.communicate()
        for fd in gate_fds:
            os.close(fd)
    full = (b"ready\n" + b"".join(b"line-%d\n" % i for i in range(1, LINES + 1))
            + b"done\n")
    ok = [r for r in results if r[2] == 0]
    hit = [r for r in results if r[2] != 0]
    # Only victims' sessions are cut (a victim may still finish: the worker
    # relays while the monitor records, so a monitor that takes a while to
    # die can let its session complete).
    assert len(hit) <= len(victims_w) + len(victims_m), [r[1] for r in hit]
    assert len(ok) >= n - len(victims_w) - len(victims_m)
    for out, err, _ in ok:
        assert out == full, err
    assert g.proc.poll() is None, "the master died"
    assert greeting_ok(g)
    # Every session has its end: from its monitor, or, for a monitor that
    # was killed, from the master.
    wait_for(lambda: len([e for e in events(g) if e["type"] == "session.end"])
             >= n + 1, timeout=60, what="an end event for every session")
    evs = events(g)
    starts = [e for e in evs if e["type"] == "session.start"]
    ends = [e for e in evs if e["type"] == "session.end"]
    lost = [e for e in ends
            if "monitor was killed by signal 9" in (e.get("reason") or "")]
    assert len(lost) == len(victims_m), lost
    cut_w = [e for e in ends
             if "worker was killed by signal 9" in (e.get("reason") or "")]
    assert len(cut_w) == len(victims_w), cut_w
    assert len(ends) >= len(starts), (len(starts), len(ends))
    ended_ids = {e.get("session") for e in ends}
    lost_conns = {e.get("connection") for e in lost}
    for s in starts:
        assert s["session"] in ended_ids or s.get("connection") in lost_conns, s
    # (the master knows the session ids of the sessions it ends)
    assert all(e.get("session") for e in lost), lost
    # The recordings of the sessions nobody killed verify; killed ones are
    # intact up to their last seal (the rest reported as not sealed).
    rc, out = verify(g, "--all")
    log = [l for l in out.splitlines() if l.startswith("event log")]
    assert log and "intact" in log[0] and "NOT" not in log[0], out
    cut = [l for l in out.splitlines() if ": NOT intact" in l]
    assert len(cut) <= len(victims_m), out
    for line in cut:
        assert "are sealed and intact" in line, line
    assert len([l for l in out.splitlines() if ": intact (" in l]) >= len(ok)


def test_thousand_silent_connections(make_gateway, gw_env):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 4096), max(hard, 4096)))
    g = make_gateway(login_grace="3s")
    socks = []
    try:
        for _ in range(1000):
            s = socket.socket()
            s.setblocking(False)
            try:
                s.connect(("127.0.0.1", g.port))
            except BlockingIOError:
                pass
            socks.append(s)
        time.sleep(1)
        # Silent ones are dropped early or time out; a real login gets in.
        ok = False
        for _ in range(20):
            if greeting_ok(g):
                ok = True
                break
            time.sleep(0.5)
        assert ok
    finally:
        for s in socks:
            s.close()
    assert g.proc.poll() is None
    # All those connections are gone again (grace and early drop).
    end = time.monotonic() + 30
    while time.monotonic() < end and len(descendants(g.proc.pid)) > 0:
        time.sleep(0.2)
    assert len(descendants(g.proc.pid)) == 0
    assert greeting_ok(g)


def _packet(payload, pad=8):
    padlen = pad - ((len(payload) + 5) % pad)
    if padlen < 4:
        padlen += pad
    return struct.pack(">IB", len(payload) + padlen + 1, padlen) + payload + b"\0" * padlen


@pytest.mark.parametrize("name,data", [
    ("garbage after banner", b"SSH-2.0-x\r\n" + bytes(random.Random(1).randrange(256) for _ in range(4096))),
    ("huge packet length", b"SSH-2.0-x\r\n" + struct.pack(">IB", 0x7FFFFFF0, 4) + b"\0" * 64),
    ("truncated kexinit", b"SSH-2.0-x\r\n" + _packet(b"\x14" + b"\0" * 16 + b"\0\0\0\xffcurve")[:40]),
    ("zero length", b"SSH-2.0-x\r\n" + b"\0\0\0\0" * 16),
    ("endless banner", b"SSH-2.0-" + b"A" * 70000),
])
def test_garbage_and_truncated_packets(gw, name, data):
    with socket.create_connection(("127.0.0.1", gw.port), timeout=10) as s:
        s.settimeout(10)
        assert s.recv(256).startswith(b"SSH-2.0-")
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
            while s.recv(4096):
                pass
        except OSError:
            pass    # the gateway hung up first: reset, broken pipe, not connected
    assert gw.proc.poll() is None
    assert greeting_ok(gw)


def test_target_dies_mid_transfer(make_gateway, gw_env):
    g = make_gateway()
    p = subprocess.Popen(g.ssh_args("alice:web-1") + ["cat /dev/zero"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    got = 0
    while got < 8 << 20:
        chunk = p.stdout.read1(1 << 16)
        assert chunk, p.stderr.read()
        got += len(chunk)
    # The target's session processes (children of web-1's sshd) die.
    for pid in descendants(gw_env.web1.proc.pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    threading.Thread(target=p.stdout.read, daemon=True).start()
    p.wait(timeout=30)
    assert p.returncode != 0
    assert g.proc.poll() is None
    assert greeting_ok(g)
    end = time.monotonic() + 10
    while time.monotonic() < end:
        ends = [e for e in events(g) if e["type"] == "session.end"]
        if len(ends) >= 2:
            break
        time.sleep(0.2)
    assert len([e for e in events(g) if e["type"] == "session.start"]) == \
        len([e for e in events(g) if e["type"] == "session.end"])


def _session_with_output(g, tmp_path):
    """A live exec session that has printed 5000 bytes and waits at a FIFO
    on the target; (client process, its session.start event, its monitor
    pid, its worker pid)."""
    gate = tmp_path / "gate"
    os.mkfifo(gate)
    p = subprocess.Popen(g.ssh_args("alice:web-1") +
                         [f"head -c 5000 /dev/zero | tr '\\0' x; "
                          f"dd if={gate} bs=1 count=1 status=none"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    got = b""
    while len(got) < 5000:
        chunk = p.stdout.read1(5000)
        assert chunk, p.stderr.read()
        got += chunk
    start = wait_for(lambda: [e for e in events(g) if e["type"] == "session.start"],
                     what="session.start")[0]
    monitors = [k for k in descendants(g.proc.pid) if ppid(k) == g.proc.pid]
    workers = [k for k in descendants(g.proc.pid) if proc_uid(k) not in (0, -1)]
    assert len(monitors) == 1 and len(workers) == 1, (monitors, workers)
    return p, start, monitors[0], workers[0]


def _end(g, p):
    threading.Thread(target=p.communicate, daemon=True).start()
    return wait_for(lambda: [e for e in events(g) if e["type"] == "session.end"],
                    what="session.end")[0]


def test_killed_worker_leaves_its_bytes_and_signal(make_gateway, tmp_path):
    g = make_gateway()
    p, start, _, worker = _session_with_output(g, tmp_path)
    os.kill(worker, signal.SIGKILL)
    end = _end(g, p)
    assert end["session"] == start["session"], end
    assert end["bytes_out"] >= 5000, end
    assert "worker was killed by signal 9" in (end.get("reason") or ""), end
    assert g.wait_log("killed by signal 9")
    assert greeting_ok(g)


def test_killed_monitor_leaves_its_session_and_bytes(make_gateway, tmp_path):
    port = free_port()
    g = make_gateway(config_extra=f'metrics: {{listen: "127.0.0.1:{port}"}}\n')
    wait_port(port, proc=g.proc)
    p, start, monitor, _ = _session_with_output(g, tmp_path)
    # The master learns a channel's bytes as they are relayed (at least
    # once a second while data flows), before it counts them in /metrics.
    wait_for(lambda: metric(scrape(port)[0], "jumpgate_bytes_total",
                            direction="to_client") >= 5000,
             what="the bytes reported to the master")
    os.kill(monitor, signal.SIGKILL)
    end = _end(g, p)
    assert end["session"] == start["session"], end
    assert end["connection"] == start["connection"], end
    assert "monitor was killed by signal 9" in end["reason"], end
    assert end["bytes_out"] >= 5000, end
    assert greeting_ok(g)
