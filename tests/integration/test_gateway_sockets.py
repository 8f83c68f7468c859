# SPDX-License-Identifier: Apache-2.0
# tests/integration/test_gateway_sockets.py - the worker's two TCP sockets
# (the client's and the target's) send small packets at once
# (TCP_NODELAY): an SFTP status or an echo must not wait for the peer's
# delayed ACK. The sockets are taken from the live worker with
# pidfd_getfd(2) and asked directly.
import ctypes
import os
import socket
from pathlib import Path

from gw_fixtures import *  # noqa: F401,F403
from test_gateway_sandbox import _echo, _session

SYS_PIDFD_OPEN = 434    # x86_64
SYS_PIDFD_GETFD = 438

libc = ctypes.CDLL(None, use_errno=True)


def _tcp_inodes():
    """inode -> (local port, remote port) of every TCP socket."""
    out = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            f = line.split()
            out[int(f[9])] = (int(f[1].rsplit(":", 1)[1], 16),
                              int(f[2].rsplit(":", 1)[1], 16))
    return out


def _tcp_fds(pid):
    """(fd number, local port, remote port) of the TCP sockets pid holds."""
    inodes = _tcp_inodes()
    found = []
    for link in Path(f"/proc/{pid}/fd").iterdir():
        target = os.readlink(link)
        if target.startswith("socket:["):
            ino = int(target[8:-1])
            if ino in inodes:
                found.append((int(link.name), *inodes[ino]))
    return found


def _nodelay(pid, fd):
    pidfd = libc.syscall(SYS_PIDFD_OPEN, pid, 0)
    assert pidfd >= 0, os.strerror(ctypes.get_errno())
    try:
        mine = libc.syscall(SYS_PIDFD_GETFD, pidfd, fd, 0)
        assert mine >= 0, os.strerror(ctypes.get_errno())
        s = socket.socket(fileno=mine)
        try:
            return s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        finally:
            s.close()
    finally:
        os.close(pidfd)


def test_client_and_target_sockets_have_nodelay(gw):
    p, pid = _session(gw)
    try:
        assert _echo(p, b"ping\n") == b"ping\n"
        fds = _tcp_fds(pid)
        client = [f for f in fds if f[1] == gw.port]
        upstream = [f for f in fds if f[1] != gw.port]
        assert len(client) == 1 and len(upstream) == 1, fds
        assert _nodelay(pid, client[0][0]) != 0
        assert _nodelay(pid, upstream[0][0]) != 0
    finally:
        p.kill()
        p.wait()
