#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# tests/integration/no_inotify.py - runs a command (exec, same pid) with its
# user's inotify instances used up, touching nothing outside: the command
# runs in a user namespace of its own, every uid and gid mapped to itself,
# whose max_inotify_instances is 0. inotify_init1() then fails with EMFILE
# exactly as when the host's per-user limit is reached. Run as root.
#   no_inotify.py COMMAND [ARG...]
# Exit 125 when no such namespace can be made here.
import ctypes
import os
import sys

CLONE_NEWUSER = 0x10000000


def main(argv):
    libc = ctypes.CDLL(None, use_errno=True)
    go_r, go_w = os.pipe()
    done_r, done_w = os.pipe()
    helper = os.fork()
    if helper == 0:
        # Still in the first namespace: maps the caller's new one.
        os.close(go_w)
        os.close(done_r)
        ok = b"n"
        if os.read(go_r, 1) == b"y":
            try:
                parent = os.getppid()
                for f in ("uid_map", "gid_map"):
                    with open(f"/proc/{parent}/{f}", "w") as m:
                        m.write("0 0 4294967295\n")
                ok = b"y"
            except OSError as e:
                print(f"no_inotify: mapping ids: {e}", file=sys.stderr)
        os.write(done_w, ok)
        os._exit(0)
    os.close(go_r)
    os.close(done_w)
    if libc.unshare(CLONE_NEWUSER) != 0:
        e = ctypes.get_errno()
        os.write(go_w, b"n")
        os.waitpid(helper, 0)
        print(f"no_inotify: unshare: {os.strerror(e)}", file=sys.stderr)
        return 125
    os.write(go_w, b"y")
    ok = os.read(done_r, 1)
    os.waitpid(helper, 0)
    if ok != b"y":
        return 125
    try:
        with open("/proc/sys/user/max_inotify_instances", "w") as f:
            f.write("0\n")
    except OSError as e:
        print(f"no_inotify: max_inotify_instances: {e}", file=sys.stderr)
        return 125
    os.execv(argv[0], argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
