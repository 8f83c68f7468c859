# SPDX-License-Identifier: Apache-2.0
# tests/integration/test_pam_module.py - pam_jumpgate.so as a guest in
# someone else's process: only the PAM entry points exported, no leaks over
# many calls (valgrind memcheck), correct answers from many threads at once,
# no fd left open and none opened without close-on-exec (the driver watches
# /proc/self/fd), and no data races in our code (valgrind helgrind); with
# and without the audit event log.
import re
import subprocess

import pytest

from pam_fixtures import (pam_driver, pam_env, pam_module,  # noqa: F401
                          pam_services, root_only, syslog_sink)

VALGRIND_TIMEOUT = 300


def test_only_pam_entry_points_are_exported(pam_module):
    out = subprocess.run(["nm", "-D", "--defined-only", str(pam_module)],
                         capture_output=True, text=True, check=True,
                         timeout=30).stdout
    names = sorted(line.split()[-1] for line in out.splitlines() if line.strip())
    assert names == ["pam_sm_acct_mgmt", "pam_sm_authenticate",
                     "pam_sm_setcred"], out


def test_links_no_gateway_libraries(pam_module):
    """The event log's writer brings jansson and libcrypto (seals);
    nothing of the network side (curl, libxml2, TLS) comes along."""
    out = subprocess.run(["readelf", "-d", str(pam_module)],
                         capture_output=True, text=True, check=True,
                         timeout=30).stdout
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out)
    assert any(n.startswith("libpam.so") for n in needed), needed
    assert any(n.startswith("libjansson") for n in needed), needed
    for lib in ("libcurl", "libxml2", "libssl.", "libseccomp",
                "libmicrohttpd"):
        assert not any(n.startswith(lib) for n in needed), needed
    assert "BIND_NOW" in out or "NOW" in out


def scenario(env, which):
    """(service, user, rhost, expected result name) for a driver run."""
    svc = env.service()
    if which == "allow":
        return svc, "alice", "203.0.113.7", "success"
    if which == "deny":
        return svc, "alice", "198.51.100.7", "perm_denied"
    if which == "window":
        return svc, "erin", "203.0.113.7", "perm_denied"
    if which == "unknown":
        return svc, "zed", "203.0.113.7", "user_unknown"
    if which == "error":
        env.policy.write_text(env.policy.read_text() + "bogus: 1\n")
        return svc, "alice", "203.0.113.7", "perm_denied"
    if which == "ignore":
        env.policy.unlink()
        svc = env.service(account=env.module_line(extra=["on_error=ignore"]),
                          more=["account required pam_permit.so"])
        return svc, "alice", "203.0.113.7", "success"
    if which == "logged":
        # Every call also appends and seals its event (key load, flock,
        # Ed25519 signature, fdatasync).
        env.with_event_log()
        return svc, "alice", "203.0.113.7", "success"
    if which == "log-broken":
        env.with_event_log()
        (env.audit / "events").write_text("")
        return svc, "alice", "203.0.113.7", "perm_denied"
    raise AssertionError(which)


SCENARIOS = ["allow", "deny", "window", "unknown", "error", "ignore",
             "logged", "log-broken"]


# Files that libraries below us open for a moment without close-on-exec:
# libpam its service files (fopen "r") and its audit netlink socket (made,
# then marked close-on-exec: the watcher can see it in between), GLib the
# time-zone file of a `when` window, OpenSSL its configuration and
# /dev/urandom on first use in a process. Nothing of ours is among them.
THIRD_PARTY = re.compile(r"^(/etc/pam\.d/|socket:\[|/usr/share/zoneinfo/|"
                         r"/(?:etc|usr/lib)/ssl/openssl\.cnf$|/dev/urandom$)")


def fds_clean(env, out):
    """No fd left open after the calls; none of our files (config, policy,
    key, event log) ever open without close-on-exec while they ran, and
    nothing else but the third-party opens above."""
    assert "fds leaked=0 " in out, out
    leaky = re.findall(r"^no close-on-exec: (.*)$", out, re.M)
    ours = [p for p in leaky if p.startswith(str(env.root))]
    assert not ours, ours
    other = [p for p in leaky if not THIRD_PARTY.search(p)]
    assert not other, other


def run_driver(env, args, threads, iterations, tool=None, timeout=120):
    cmd = [str(env.driver)] + list(args) + [str(threads), str(iterations)]
    if tool is not None:
        cmd = tool + cmd
    p = subprocess.run(env.sink.wrap(cmd), capture_output=True, text=True,
                       timeout=timeout)
    return p.returncode, p.stdout, p.stderr


