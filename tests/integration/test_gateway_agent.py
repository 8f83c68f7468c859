# SPDX-License-Identifier: Apache-2.0
# tests/integration/test_gateway_agent.py - the upstream identity stays in
# the monitor, which answers the worker as a one-shot SSH agent: the
# worker's memory never holds the private key, every supported key type
# logs in, and an unusable key is refused by `jumpgated -t` and told to the
# user.
import base64
import pwd
import struct
import subprocess
from pathlib import Path

import pytest

from gw_fixtures import *  # noqa: F401,F403
from gw_fixtures import descendants, keygen, proc_uid

WORKER_UID = pwd.getpwnam("jumpgate").pw_uid


def _ed25519_seed(path):
    """The 32-byte seed of an unencrypted OpenSSH ed25519 private key."""
    text = Path(path).read_text().splitlines()
    raw = base64.b64decode("".join(l for l in text if not l.startswith("-----")))
    assert raw.startswith(b"openssh-key-v1\0")
    p = len(b"openssh-key-v1\0")

    def string(p):
        n = struct.unpack(">I", raw[p:p + 4])[0]
        return raw[p + 4:p + 4 + n], p + 4 + n
    _, p = string(p)            # cipher
    _, p = string(p)            # kdf
    _, p = string(p)            # kdf options
    p += 4                      # number of keys
    _, p = string(p)            # public key
    priv, p = string(p)
    q = 8                       # check ints
    n = struct.unpack(">I", priv[q:q + 4])[0]
    q += 4 + n                  # key type
    n = struct.unpack(">I", priv[q:q + 4])[0]
    q += 4 + n                  # public half
    n = struct.unpack(">I", priv[q:q + 4])[0]
    assert n == 64
    return priv[q + 4:q + 4 + 32]


def _memory_holds(pid, needle):
    """Searches the readable mappings of pid for needle (chunked; the
    sanitizers' terabyte-sized shadow regions are skipped)."""
    chunk = 16 << 20
    with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem:
        for line in maps:
            fields = line.split()
            lo, hi = (int(x, 16) for x in fields[0].split("-"))
            if "r" not in fields[1] or hi - lo > (1 << 30) or \
                    (len(fields) > 5 and fields[5] in ("[vvar]", "[vsyscall]")):
                continue
            tail = b""
            for off in range(lo, hi, chunk):
                try:
                    mem.seek(off)
                    data = mem.read(min(chunk, hi - off))
                except (OSError, OverflowError, ValueError):
                    break
                if needle in tail + data:
                    return True
                tail = data[-len(needle):]
    return False




def test_worker_never_holds_the_upstream_key(gw, gw_env):
    seed = _ed25519_seed(gw_env.identity)
    ssh = subprocess.Popen(gw.ssh_args("alice:web-1") + ["sleep 20"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        # wait until the upstream login has happened (the session runs)
        assert gw.wait_log("signed the upstream login of alice as root", 30)
        pairs = []
        for pid in descendants(gw.proc.pid):
            try:
                if proc_uid(pid) == WORKER_UID:
                    stat = Path(f"/proc/{pid}/stat").read_text()
                    pairs.append((pid, int(stat.rsplit(")", 1)[1].split()[1])))
            except OSError:
                continue
        checked = 0
        for worker, monitor in pairs:
            try:
                # The monitor holds the key (so the search works) ...
                if not _memory_holds(monitor, seed):
                    continue
                # ... and its worker, which talked to the target, does not,
                # not even in hex (as a debugging dump would have it).
                assert not _memory_holds(worker, seed)
                assert not _memory_holds(worker, seed.hex().encode())
                checked += 1
            except FileNotFoundError:
                continue    # a connection that ended meanwhile
        assert checked == 1, pairs
    finally:
        ssh.kill()
        ssh.wait()


@pytest.mark.parametrize("kind,args", [
    ("ecdsa", ["-t", "ecdsa", "-b", "384"]),
    ("rsa-pem", ["-t", "rsa", "-b", "2048", "-m", "PEM"]),
])
def test_other_key_types_log_in(make_gateway, gw_env, tmp_path, kind, args):
    key = tmp_path / f"up_{kind}"
    subprocess.run(["ssh-keygen", "-q", "-N", "", *args, "-f", str(key)], check=True)
    pub = Path(str(key) + ".pub").read_text()
    ak = gw_env.web1.dir / "authorized_keys"
    with open(ak, "a") as f:
        f.write(pub)
    g = make_gateway(identity=key)
    r = g.ssh("alice:web-1", "echo", "agent-ok")
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"agent-ok\n"


def test_unusable_identity_refused_by_test_mode(gw, tmp_path):
    bad = tmp_path / "bad_identity"
    bad.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nnot a key\n"
                   "-----END OPENSSH PRIVATE KEY-----\n")
    bad.chmod(0o600)
    cfg = tmp_path / "jumpgate.yaml"
    cfg.write_text(gw.config.read_text().replace(
        f"identity: {gw.env.identity}", f"identity: {bad}"))
    r = subprocess.run([str(JUMPGATED), "-t", "-c", str(cfg)],  # noqa: F405
                       capture_output=True, text=True)
    assert r.returncode != 0
    assert f"upstream.identity {bad}" in r.stderr


def test_encrypted_identity_refused(gw, tmp_path):
    enc = tmp_path / "enc_identity"
    keygen(enc)
    subprocess.run(["ssh-keygen", "-q", "-p", "-N", "secret", "-f", str(enc)],
                   check=True)
    cfg = tmp_path / "jumpgate.yaml"
    cfg.write_text(gw.config.read_text().replace(
        f"identity: {gw.env.identity}", f"identity: {enc}"))
    r = subprocess.run([str(JUMPGATED), "-t", "-c", str(cfg)],  # noqa: F405
                       capture_output=True, text=True)
    assert r.returncode != 0
    assert "unencrypted private key" in r.stderr
