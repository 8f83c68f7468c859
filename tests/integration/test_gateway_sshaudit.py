# SPDX-License-Identifier: Apache-2.0
# tests/integration/test_gateway_sshaudit.py - ssh-audit finds no failure
# and no warning in what jumpgated offers, and the offer is exactly the
# algorithm lists documented in jumpgated(8).
import glob
import os
import re
import subprocess
from pathlib import Path

from gw_fixtures import *  # noqa: F401,F403

ANSI = re.compile(r"\x1b\[[0-9;]*m")
MAN = Path(__file__).resolve().parents[2] / "docs" / "jumpgated.8"
# Debian 13's ssh-audit, unpacked by `make deps` (deps/ssh-audit.sh):
# Debian 12's 2.5.0 predates the post-quantum key exchanges.
SSH_AUDIT = os.environ.get("JG_SSH_AUDIT") or next(
    iter(sorted(glob.glob(str(MAN.parents[1] / "build" / "ssh-audit-*" /
                              "ssh-audit")))), "ssh-audit-is-missing")
STRICT_KEX = "kex-strict-s-v00@openssh.com"


def _audit(gw):
    r = subprocess.run([SSH_AUDIT, "-p", str(gw.port), "127.0.0.1"],
                       capture_output=True, text=True, timeout=60)
    return r.returncode, ANSI.sub("", r.stdout + r.stderr)


def test_ssh_audit_reports_no_failure_or_warning(gw):
    rc, out = _audit(gw)
    assert "(gen) banner: SSH-2.0-jumpgate" in out, out
    fails = [l for l in out.splitlines() if "[fail]" in l]
    warns = [l for l in out.splitlines() if "[warn]" in l]
    assert fails == [] and warns == [], out
    recs = [l for l in out.splitlines() if l.startswith("(rec)")]
    assert recs == [], out
    # the post-quantum hybrids come first; strict key exchange is on
    kex = _offered(out, "kex")
    assert kex[:3] == ["mlkem768x25519-sha256", "sntrup761x25519-sha512",
                       "sntrup761x25519-sha512@openssh.com"], out
    assert STRICT_KEX in kex, out
    # exit status: 0 all good, 2 warnings, 3 failures
    assert rc == 0, out


def _offered(out, tag):
    return [l.split()[1] for l in out.splitlines() if l.startswith(f"({tag}) ")]


def test_offer_matches_the_manual(gw):
    _, out = _audit(gw)
    man = subprocess.run(["man", "-l", "-P", "cat", str(MAN)],
                         capture_output=True, text=True,
                         env={"MANWIDTH": "200", "PATH": "/usr/bin:/bin"}).stdout
    section = man.split("ALGORITHMS", 1)[1].split("\n\n\n", 1)[0]
    for tag in ("kex", "enc", "mac"):
        for alg in _offered(out, tag):
            if alg == STRICT_KEX:
                continue
            assert alg in section, f"{alg} offered but not documented"
