# SPDX-License-Identifier: Apache-2.0
# tests/integration/test_gateway_session.py - jumpgated carries sessions to
# a real sshd target: exec (stdout/stderr apart, exit status and signal),
# stdin and EOF, env allowlist, pty shell with window changes, sftp and scp,
# large transfers with checksums, and the target list without a target.
import os
import subprocess

import pexpect
import pytest

from gw_fixtures import *  # noqa: F401,F403

MIB = 1 << 20


def test_exec_streams_and_exit_status(gw):
    r = gw.ssh("alice:web-1", "echo out; echo err >&2; exit 3")
    assert r.stdout == b"out\n"
    assert r.stderr == b"err\n"
    assert r.returncode == 3


def test_exec_login_named(gw):
    r = gw.ssh("alice:root@web-1", "id -un")
    assert r.returncode == 0, r
    assert r.stdout == b"root\n"


def test_exec_exit_signal(gw):
    r = gw.ssh("alice:web-1", "kill -TERM $$")
    # OpenSSH's client exits 255 when the remote command died of a signal.
    assert r.returncode == 255, r
    assert gw.wait_log("signal TERM")


def test_stdin_and_eof(gw):
    data = os.urandom(300000)
    r = gw.ssh("alice:web-1", "cat", input=data)
    assert r.returncode == 0, r.stderr
    assert r.stdout == data


def test_large_output_and_input(gw, tmp_path):
    blob = tmp_path / "blob"
    blob.write_bytes(os.urandom(20 * MIB))
    want = sha256_file(blob)
    r = gw.ssh("alice:web-1", f"cat {blob}", timeout=120)
    assert r.returncode == 0, r.stderr
    assert len(r.stdout) == 20 * MIB
    import hashlib
    assert hashlib.sha256(r.stdout).hexdigest() == want
    r = gw.ssh("alice:web-1", "sha256sum", input=blob.read_bytes(), timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[0].decode() == want


def test_env_allowlist(gw):
    r = gw.ssh("alice:web-1", 'echo "$LANG/$JGTEST_X"',
               extra=("-o", "SetEnv=LANG=C.UTF-8 JGTEST_X=leak"))
    assert r.returncode == 0, r.stderr
    # The target accepts both; the gateway passes only the allowlist.
    assert r.stdout == b"C.UTF-8/\n"


def test_pty_shell_term_size_and_resize(gw):
    args = gw.ssh_args("alice:web-1", extra=("-tt",))
    child = pexpect.spawn(args[0], args[1:], env={**os.environ, "TERM": "xterm-256color"},
                          dimensions=(33, 101), timeout=15)
    try:
        child.sendline("stty size; echo T=$TERM; tty")
        child.expect(r"33 101")
        child.expect(r"T=xterm-256color")
        child.expect(r"/dev/pts/")
        child.setwinsize(40, 120)
        child.sendline("sleep 0.3; stty size")
        child.expect(r"40 120")
        child.sendline("exit 7")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 7


def test_sftp_put_get(gw, tmp_path):
    src = tmp_path / "src.bin"
    src.write_bytes(os.urandom(20 * MIB))
    remote = tmp_path / "remote.bin"
    back = tmp_path / "back.bin"
    batch = tmp_path / "batch"
    batch.write_text(f"put {src} {remote}\nget {remote} {back}\n")
    sftp = ["sftp", "-b", str(batch)] + gw.client_opts("alice:web-1") + ["127.0.0.1"]
    r = subprocess.run(sftp, capture_output=True, timeout=120)
    assert r.returncode == 0, r
    assert sha256_file(remote) == sha256_file(src)
    assert sha256_file(back) == sha256_file(src)


def test_scp(gw, tmp_path):
    src = tmp_path / "scp.bin"
    src.write_bytes(os.urandom(2 * MIB))
    dst = tmp_path / "scp.out"
    opts = gw.client_opts("alice:web-1")
    r = subprocess.run(["scp"] + opts + [str(src), f"127.0.0.1:{dst}"],
                       capture_output=True, timeout=60)
    assert r.returncode == 0, r
    assert sha256_file(dst) == sha256_file(src)


def test_no_target_lists_targets(gw):
    r = gw.ssh("alice", "uptime")
    assert r.returncode == 1, r
    out = r.stdout.decode()
    assert "web-1" in out and "monitor" in out and "rds-demo" in out
    assert "as root" in out
    # bob may only exec on web-1
    r = gw.ssh("bob", key="bob")
    assert r.returncode == 1
    out = r.stdout.decode()
    assert "web-1" in out and "monitor" not in out and "rds-demo" not in out


def test_subsystem_other_than_sftp_refused(gw):
    r = gw.ssh("alice:web-1", "x", extra=("-s",))
    assert r.returncode != 0
