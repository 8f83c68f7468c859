# SPDX-License-Identifier: Apache-2.0
# tests/integration/test_deps.py - the libssh that `make deps` builds from
# Debian's source package: what the programs link, that a second run does
# nothing, and the one clear line when the source cannot be fetched.
import re
import socket
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "deps" / "libssh.sh"


def _makevar(name):
    m = re.search(rf"^{name} := (\S+)$", (ROOT / "Makefile").read_text(), re.M)
    assert m, name
    return m.group(1)


VERSION = _makevar("LIBSSH_VERSION")
UPSTREAM = VERSION.rsplit("-", 1)[0]
DEST = ROOT / "build" / f"libssh-{VERSION}"


def _closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()      # nothing listens there now
    return port


def test_programs_link_the_pinned_libssh_statically():
    for prog in ("jumpgate", "jumpgated"):
        exe = ROOT / "build" / prog
        out = subprocess.run([str(exe), "--version"], capture_output=True,
                             text=True, check=True).stdout
        assert f"libssh {UPSTREAM}/" in out, out
        assert f"Debian source package {VERSION}" in out, out
        ldd = subprocess.run(["ldd", str(exe)], capture_output=True, text=True).stdout
        assert "libssh.so" not in ldd, ldd   # (libcurl brings libssh2)


def test_changelog_names_the_libssh_inside():
    text = (ROOT / "packaging" / "debian" / "changelog").read_text()
    assert re.search(rf"libssh {re.escape(UPSTREAM)}, built from Debian's "
                     rf"source package\s+{re.escape(VERSION)}\b", text), text


def test_second_run_does_nothing():
    before = (DEST / "lib" / "libssh.a").stat().st_ino
    r = subprocess.run([str(SCRIPT), VERSION, str(DEST)], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0 and r.stdout == "" and r.stderr == "", r
    assert (DEST / "lib" / "libssh.a").stat().st_ino == before


def test_unreachable_archive_is_one_clear_line(tmp_path):
    mirror = f"http://127.0.0.1:{_closed_port()}/debian"
    r = subprocess.run([str(SCRIPT), VERSION, str(tmp_path / "libssh")],
                       capture_output=True, text=True, timeout=300,
                       env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
                            "DEBIAN_MIRROR": mirror})
    assert r.returncode == 1, r
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith(f"deps: libssh {VERSION}: apt-get source "
                           f"libssh={VERSION} from {mirror} "), last
    assert f"make deps LIBSSH_DSC=/path/to/libssh_{VERSION}.dsc" in last, last
    assert not (tmp_path / "libssh" / "lib" / "libssh.a").exists()


def test_missing_local_copy_is_named(tmp_path):
    r = subprocess.run([str(SCRIPT), VERSION, str(tmp_path / "libssh")],
                       capture_output=True, text=True, timeout=60,
                       env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
                            "LIBSSH_DSC": str(tmp_path / "nope.dsc")})
    assert r.returncode == 1
    assert r.stderr.strip() == (f"deps: libssh {VERSION}: LIBSSH_DSC="
                                f"{tmp_path}/nope.dsc: no such file"), r.stderr
