# SPDX-License-Identifier: Apache-2.0
# tests/integration/test_packaging.py - packaging and operations: the systemd
# units, the Prometheus rules and Grafana dashboard against the metrics
# contract, make install/uninstall, and the Debian package built, checked
# with lintian, installed on this machine, run, reloaded, stopped and purged.
import fcntl
import grp
import hashlib
import json
import os
import pwd
import shutil
import signal
import stat
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from gw_fixtures import JUMPGATE, Sshd, free_port, keygen, stop, wait_port
from metrics_contract import CONTRACT, GATEWAY_METRICS, SYNC_METRICS, metric_names

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("JG_BUILD", ROOT / "build"))
PKG = ROOT / "packaging"
UNITS = ["jumpgated.service", "jumpgate-sync.service", "jumpgate-prune.service",
         "jumpgate-prune.timer", "jumpgate-console.service"]
DASHBOARD = PKG / "grafana" / "jumpgate.json"
RULES = PKG / "prometheus" / "jumpgate.rules.yml"


def run(args, **kw):
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("timeout", 120)
    return subprocess.run(args, **kw)


def render_unit(name, bindir, sbindir):
    src = PKG / "systemd" / name
    if not src.exists():
        src = PKG / "systemd" / (name + ".in")
    return src.read_text().replace("@BINDIR@", str(bindir)).replace("@SBINDIR@", str(sbindir))


# --- units, rules, dashboard ------------------------------------------------

def test_units_verify_clean(tmp_path):
    for u in UNITS:
        (tmp_path / u).write_text(render_unit(u, BUILD, BUILD))
    r = run(["systemd-analyze", "verify", "--man=no"] + [str(tmp_path / u) for u in UNITS])
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.strip() == "" and r.stderr.strip() == "", r.stdout + r.stderr


def test_units_run_the_programs_the_way_the_daemon_expects():
    gw = render_unit("jumpgated.service", "/usr/bin", "/usr/sbin")
    sect = {}
    for line in gw.splitlines():
        if "=" in line and not line.startswith("#"):
            k, v = line.split("=", 1)
            sect.setdefault(k, []).append(v)
    assert sect["Type"] == ["simple"]
    assert sect["ExecStart"] == ["/usr/sbin/jumpgated -f"]
    assert sect["ExecStartPre"] == ["/usr/sbin/jumpgated -t"]
    assert "/bin/kill -HUP $MAINPID" in sect["ExecReload"]
    assert sect["RuntimeDirectory"] == ["jumpgated"]
    caps = set(sect["CapabilityBoundingSet"][0].split())
    assert caps == {"CAP_NET_BIND_SERVICE", "CAP_SETUID", "CAP_SETGID",
                    "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"}
    rw = sect["ReadWritePaths"][0].split()
    assert "-/var/lib/jumpgate" in rw and "/run/jumpgated" in rw
    sync = render_unit("jumpgate-sync.service", "/usr/bin", "/usr/sbin")
    assert "ExecStart=/usr/bin/jumpgate sync run\n" in sync
    assert "CapabilityBoundingSet=\n" in sync
    console = render_unit("jumpgate-console.service", "/usr/bin", "/usr/sbin")
    assert "ExecStart=/usr/bin/jumpgate audit serve\n" in console
    assert "CapabilityBoundingSet=CAP_AUDIT_WRITE\n" in console
    prune = render_unit("jumpgate-prune.service", "/usr/bin", "/usr/sbin")
    assert "ExecStart=/usr/bin/jumpgate policy grants --prune\n" in prune
    assert "Unit=" not in (PKG / "systemd" / "jumpgate-prune.timer").read_text()


def test_promtool_checks_and_tests_the_rules():
    r = run(["promtool", "check", "rules", str(RULES)])
    assert r.returncode == 0 and "SUCCESS" in r.stdout, r.stdout + r.stderr
    r = run(["promtool", "test", "rules", "jumpgate.rules.test.yml"], cwd=RULES.parent)
    assert r.returncode == 0 and "SUCCESS" in r.stdout, r.stdout + r.stderr


def dashboard_exprs():
    d = json.loads(DASHBOARD.read_text())
    exprs = []

    def walk(panels):
        for p in panels:
            exprs.extend(t["expr"] for t in p.get("targets", []))
            walk(p.get("panels", []))
    walk(d["panels"])
    return d, exprs


def rules_exprs():
    doc = yaml.safe_load(RULES.read_text())
    records = {r["record"] for g in doc["groups"] for r in g["rules"] if "record" in r}
    exprs = [r["expr"] for g in doc["groups"] for r in g["rules"]]
    alerts = {r["alert"] for g in doc["groups"] for r in g["rules"] if "alert" in r}
    return records, exprs, alerts


