# SPDX-License-Identifier: Apache-2.0
# tests/integration/test_pam_sshd.py - a real OpenSSH sshd whose account
# stack is pam_jumpgate.so, and the real ssh client logging in through it.
#
# sshd names its PAM service after its program name (OpenSSH portable's
# SSHD_PAM_SERVICE is __progname), so a copy of /usr/sbin/sshd called
# jg-test-PID-N uses /etc/pam.d/jg-test-PID-N and the system's sshd
# service is never touched. The copy listens on a free loopback port with
# its own sshd_config; the PAM user is root (a key only this test knows,
# authorized by the test's own AuthorizedKeysFile) or nobody (a local
# account that is not in the policy).
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from pam_fixtures import (PAM_D, closed_day, pam_module,  # noqa: F401
                          pam_services, root_only, syslog_sink)

SSHD = "/usr/sbin/sshd"

POLICY = """\
version: 1
users:
  root:
    keys: ["{key}"]
    from: [{source}]
{extra}targets:
  jump-host: {{kind: ssh, address: "127.0.0.1:22"}}
rules:
  - name: root-jump
    users: [root]
    targets: [jump-host]
    allow: [shell]
{when}"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sshd:
    def __init__(self, module, make_service, sink):
        if not os.access(SSHD, os.X_OK):
            pytest.skip("no OpenSSH sshd")
        self.sink = sink
        self.dir = Path(tempfile.mkdtemp(prefix="jg-pam-sshd-"))
        os.chmod(self.dir, 0o755)     # nobody reads authorized_keys here
        self.key = self.dir / "id_ed25519"
        for f in (self.key, self.dir / "host_ed25519"):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "",
                            "-C", "jg-pam-test", "-f", str(f)], check=True,
                           timeout=30)
        pub = (self.dir / "id_ed25519.pub").read_text().strip()
        self.pub = pub
        auth = self.dir / "authorized_keys"
        auth.write_text(pub + "\n")
        os.chmod(auth, 0o644)
        self.config = self.dir / "jumpgate.yaml"
        self.policy = self.dir / "policy.yaml"
        self.config.write_text("policy: policy.yaml\n")
        self.write_policy()
        self.service = make_service(
            "auth required pam_permit.so\n"
            f"account required {module} config={self.config} "
            "target=jump-host action=shell\n"
            "session required pam_permit.so\n")
        # The program name is the PAM service name.
        self.bin = self.dir / self.service
        shutil.copy2(SSHD, self.bin)
        self.port = free_port()
        cfg = self.dir / "sshd_config"
        cfg.write_text(f"""\
Port {self.port}
ListenAddress 127.0.0.1
HostKey {self.dir}/host_ed25519
UsePAM yes
PidFile none
StrictModes no
AuthorizedKeysFile {auth}
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
LogLevel VERBOSE
""")
        # sshd needs its privilege separation folder; Debian's unit makes
        # it at boot. Made here when missing, and left (it is harmless and
        # other sshd instances may be using it).
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
        self.log = open(self.dir / "sshd.log", "w+")
        self.proc = subprocess.Popen(
            sink.wrap([str(self.bin), "-D", "-e", "-f", str(cfg)]),
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), 1).close()
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.close()
                    raise AssertionError("sshd did not start: "
                                         + self.sshd_log())
                time.sleep(0.1)

    def write_policy(self, source="127.0.0.1/32", expires=None, when=None):
        extra = f"    expires: {expires}\n" if expires else ""
        w = f'    when: "{when}"\n' if when else ""
        self.policy.write_text(POLICY.format(key=self.pub, source=source,
                                             extra=extra, when=w))

    def ssh(self, user):
        cmd = ["ssh", "-F", "/dev/null", "-o", "BatchMode=yes",
               "-o", "StrictHostKeyChecking=no",
               "-o", "UserKnownHostsFile=/dev/null", "-o", "IdentitiesOnly=yes",
               "-o", "ConnectTimeout=10", "-i", str(self.key),
               "-p", str(self.port), f"{user}@127.0.0.1", "echo", "jg-ok"]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=60,
                           stdin=subprocess.DEVNULL)
        return p.returncode, p.stdout, p.stderr

    def sshd_log(self):
        self.log.flush()
        return (self.dir / "sshd.log").read_text()

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)
        try:
            (PAM_D / self.service).unlink()
        except (FileNotFoundError, AttributeError):
            pass


@pytest.fixture(scope="module")
def sshd(pam_module, pam_services, syslog_sink):
    s = Sshd(pam_module, pam_services, syslog_sink)
    try:
        yield s
    finally:
        s.close()


def login(sshd, user):
    """ssh in as user; returns (rc, stdout, the module's log line)."""
    mark = sshd.sink.mark()
    rc, out, err = sshd.ssh(user)
    line = sshd.sink.wait_for(
        f"pam_jumpgate\\({sshd.service}:account\\): (allow|deny|error) ",
        since=mark)
    return rc, out + err, line


def test_sshd_allowed(sshd):
    sshd.write_policy()
    rc, out, line = login(sshd, "root")
    assert rc == 0 and "jg-ok" in out, out + sshd.sshd_log()
    assert ("allow user=root rhost=127.0.0.1 target=jump-host action=shell "
            "rule=root-jump") in line


def test_sshd_wrong_source(sshd):
    sshd.write_policy(source="203.0.113.0/24")
    rc, out, line = login(sshd, "root")
    assert rc == 255 and "jg-ok" not in out
    assert "deny user=root rhost=127.0.0.1 " in line
    assert "not in the 'from' of user 'root'" in line
    assert "Access denied for user root by PAM account configuration" in \
        sshd.sshd_log()


def test_sshd_expired_user(sshd):
    sshd.write_policy(expires="2020-01-01T00:00:00Z")
    rc, out, line = login(sshd, "root")
    assert rc == 255 and "jg-ok" not in out
    assert "expired at 2020-01-01T00:00:00Z" in line


def test_sshd_outside_time_window(sshd):
    sshd.write_policy(when=f"{closed_day()} 00:00-24:00 UTC")
    rc, out, line = login(sshd, "root")
    assert rc == 255 and "jg-ok" not in out
    assert "outside the time window of rule 'root-jump'" in line


def test_sshd_unknown_user(sshd):
    """nobody is a local account (sshd reaches the account stack) but not
    a policy user."""
    sshd.write_policy()
    rc, out, line = login(sshd, "nobody")
    assert rc == 255 and "jg-ok" not in out
    assert "deny user=nobody rhost=127.0.0.1 " in line
    assert "user unknown" in line


def test_sshd_unreadable_policy(sshd):
    sshd.write_policy()
    sshd.policy.unlink()
    try:
        rc, out, line = login(sshd, "root")
        assert rc == 255 and "jg-ok" not in out
        assert "error user=root " in line and "cannot load the policy" in line
        assert line.endswith("; denying")
    finally:
        sshd.write_policy()
    # And back: the next login reads the restored policy.
    rc, out, line = login(sshd, "root")
    assert rc == 0 and "jg-ok" in out, out