@pytest.mark.parametrize("which", SCENARIOS)
def test_threads_get_the_right_answer(pam_env, which):
    svc, user, rhost, expect = scenario(pam_env, which)
    rc, out, err = run_driver(pam_env, [svc, user, rhost, "account", expect],
                              8, 250)
    assert rc == 0, out + err
    assert "calls=2000 mismatches=0" in out
    fds_clean(pam_env, out)
    if which == "logged":
        assert len(pam_env.events()) == 2000
        rc, out, err = pam_env.jumpgate("audit", "verify")
        assert rc == 0 and "event log: intact" in out, out + err


MEMCHECK = ["valgrind", "-q", "--leak-check=full",
            "--show-leak-kinds=definite,indirect,possible",
            "--errors-for-leak-kinds=definite,indirect,possible",
            "--error-exitcode=99"]


def in_use_at_exit(stderr):
    m = re.search(r"in use at exit: ([\d,]+) bytes", stderr)
    assert m, stderr
    return int(m.group(1).replace(",", ""))


@pytest.mark.parametrize("which", SCENARIOS)
def test_no_leaks_under_valgrind(pam_env, which):
    """Hundreds of module calls (each a full load of config and policy,
    PAM loading and unloading the module) in 4 threads: memcheck finds no
    error and no leak, and what is still allocated at exit does not grow
    with the number of calls."""
    svc, user, rhost, expect = scenario(pam_env, which)
    args = [svc, user, rhost, "account", expect]
    rc, out, err = run_driver(pam_env, args, 4, 75, tool=MEMCHECK,
                              timeout=VALGRIND_TIMEOUT)
    assert rc == 0, out + err
    assert "calls=300 mismatches=0" in out
    assert "==" not in err, err   # -q: any report at all is a finding
    # The same without -q, for the heap summary: one call vs. many.
    summary = [a for a in MEMCHECK if a != "-q"]
    sizes = []
    for n in (1, 60):
        rc, out, err = run_driver(pam_env, args, 2, n, tool=summary,
                                  timeout=VALGRIND_TIMEOUT)
        assert rc == 0, out + err
        assert re.search(r"definitely lost: 0 bytes", err) or \
            "All heap blocks were freed" in err, err
        sizes.append(in_use_at_exit(err))
    # Thread start-up order moves a few dozen bytes of libc/glib state
    # either way; growth with the number of calls would be far larger.
    assert sizes[1] - sizes[0] < 1024, sizes


OURS = re.compile(r"pam_jumpgate\.so\)|\((?:pam|policy|common|audit)/|"
                  r"\((?:jg_pam_|when|decide|policy|load_|index|keys|"
                  r"actions|grant_file|exposure|jg_)\w*\.c:")


def test_no_data_races_in_our_code(pam_env):
    """helgrind over 4 threads. libpam and libaudit have races of their own
    (dlopen bookkeeping, a static in audit_send), and helgrind cannot see
    GLib's futex-based mutexes (its time-zone cache, which a Europe/Madrid
    window exercises, is locked); so a report counts when one of the two
    conflicting accesses is made by our code itself (its top frame), and
    not when the memory is a GTimeZone that GLib's cache handed to two
    threads: the type is opaque, our code never touches its inside, and
    helgrind may name one of our frames for GLib's write that filled it
    in. The event log is on, so the appends (flock, seals) run in
    parallel too."""
    pam_env.with_event_log()
    svc = pam_env.service(account=pam_env.module_line(action="exec"))
    tool = ["valgrind", "--tool=helgrind", "--error-exitcode=99"]
    rc, out, err = run_driver(pam_env, [svc, "alice", "203.0.113.7",
                                        "account", "success"], 4, 15,
                              tool=tool, timeout=VALGRIND_TIMEOUT)
    assert "calls=60 mismatches=0" in out, out + err
    assert "ERROR SUMMARY" in err
    ours = []
    for r in re.split(r"==\d+== -{20,}", err):
        if "Possible data race" not in r and "lock order" not in r:
            continue
        tops = re.findall(r"==\d+==    at 0x[0-9A-F]+: .*", r)
        # Where the memory came from: the stack after "inside a block".
        alloc = r.split("inside a block", 1)[1] if "inside a block" in r else ""
        if "g_time_zone_new" in alloc:
            continue
        if any(OURS.search(t) for t in tops):
            ours.append(r)
    assert not ours, "\n".join(ours)
