# SPDX-License-Identifier: Apache-2.0
# tests/integration/pam_fixtures.py - fixtures for the pam_jumpgate.so tests:
# the module and its test driver from $JG_BUILD, a throw-away config and
# policy, PAM service files under /etc/pam.d (unique per test session and
# always removed), a catcher for what the module writes to syslog, and a
# pamtester runner. Import the fixtures by name into each test module.
import datetime
import atexit
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

PAM_D = Path("/etc/pam.d")
DEV_LOG = "/dev/log"
# Every service file this session writes starts with this; the session
# removes whatever is left with it at the end, even after a failure.
SERVICE_PREFIX = f"jg-test-{os.getpid()}-"

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

# The policy the tests run against. {closed} is a weekday that is neither
# yesterday, today nor tomorrow (UTC), so that erin's rule is closed now.
PAM_POLICY = """\
version: 1
users:
  alice:
    keys: ["{alice}"]
    groups: [ops]
    from: [203.0.113.0/24, "2001:db8::/48"]
  carol:
    keys: ["{carol}"]
    groups: [ops]
    from: [127.0.0.1/32]
  dave:
    keys: ["{dave}"]
    groups: [ops]
    from: [203.0.113.0/24]
    expires: 2020-01-01T00:00:00Z
  erin:
    keys: ["{erin}"]
    groups: [night]
    from: [203.0.113.0/24]
targets:
  jump-host: {kind: ssh, address: "127.0.0.1:22", labels: {role: bastion}}
  grafana:   {kind: tcp, address: "10.0.2.10:3000"}
rules:
  - name: ops-jump
    groups: [ops]
    targets: [jump-host]
    allow: [shell, sftp]
  - name: ops-madrid
    groups: [ops]
    targets: ["role=bastion"]
    allow: [exec]
    when: "Mon-Sun 00:00-24:00 Europe/Madrid"
  - name: erin-window
    users: [erin]
    targets: [jump-host]
    allow: [shell]
    when: "{closed} 00:00-24:00 UTC"
"""


