# SPDX-License-Identifier: Apache-2.0
# tests/integration/test_audit_record.py - recordings made by the library
# play unchanged in asciinema and in `jumpgate audit replay`, and list,
# show, export and keygen work on them.
import json
import os
import stat

from audit_fixtures import T0, asciinema_cat, audit, rec_driver  # noqa: F401


SESSION = [
    (0.1, "o", "\x1b]0;evil title\x07$ "),
    (0.5, "o", "uptime\r\n"),
    (0.6, "o", " 10:00:00 up 3 days,  1 user\r\n"),
    (0.7, "r", (120, 40)),
    (0.9, "o", "caf\xc3".encode("latin-1")),       # é split across writes
    (1.0, "o", b"\xa9 ok \xff\xfe end\r\n"),      # and bytes never valid
    (1.1, "x", 0),
]


def test_keygen_writes_pair_with_modes(audit):
    rc, out, err = audit.run("keygen")
    assert rc == 0, err
    assert stat.S_IMODE(os.stat(audit.key).st_mode) == 0o600
    assert audit.key.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert audit.pub.read_text().startswith("-----BEGIN PUBLIC KEY-----")
    rc, out, err = audit.run("keygen")
    assert rc == 2 and "--force" in err
    rc, out, err = audit.run("keygen", "--force")
    assert rc == 0, err


def test_recording_format_and_asciinema_cat(audit):
    sid = audit.record(SESSION)
    path = audit.cast(sid)
    lines = path.read_bytes().decode("utf-8").splitlines()
    hdr = json.loads(lines[0])
    assert list(hdr)[:7] == ["version", "width", "height", "timestamp",
                             "title", "env", "jumpgate"]
    assert hdr["version"] == 2 and hdr["width"] == 100 and hdr["height"] == 30
    assert hdr["timestamp"] == T0 // 1000000
    assert hdr["title"] == "alice \u2192 web-1 (ec2-user)"
    assert hdr["env"] == {"TERM": "xterm-256color"}
    assert hdr["jumpgate"]["session"] == sid
    assert hdr["jumpgate"]["from"] == "203.0.113.5"
    evs = [json.loads(x) for x in lines[1:]]
    assert [e[1] for e in evs] == ["o", "o", "o", "r", "o", "o", "m"]
    assert evs[3][2] == "120x40"
    assert evs[-1][2] == "exit-status 0"
    assert evs[4][2] == "caf" or evs[4][2].startswith("caf")
    assert "caf\u00e9 ok \ufffd\ufffd end" in "".join(e[2] for e in evs)
    assert all(isinstance(e[0], float) for e in evs)
    rc, out = asciinema_cat(path)
    assert rc == 0
    assert b"uptime" in out and "caf\u00e9 ok".encode() in out
    rc, out, err = audit.run("verify", sid)
    assert rc == 0, out + err
    assert "intact" in out


def test_replay_prints_output_without_terminal_strings(audit):
    sid = audit.record(SESSION)
    rc, out, err = audit.run("replay", sid, "--speed", "2",
                             "--idle-limit", "0.5")
    assert rc == 0, err
    assert "uptime" in out and "caf\u00e9" in out
    assert "evil title" not in out and "\x1b]" not in out
    rc, out, err = audit.run("replay", sid, "--speed", "0")
    assert rc == 2 and "--speed" in err


def test_export_is_the_file(audit):
    sid = audit.record(SESSION)
    p = audit.env.popen("audit", "export", sid)
    out, _ = p.communicate(timeout=30)
    assert p.returncode == 0
    assert out == audit.cast(sid).read_text()


def test_list_and_show(audit):
    a = audit.record(SESSION)
    b = audit.record([(0.2, "o", "hello\r\n")], start=T0 + 3600 * 1000000,
                     user="carol", target="monitor", action="exec",
                     command="uptime")
    audit.event(T0 + 10, type="session.start", session=a, user="alice",
                target="web-1", login="ec2-user", action="shell")
    audit.event(T0 + 20, type="exec", session=b, user="carol",
                target="monitor", extra={"command": "uptime"})
    rc, out, err = audit.run("list")
    assert rc == 0, err
    assert a in out and b in out and out.index(a) < out.index(b)
    rc, out, err = audit.run("list", "--user", "carol", "--json")
    assert rc == 0, err
    rows = json.loads(out)
    assert [r["id"] for r in rows] == [b]
    assert rows[0]["command"] == "uptime" and rows[0]["target"] == "monitor"
    rc, out, err = audit.run("list", "--since", "2026-11-27T00:30:00Z",
                             "--json")
    assert [r["id"] for r in json.loads(out)] == [b]
    rc, out, err = audit.run("list", "--until", "2026-11-27T00:30:00Z",
                             "--json")
    assert [r["id"] for r in json.loads(out)] == [a]
    rc, out, err = audit.run("show", a)
    assert rc == 0, err
    assert "alice" in out and "seal:      intact" in out
    assert "session.start" in out
    rc, out, err = audit.run("show", "not-an-id")
    assert rc == 2


def test_input_recorded_only_when_asked(audit):
    a = audit.record([(0.1, "i", "secret\r"), (0.2, "o", "x")])
    b = audit.record([(0.1, "i", "ls\r"), (0.2, "o", "x")], record_input=True)
    assert '"i"' not in audit.cast(a).read_text()
    assert '[0.100000, "i", "ls\\r"]' in audit.cast(b).read_text()


def test_watch_follows_a_live_recording_until_its_final_seal(audit):
    d = audit.driver
    sid = d.do("uuid")["id"]
    d.do("open", session=sid, time=T0, user="alice", target="web-1",
         login="ec2-user", action="shell")
    d.do("o", session=sid, time=T0 + 1000, hex=b"first\r\n".hex())
    p = audit.env.popen("audit", "watch", sid)
    import time
    time.sleep(0.5)
    assert p.poll() is None  # still following
    d.do("o", session=sid, time=T0 + 2000,
         hex=b"\x1b]52;c;ZXZpbA==\x07second\r\n".hex())
    d.do("close", session=sid, time=T0 + 3000)
    out, err = p.communicate(timeout=10)
    assert p.returncode == 0, err
    assert out == "first\nsecond\n"  # text mode folds \r\n


def test_hostile_files_give_messages_not_crashes(audit):
    sid = audit.record([(0.1, "o", "ok\r\n")])
    p = audit.cast(sid)
    p.write_bytes(p.read_bytes() + b'[1, "o", "unterminated\n' +
                  b"\xff\xfe not json\n" + b"x" * (17 << 20) + b"\n" +
                  b'[1e400, "o", "x"]\n[2, "z", "x"]\n')
    rc, out, err = audit.run("replay", sid)
    assert rc == 0 and "ok" in out
    assert "too long" in err and ":3:" in err
    rc, out, err = audit.run("verify", sid)
    assert rc == 1 and "appended" in out
    rc, out, err = audit.run("search", "unterminated")
    assert rc == 1
    rc, out, err = audit.run("list", "--json")
    assert rc == 0 and sid in out