def test_dashboard_and_rules_use_only_contract_metrics():
    records, rexprs, _ = rules_exprs()
    _, dexprs = dashboard_exprs()
    assert dexprs and rexprs
    for e in dexprs + rexprs:
        names = metric_names(e)
        assert names, f"no metric in {e!r}"
        unknown = names - CONTRACT - records
        assert not unknown, f"{e!r} uses {sorted(unknown)}, not in the metrics contract"


def test_dashboard_covers_the_contract():
    d, exprs = dashboard_exprs()
    assert d["schemaVersion"] >= 36
    used = set().union(*(metric_names(e) for e in exprs))
    # build_info feeds the instance variable; process_start_time_seconds
    # only the sync alert.
    wanted = (GATEWAY_METRICS | SYNC_METRICS) - {"jumpgate_build_info", "process_start_time_seconds"}
    assert wanted <= used, sorted(wanted - used)
    variables = {v["name"]: v for v in d["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    assert "jumpgate_build_info" in variables["instance"]["definition"]

    def walk(panels):
        for p in panels:
            if p["type"] != "row":
                assert p["datasource"]["uid"] == "${datasource}", p["title"]
                assert p["targets"], p["title"]
            walk(p.get("panels", []))
    walk(d["panels"])
    ids = [p["id"] for p in d["panels"]]
    assert len(ids) == len(set(ids))


def test_rules_have_the_alerts_operators_need():
    _, exprs, alerts = rules_exprs()
    assert {"JumpgateDown", "JumpgateAuditWriteFailing", "JumpgateSyncFailing",
            "JumpgateAuthFailureSpike"} <= alerts
    assert any('up{job="jumpgated"} == 0' in e for e in exprs)


# --- make install / uninstall ------------------------------------------------

def test_make_install_then_uninstall_leaves_nothing(tmp_path):
    dest = tmp_path / "dest"
    make = ["make", "-C", str(ROOT), f"BUILD={BUILD}", f"DESTDIR={dest}", "PREFIX=/usr/local"]
    r = run(make + ["install"], timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    files = sorted(str(p.relative_to(dest)) for p in dest.rglob("*") if not p.is_dir())
    for want in ["usr/local/bin/jumpgate", "usr/local/sbin/jumpgated",
                 "etc/pam.d/jumpgate", "usr/local/share/man/man8/jumpgated.8",
                 "usr/local/share/man/man8/pam_jumpgate.8",
                 "usr/local/share/man/man5/jumpgate.yaml.5",
                 "usr/local/share/doc/jumpgate/examples/jumpgate.yaml",
                 "usr/local/share/doc/jumpgate/examples/policy.yaml",
                 "usr/local/share/jumpgate/grafana/jumpgate.json",
                 "usr/local/share/jumpgate/prometheus/jumpgate.rules.yml",
                 "usr/local/share/jumpgate/console/asciinema-player.min.js",
                 "usr/local/share/jumpgate/console/console.js"] + \
            [f"usr/local/lib/systemd/system/{u}" for u in UNITS]:
        assert want in files, files
    assert any(f.endswith("/security/pam_jumpgate.so") for f in files), files
    unit = (dest / "usr/local/lib/systemd/system/jumpgated.service").read_text()
    assert "ExecStart=/usr/local/sbin/jumpgated -f" in unit and "@" not in unit.split("[Unit]")[1]
    assert os.access(dest / "usr/local/sbin/jumpgated", os.X_OK)
    r = run(make + ["uninstall"], timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    left = [str(p.relative_to(dest)) for p in dest.rglob("*") if not p.is_dir()]
    assert left == []
    assert not (dest / "usr/local/share/jumpgate").exists()
    assert not (dest / "usr/local/share/doc/jumpgate").exists()


# --- the Debian package --------------------------------------------------------

# Paths the package owns; a file here that dpkg does not give to our
# package is someone's real installation, which this test must not touch.
GUARDED = ["/usr/sbin/jumpgated", "/usr/bin/jumpgate", "/etc/jumpgate",
           "/etc/pam.d/jumpgate", "/lib/systemd/system/jumpgated.service"]
LOCK = "/run/lock/jumpgate-packaging-test.lock"


def multiarch():
    return run(["dpkg-architecture", "-qDEB_HOST_MULTIARCH"]).stdout.strip()


def pkg_installed():
    r = run(["dpkg-query", "-W", "-f=${db:Status-Status}", "jumpgate"])
    return r.returncode == 0 and r.stdout.strip() not in ("", "not-installed")


def dpkg(*args):
    """dpkg with a bounded wait for the dpkg lock (another apt may run)."""
    for _ in range(60):
        r = run(["dpkg", *args], timeout=300,
                env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
        if r.returncode == 0 or "lock" not in r.stderr:
            return r
        time.sleep(2)
    return r


def sha(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def tree_status():
    """Changed, untracked and ignored paths of the source tree, build/ aside."""
    r = run(["git", "-C", str(ROOT), "status", "--porcelain", "--ignored",
             "--untracked-files=all", "--", ".", ":!build"])
    assert r.returncode == 0, r.stderr
    return r.stdout.splitlines()


deb_tree_change = []


@pytest.fixture(scope="module")
def deb(tmp_path_factory):
    """Builds the package with `make deb` from scratch; the build time goes
    to build/deb/build-time.txt."""
    if os.geteuid() != 0:
        pytest.skip("the package tests install to / and run as root")
    before = tree_status()
    t0 = time.monotonic()
    r = run(["make", "-C", str(ROOT), "deb"], timeout=1200)
    took = time.monotonic() - t0
    deb_tree_change[:] = sorted(set(tree_status()) ^ set(before))
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    debs = sorted((ROOT / "build" / "deb").glob("jumpgate_*.deb"))
    assert len(debs) == 1, debs
    (ROOT / "build" / "deb" / "build-time.txt").write_text(
        f"make deb (dpkg-buildpackage -b -uc -us, parallel=2): {took:.1f} s\n")
    print(f"make deb: {took:.1f} s")
    return debs[0]


def test_deb_build_leaves_the_tree_clean(deb):
    assert deb_tree_change == []


def test_lintian_reports_no_errors_or_warnings(deb):
    r = run(["lintian", "--no-tag-display-limit", str(deb)], timeout=600)
    tags = [ln for ln in r.stdout.splitlines() if ln[:2] in ("E:", "W:")]
    assert tags == [], r.stdout + r.stderr
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.fixture(scope="module")
def installed(deb, tmp_path_factory):
    """The package installed on this machine; purged afterwards whatever
    happens. Refuses to run next to another installation."""
    lockf = open(LOCK, "w")
    try:
        fcntl.flock(lockf, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        pytest.fail(f"another run of the package test holds {LOCK}")
    if pkg_installed():
        pytest.fail("the jumpgate package is already installed here; "
                    "this test will not replace or purge it")
    for p in GUARDED + [f"/lib/{multiarch()}/security/pam_jumpgate.so"]:
        if os.path.lexists(p):
            pytest.fail(f"{p} exists and is not from the jumpgate package: "
                        "refusing to install over a real installation")
    state_existed = os.path.lexists("/var/lib/jumpgate")
    try:
        r = dpkg("-i", str(deb))
        assert r.returncode == 0, r.stdout + r.stderr
        yield deb
    finally:
        if pkg_installed():
            dpkg("--purge", "jumpgate")
        # Audit data is kept on purge; this data is the test's own.
        if not state_existed:
            shutil.rmtree("/var/lib/jumpgate", ignore_errors=True)
        fcntl.flock(lockf, fcntl.LOCK_UN)
        lockf.close()


def mode(path):
    st = os.stat(path)
    return stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid


def test_installed_files_user_and_keys(installed):
    ma = multiarch()
    assert mode("/usr/sbin/jumpgated") == (0o755, 0, 0)
    assert mode("/usr/bin/jumpgate") == (0o755, 0, 0)
    assert mode(f"/lib/{ma}/security/pam_jumpgate.so")[0] == 0o644
    assert "pam_oath.so" in Path("/etc/pam.d/jumpgate").read_text()
    for m in ["man1/jumpgate.1.gz", "man1/jumpgate-audit.1.gz", "man5/jumpgate.yaml.5.gz",
              "man5/jumpgate-policy.5.gz", "man5/jumpgate-recording.5.gz",
              "man8/jumpgated.8.gz", "man8/pam_jumpgate.8.gz"]:
        assert Path("/usr/share/man", m).is_file(), m
    for u in UNITS:
        assert Path("/lib/systemd/system", u).is_file(), u
    conff = run(["dpkg-query", "-W", "-f=${Conffiles}", "jumpgate"]).stdout
    for c in ["/etc/jumpgate/jumpgate.yaml", "/etc/jumpgate/policy.yaml", "/etc/pam.d/jumpgate"]:
        assert c in conff, conff
    # The timer is enabled, the services are not.
    assert Path("/etc/systemd/system/timers.target.wants/jumpgate-prune.timer").is_symlink()
    assert not Path("/etc/systemd/system/multi-user.target.wants/jumpgated.service").exists()

    pw = pwd.getpwnam("jumpgate")
    assert pw.pw_uid < 1000 and pw.pw_shell == "/usr/sbin/nologin"
    assert pw.pw_dir == "/var/lib/jumpgate"
    audit_gid = grp.getgrnam("jumpgate-audit").gr_gid
    assert mode("/var/lib/jumpgate") == (0o2750, 0, audit_gid)
    assert mode("/etc/jumpgate/oath") == (0o700, 0, 0)

    for key in ["/etc/jumpgate/ssh_host_ed25519_key", "/etc/jumpgate/upstream_ed25519"]:
        assert mode(key) == (0o600, 0, 0)
        assert mode(key + ".pub") == (0o644, 0, 0)
        fp = run(["ssh-keygen", "-l", "-f", key])
        assert fp.returncode == 0 and "(ED25519)" in fp.stdout, fp.stdout + fp.stderr
    assert mode("/etc/jumpgate/audit_ed25519.pem") == (0o600, 0, 0)
    assert "PUBLIC KEY" in Path("/etc/jumpgate/audit_ed25519.pem.pub").read_text()
    assert Path("/etc/jumpgate/known_hosts").is_file()

    r = run(["/usr/sbin/jumpgated", "-t"])
    assert r.returncode == 0 and "configuration and policy OK" in r.stdout, r.stdout + r.stderr
    verify = ["systemd-analyze", "verify"] + ([] if shutil.which("man") else ["--man=no"])
    r = run(verify + [f"/lib/systemd/system/{u}" for u in UNITS])
    assert r.returncode == 0 and (r.stdout + r.stderr).strip() == "", r.stdout + r.stderr


def test_reinstall_never_overwrites_keys(installed):
    keys = ["/etc/jumpgate/ssh_host_ed25519_key", "/etc/jumpgate/upstream_ed25519",
            "/etc/jumpgate/audit_ed25519.pem", "/etc/jumpgate/audit_ed25519.pem.pub"]
    before = {k: sha(k) for k in keys}
    r = dpkg("-i", str(installed))
    assert r.returncode == 0, r.stdout + r.stderr
    assert {k: sha(k) for k in keys} == before


def gateway_config(path, port, policy):
    """The installed configuration, listening on a loopback port, with the
    test's policy and no metrics listener."""
    cfg = yaml.safe_load(Path("/etc/jumpgate/jumpgate.yaml").read_text())
    cfg["listen"] = [f"127.0.0.1:{port}"]
    cfg["policy"] = str(policy)
    cfg.pop("metrics", None)
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_installed_gateway_serves_reloads_stops_and_purges(installed, tmp_path):
    upstream_pub = Path("/etc/jumpgate/upstream_ed25519.pub").read_text().strip()
    target = Sshd(tmp_path, "web-1", upstream_pub)
    proc = log = None
    try:
        # Operator steps: the target's host key into known_hosts, a policy.
        with open("/etc/jumpgate/known_hosts", "a") as f:
            f.write(f"[127.0.0.1]:{target.port} {target.hostpub}\n")
        keys = tmp_path / "keys"
        keys.mkdir()
        alice, bob = keygen(keys / "alice"), keygen(keys / "bob")
        policy = tmp_path / "policy.yaml"
        rules = """\
rules:
  - name: ops-exec
    groups: [ops]
    targets: [web-1]
    allow: [exec]
    logins: [root]
"""
        base = f"""\
version: 1
users:
  alice: {{keys: ["{alice}"], groups: [ops], from: [127.0.0.0/8]}}
  bob:   {{keys: ["{bob}"], groups: [dev], from: [127.0.0.0/8]}}
targets:
  web-1: {{kind: ssh, address: "127.0.0.1:{target.port}"}}
"""
        policy.write_text(base + rules)
        port = free_port()
        cfg = gateway_config(tmp_path / "jumpgate.yaml", port, policy)

        # As the unit does: the check, then the daemon in the foreground.
        r = run(["/usr/sbin/jumpgated", "-c", str(cfg), "-t"])
        assert r.returncode == 0, r.stdout + r.stderr
        log = open(tmp_path / "jumpgated.log", "w")
        proc = subprocess.Popen(["/usr/sbin/jumpgated", "-c", str(cfg), "-f"],
                                stdout=log, stderr=subprocess.STDOUT)
        wait_port(port, proc=proc)
        kh = tmp_path / "client_known_hosts"
        kh.write_text(f"[127.0.0.1]:{port} "
                      f"{Path('/etc/jumpgate/ssh_host_ed25519_key.pub').read_text()}")

        def ssh(user, key, *cmd):
            return run(["ssh", "-F", "/dev/null", "-p", str(port),
                        "-o", f"UserKnownHostsFile={kh}", "-o", "StrictHostKeyChecking=yes",
                        "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
                        "-o", "ConnectTimeout=10", "-i", str(keys / key),
                        "-l", user, "127.0.0.1", *cmd], timeout=30)

        r = ssh("alice:web-1", "alice", "echo", "through-the-package")
        assert r.returncode == 0 and r.stdout.strip() == "through-the-package", r.stderr
        r = ssh("bob:web-1", "bob", "true")
        assert r.returncode != 0

        # SIGHUP, as ExecReload does: bob's group is allowed now.
        policy.write_text(base + rules.replace("groups: [ops]", "groups: [ops, dev]"))
        proc.send_signal(signal.SIGHUP)
        end = time.monotonic() + 10
        while time.monotonic() < end and "reloaded" not in (tmp_path / "jumpgated.log").read_text():
            time.sleep(0.1)
        assert "reloaded" in (tmp_path / "jumpgated.log").read_text()
        r = ssh("bob:web-1", "bob", "echo", "after-reload")
        assert r.returncode == 0 and r.stdout.strip() == "after-reload", r.stderr

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        proc = None

        # The session was recorded with the generated seal key.
        sessions = list(Path("/var/lib/jumpgate/sessions").rglob("*.jgr"))
        assert len(sessions) == 2, sessions
        r = run(["/usr/bin/jumpgate", "-c", str(cfg), "audit", "verify", "--all"])
        assert r.returncode == 0, r.stdout + r.stderr
        # An auditor in the group jumpgate-audit reads and proves it without
        # root; an account outside the group cannot read it.
        audit_gid = grp.getgrnam("jumpgate-audit").gr_gid
        as_auditor = ["setpriv", "--reuid=65534", "--regid=65534",
                      f"--groups={audit_gid}", "/usr/bin/jumpgate", "-c",
                      "/dev/null"]
        r = run(as_auditor + ["audit", "list", "--dir", "/var/lib/jumpgate"])
        assert r.returncode == 0 and "alice" in r.stdout, r.stdout + r.stderr
        r = run(as_auditor + ["audit", "verify", "--dir", "/var/lib/jumpgate",
                              "--key", "/etc/jumpgate/audit_ed25519.pem.pub"])
        assert r.returncode == 0 and "intact" in r.stdout, r.stdout + r.stderr
        r = run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                 "/usr/bin/jumpgate", "-c", "/dev/null", "audit", "list",
                 "--dir", "/var/lib/jumpgate"])
        assert r.returncode != 0 and "ermission denied" in r.stderr, r.stderr
        # What purge must keep. (A copy: on a shared machine another program
        # reading the default configuration may append to the live log.)
        shutil.copytree("/var/lib/jumpgate", tmp_path / "audit-before")
    finally:
        stop(proc)
        if log is not None:
            log.close()
        target.stop()

    ma = multiarch()
    r = dpkg("--purge", "jumpgate")
    assert r.returncode == 0, r.stdout + r.stderr
    assert not pkg_installed()
    for p in GUARDED + [f"/lib/{ma}/security/pam_jumpgate.so", "/etc/jumpgate",
                        "/etc/systemd/system/timers.target.wants/jumpgate-prune.timer"] + \
            [f"/lib/systemd/system/{u}" for u in UNITS]:
        assert not os.path.lexists(p), f"{p} left after purge"
    # Kept, as documented: the audit data with the seal key's public half,
    # still verifiable, and the system user.
    kept = sorted(p.name for p in Path("/var/lib/jumpgate").iterdir())
    assert kept == ["audit_ed25519.pem.pub", "events", "sessions"], kept
    before = tmp_path / "audit-before"
    for f in before.rglob("*.jgr"):
        kept_f = Path("/var/lib/jumpgate") / f.relative_to(before)
        assert sha(kept_f) == sha(f), kept_f
    r = run([str(JUMPGATE), "-c", "/dev/null", "audit", "verify", "--all",
             "--dir", str(before), "--key", "/var/lib/jumpgate/audit_ed25519.pem.pub"])
    assert r.returncode == 0, r.stdout + r.stderr
    pwd.getpwnam("jumpgate")