def closed_day(now=None):
    """A weekday (Mon..Sun) two or more days away from now (UTC)."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    return DAYS[(now.weekday() + 3) % 7]


def build_dir():
    build = os.environ.get("JG_BUILD")
    assert build, "JG_BUILD must name the build folder (run via make integration)"
    return Path(build)


@pytest.fixture(scope="session")
def pam_module():
    path = build_dir() / "pam_jumpgate.so"
    assert path.is_file(), f"{path} not built (make {path})"
    return path


@pytest.fixture(scope="session")
def pam_driver():
    path = build_dir() / "pam_jgtest"
    assert path.is_file() and os.access(path, os.X_OK), f"{path} not built"
    return path


@pytest.fixture(scope="session", autouse=False)
def root_only():
    if os.geteuid() != 0:
        pytest.skip("the PAM tests write /etc/pam.d and must run as root")


# ---- syslog --------------------------------------------------------------


class SyslogSink:
    """Receives the datagrams syslog(3) sends. When /dev/log is free the
    socket is bound there for the session; when a syslog daemon owns it,
    commands are run in a private mount namespace with the socket bound
    over /dev/log (wrap() does that), and the host's syslog is untouched."""

    def __init__(self):
        self.msgs = []
        self.lock = threading.Lock()
        self.dir = tempfile.mkdtemp(prefix="jg-pam-log-")
        os.chmod(self.dir, 0o755)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        # JG_TEST_SYSLOG=namespace forces the second way (to test it).
        if (os.environ.get("JG_TEST_SYSLOG") != "namespace"
                and not os.path.lexists(DEV_LOG)):
            self.path = DEV_LOG
            self.mode = "direct"
        else:
            self.path = os.path.join(self.dir, "log")
            self.mode = "namespace"
        self.sock.bind(self.path)
        os.chmod(self.path, 0o666)
        self.sock.settimeout(0.2)
        self.stopping = False
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        while not self.stopping:
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                self.msgs.append(data.decode("utf-8", "replace"))

    def wrap(self, cmd):
        """cmd, run so that its syslog messages reach this sink."""
        if self.mode == "direct":
            return cmd
        return ["unshare", "--mount", "--propagation", "private", "sh", "-c",
                'mount --bind "$0" /dev/log && exec "$@"', self.path] + cmd

    def mark(self):
        with self.lock:
            return len(self.msgs)

    def wait_for(self, pattern, since=0, timeout=5.0):
        """The first message after mark since that matches pattern (a
        regex); fails after timeout seconds."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                for m in self.msgs[since:]:
                    if rx.search(m):
                        return m
                seen = self.msgs[since:]
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"no syslog message matching {pattern!r}; got:\n"
                    + "\n".join(seen))
            time.sleep(0.05)

    def since(self, mark, needle=""):
        with self.lock:
            return [m for m in self.msgs[mark:] if needle in m]

    def close(self):
        self.stopping = True
        self.thread.join(timeout=2)
        self.sock.close()
        if self.mode == "direct":
            try:
                os.unlink(DEV_LOG)
            except FileNotFoundError:
                pass
        shutil.rmtree(self.dir, ignore_errors=True)


# One sink for the whole pytest process: every test module imports this
# fixture, and pytest keeps a "session" instance per importing module, so a
# second sink would find /dev/log taken by the first and fall back to mount
# namespaces (which do not work where / is not a mount point, e.g. chroots).
_SINK = []


def _close_sink():
    while _SINK:
        _SINK.pop().close()


@pytest.fixture(scope="session")
def syslog_sink(root_only):
    if not _SINK:
        _SINK.append(SyslogSink())
        atexit.register(_close_sink)
    yield _SINK[0]


# ---- PAM service files ---------------------------------------------------


def _remove_services():
    for p in PAM_D.glob(SERVICE_PREFIX + "*"):
        p.unlink()


@pytest.fixture(scope="session")
def pam_services(root_only):
    """Makes service files /etc/pam.d/jg-test-PID-N; all removed at the end
    of the session (and each at the end of its test, see pam_env)."""
    counter = iter(range(1, 1000000))

    def make(text, prefix=SERVICE_PREFIX):
        name = f"{prefix}{next(counter)}"
        (PAM_D / name).write_text(text)
        return name

    try:
        yield make
    finally:
        _remove_services()


class PamEnv:
    """One test's config + policy folder, its PAM services, and helpers to
    run pamtester and the driver against them."""

    def __init__(self, root, module, driver, keys, make_service, sink):
        self.root = root
        self.module = module
        self.driver = driver
        self.keys = keys
        self.make_service = make_service
        self.sink = sink
        self.services = []
        self.config = root / "jumpgate.yaml"
        self.policy = root / "policy.yaml"
        self.policy_d = root / "policy.d"
        # audit.dir names a folder of the test that does not exist: no event
        # log (and never the host's /var/lib/jumpgate) unless a test makes
        # it with with_event_log().
        self.audit = root / "audit"
        self.key = root / "audit_ed25519.pem"
        self.config.write_text(f"policy: policy.yaml\naudit: {{dir: {self.audit}}}\n")
        self.write_policy(PAM_POLICY.replace("{closed}", closed_day()))

    def with_event_log(self, key=True):
        """Makes audit.dir, and with key a signing key (as `jumpgate audit
        keygen` does) named by audit.signing_key."""
        self.audit.mkdir(mode=0o750)
        text = f"policy: policy.yaml\naudit: {{dir: {self.audit}"
        if key:
            text += f", signing_key: {self.key}"
        self.config.write_text(text + "}\n")
        if key:
            rc, out, err = self.jumpgate("audit", "keygen")
            assert rc == 0, out + err

    def jumpgate(self, *args):
        """Runs the jumpgate command with this config; (rc, out, err)."""
        p = subprocess.run([str(build_dir() / "jumpgate"), "-c",
                            str(self.config)] + list(args),
                           capture_output=True, text=True, timeout=60,
                           stdin=subprocess.DEVNULL)
        return p.returncode, p.stdout, p.stderr

    def events(self, type_prefix="pam."):
        """The event log's events whose type starts with type_prefix, in
        order (all of them for "")."""
        out = []
        for f in sorted((self.audit / "events").glob("*.jsonl")):
            out += [json.loads(l) for l in f.read_text().splitlines()]
        return [e for e in out if e["type"].startswith(type_prefix)]

    def fill(self, text):
        for name, key in self.keys.items():
            text = text.replace("{" + name + "}", key)
        return text

    def write_policy(self, text):
        self.policy.write_text(self.fill(text))

    def write_dropin(self, name, text):
        self.policy_d.mkdir(exist_ok=True)
        (self.policy_d / name).write_text(self.fill(text))

    def module_line(self, kind="account", control="required", config=None,
                    target="jump-host", action=None, extra=()):
        args = [f"config={config or self.config}"]
        if target is not None:
            args.append(f"target={target}")
        if action is not None:
            args.append(f"action={action}")
        args += list(extra)
        return f"{kind} {control} {self.module} " + " ".join(args)

    def service(self, account=None, auth="auth required pam_permit.so",
                more=()):
        """A PAM service: auth, then account lines (our module by
        default), then more lines. Returns its name."""
        lines = [auth, account or self.module_line()] + list(more)
        name = self.make_service("\n".join(lines) + "\n")
        self.services.append(name)
        return name

    def pamtester(self, service, user, rhost=None, op="acct_mgmt"):
        """Runs pamtester; returns (rc, output)."""
        cmd = ["pamtester"]
        if rhost is not None:
            cmd += ["-I", f"rhost={rhost}"]
        cmd += [service, user, op]
        p = subprocess.run(self.sink.wrap(cmd), capture_output=True,
                           text=True, timeout=30, stdin=subprocess.DEVNULL)
        return p.returncode, p.stdout + p.stderr

    def log_re(self, service, kind="account"):
        """Regex prefix of the module's syslog lines for service."""
        return re.escape(f"pam_jumpgate({service}:{kind}): ")

    def cleanup(self):
        for s in self.services:
            try:
                (PAM_D / s).unlink()
            except FileNotFoundError:
                pass


@pytest.fixture
def pam_env(tmp_path, pam_module, pam_driver, keys, pam_services,
            syslog_sink):
    e = PamEnv(tmp_path, pam_module, pam_driver, keys, pam_services,
               syslog_sink)
    try:
        yield e
    finally:
        e.cleanup()
