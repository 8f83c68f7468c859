# SPDX-License-Identifier: Apache-2.0
# tests/integration/test_gateway_channels.py - at most JG_GW_MAX_CHANNELS
# (64) channels are open at once on one connection: the next is refused,
# and one closing makes room again.
import asyncio
import socket
import threading

import asyncssh
import pytest

from gw_fixtures import *  # noqa: F401,F403
from gw_fixtures import policy_text

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
            with pytest.raises(asyncssh.ChannelOpenError):
                await conn.open_connection("sink", sink.port)
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
