# SPDX-License-Identifier: Apache-2.0
# tests/integration/test_gateway_caps.py - caps an operator expects: at
# most JG_GW_MAX_CHANNELS (64) channels open at once on one connection (the
# next is refused with its reason and a policy.deny event, one closing makes
# room again), and a user's max_sessions
# (connections beyond it are ended with a message; the others go on).
import asyncio
import socket
import subprocess
import time
import threading

import asyncssh
import pytest

from gw_fixtures import *  # noqa: F401,F403
from gw_fixtures import gateway_events, policy_text, wait_for

MAX_CHANNELS = 64


class Sink:
    """A TCP listener on loopback that accepts and holds connections."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(256)
        self.port = self.sock.getsockname()[1]
        self.held = []
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(c)

    def close(self):
        self.sock.close()
        for c in self.held:
            c.close()


@pytest.fixture
def sink():
    s = Sink()
    yield s
    s.close()


def test_channel_cap_per_connection(make_gateway, gw_env, sink):
    g = make_gateway(policy_text(
        gw_env,
        targets_extra=f'  sink: {{kind: tcp, address: "127.0.0.1:{sink.port}"}}\n',
        extra_rules="  - {name: sink, users: [alice], targets: [sink], allow: [forward]}\n"))

    async def run():
        async with asyncssh.connect(
                "127.0.0.1", port=g.port, username="alice",
                client_keys=[str(gw_env.keys / "alice")],
                known_hosts=str(g.kh)) as conn:
            chans = []
            for _ in range(MAX_CHANNELS):
                chans.append(await conn.open_connection("sink", sink.port))
            with pytest.raises(asyncssh.ChannelOpenError) as refused:
                await conn.open_connection("sink", sink.port)
            assert "too many channels are open at once" in refused.value.reason
            # a session channel counts as well
            with pytest.raises(asyncssh.ChannelOpenError):
                await conn.create_session(asyncssh.SSHClientSession)
            # one closes: there is room for one more
            reader, writer = chans.pop()
            writer.close()
            for _ in range(50):
                try:
                    chans.append(await conn.open_connection("sink", sink.port))
                    break
                except asyncssh.ChannelOpenError:
                    await asyncio.sleep(0.1)
            else:
                raise AssertionError("no room after a channel closed")
            for _, w in chans:
                w.close()

    asyncio.run(asyncio.wait_for(run(), 120))
    assert g.wait_log("channel refused: 64 channels are open already")
    # each refusal is an event, in the monitor's words
    def denials():
        d = [e for e in gateway_events(g) if e["type"] == "policy.deny" and
             e["reason"].startswith("too many channels are open at once")]
        return d if len(d) >= 2 else None
    deny = wait_for(denials, what="policy.deny for each refused channel")
    assert [e["channel"] for e in deny][:2] == ["direct-tcpip", "session"], deny
    assert all(e["user"] == "alice" and e["limit"] == MAX_CHANNELS and
               "(at most 64 per connection)" in e["reason"] for e in deny), deny


def test_max_sessions_per_user(make_gateway, gw_env):
    text = policy_text(gw_env).replace(
        "    groups: [ops]\n    from: [127.0.0.1/32, 127.0.0.2/32]\n",
        "    groups: [ops]\n    from: [127.0.0.1/32, 127.0.0.2/32]\n"
        "    max_sessions: 2\n", 1)
    assert "max_sessions: 2" in text
    g = make_gateway(text)
    held = []
    try:
        for i in range(2):
            p = subprocess.Popen(g.ssh_args("alice:web-1") + ["cat"],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE)
            p.stdin.write(b"hello\n")
            p.stdin.flush()
            assert p.stdout.readline() == b"hello\n"
            held.append(p)
        r = g.ssh("alice:web-1", "sleep 5; echo too-late")
        assert b"too-late" not in r.stdout and r.returncode != 0
        # ended right after authentication: told in the session when it is
        # open already, else its channel is refused
        assert (b"alice has 2 session(s) open already (max_sessions)" in r.stderr
                or b"administratively prohibited" in r.stderr), r.stderr
        assert g.wait_log("ended: alice has 2 session(s) open already (max_sessions)")
        # the two sessions go on
        for p in held:
            p.stdin.write(b"still\n")
            p.stdin.flush()
            assert p.stdout.readline() == b"still\n"
        # another user is not limited by alice's cap
        r = g.ssh("bob:web-1", "echo bob-ok", key="bob")
        assert r.returncode == 0 and r.stdout == b"bob-ok\n"
        # once one ends there is room again; connections refused meanwhile
        # are told to end and no longer count, so retrying does not lock
        # alice out
        held.pop().kill()
        end = time.monotonic() + 30
        while True:
            r = g.ssh("alice:web-1", "echo room")
            if r.returncode == 0 or time.monotonic() > end:
                break
        assert r.stdout == b"room\n", r.stderr
    finally:
        for p in held:
            p.kill()
