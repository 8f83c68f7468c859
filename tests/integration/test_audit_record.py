# SPDX-License-Identifier: Apache-2.0
# tests/integration/test_audit_record.py - recordings made by the library
# keep every byte (export --format raw), their asciicast view plays in
# asciinema and in `jumpgate audit replay`, and list, show, export, watch
# and keygen work on them and on recordings of the older asciicast format.
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


def test_asciicast_view_plays_in_asciinema(audit, tmp_path):
    sid = audit.record(SESSION)
    assert audit.rec(sid).read_bytes()[:8] == b"JGREC1\n\0"
    view = audit.export(sid)
    lines = view.decode("utf-8").splitlines()
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
    # The view replaces what is not UTF-8; the store does not.
    assert "caf\u00e9 ok \ufffd\ufffd end" in "".join(e[2] for e in evs)
    assert all(isinstance(e[0], float) for e in evs)
    cast = tmp_path / "view.cast"
    cast.write_bytes(view)
    rc, out = asciinema_cat(cast)
    assert rc == 0
    assert b"uptime" in out and "caf\u00e9 ok".encode() in out
    rc, out, err = audit.run("verify", sid)
    assert rc == 0, out + err
    assert "intact" in out


def test_raw_export_keeps_every_byte_of_each_stream(audit):
    out = bytes(range(256)) * 40 + b"\x00\xff\xc3"
    err = b"\xfe\xfferror\x00"
    sid = audit.record([(0.1, "o", out[:5000]), (0.2, "e", err),
                        (0.3, "o", out[5000:]), (0.4, "i", b"\x03"),
                        (0.5, "x", 2)], record_input=True)
    assert audit.export(sid, "--format", "raw") == out
    assert audit.export(sid, "--format", "raw", "--stream", "out") == out
    assert audit.export(sid, "--format", "raw", "--stream", "err") == err
    assert audit.export(sid, "--format", "raw", "--stream", "in") == b"\x03"
    rc, o, e = audit.run("export", sid, "--stream", "err")
    assert rc == 2 and "--format raw" in e
    rc, o, e = audit.run("export", sid, "--format", "zip")
    assert rc == 2 and "asciicast or raw" in e
    # Text compresses: a shell session takes a fraction of its size.
    text = b"".join(b"-rw-r--r-- 1 root root %6d Dec  4 %02d:%02d file%d\r\n"
                    % (i * 37, i % 24, i % 60, i) for i in range(20000))
    t = audit.record([(0.1 + i / 1e4, "o", text[i:i + 200000])
                      for i in range(0, len(text), 200000)])
    assert audit.rec(t).stat().st_size < len(text) / 4
    assert audit.export(t, "--format", "raw") == text


def test_replay_prints_output_without_terminal_strings(audit):
    sid = audit.record(SESSION)
    rc, out, err = audit.run("replay", sid, "--speed", "2",
                             "--idle-limit", "0.5")
    assert rc == 0, err
    assert "uptime" in out and "caf\u00e9" in out
    assert "evil title" not in out and "\x1b]" not in out
    rc, out, err = audit.run("replay", sid, "--speed", "0")
    assert rc == 2 and "--speed" in err


def test_export_of_an_unfinished_recording_is_its_sealed_and_written_part(audit):
    sid = audit.record([(0.1, "o", b"sealed\r\n"), (1.2, "t", None),
                        (1.5, "o", b"tail\r\n")], close=False)
    assert audit.export(sid, "--format", "raw") == b"sealed\r\ntail\r\n"
    rc, out, err = audit.run("verify", sid)
    assert rc == 1 and "unsealed tail" in out


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
    assert b'"i"' not in audit.export(a)
    assert b'[0.100000, "i", "ls\\r"]' in audit.export(b)


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
    p = audit.rec(sid)
    good = p.read_bytes()
    # Junk after the final seal: read up to it, and verify says so.
    p.write_bytes(good + b"D\0\0\0\xff\xff\xff\x7f\xff\xff\xff\x7f" +
                  b"x" * 100)
    rc, out, err = audit.run("replay", sid)
    assert rc == 0 and "ok" in out
    rc, out, err = audit.run("verify", sid)
    assert rc == 1 and "appended" in out
    # A frame head claiming a huge block: an error naming file and offset.
    bad = bytearray(good)
    at = good.index(b"D\0\0\0")
    bad[at + 8:at + 12] = b"\xff\xff\xff\x7f"
    p.write_bytes(bytes(bad))
    rc, out, err = audit.run("replay", sid)
    assert rc == 2 and f"offset {at}" in err and str(p) in err
    rc, out, err = audit.run("verify", sid)
    assert rc == 1 and f"offset {at}" in out
    rc, out, err = audit.run("search", "ok")
    assert rc == 1
    rc, out, err = audit.run("list", "--json")
    assert rc == 0 and sid in out
    p.write_bytes(b"not a recording")
    rc, out, err = audit.run("export", sid)
    assert rc == 2 and "not a jumpgate recording" in err


def test_recordings_of_the_asciicast_format_stay_readable(audit):
    """Recordings written by earlier versions (asciicast v2 and a seal
    file) list, replay, export and verify as before."""
    import shutil
    from pathlib import Path
    data = Path(__file__).resolve().parents[1] / "data" / "asciicast-v1"
    a, b = data.joinpath("ids").read_text().split()
    shutil.copytree(data / "sessions", audit.dir / "sessions",
                    dirs_exist_ok=True)
    shutil.copy(data / "seal.key.pub", audit.pub)
    rc, out, err = audit.run("verify", a)
    assert rc == 0 and "intact" in out, out + err
    rc, out, err = audit.run("verify", b)
    assert rc == 1 and "NOT intact" in out
    cast = next((audit.dir / "sessions").glob(f"*/{a}.cast"))
    assert audit.export(a) == cast.read_bytes()
    assert audit.export(a, "--format", "raw") == \
        "$ ls\r\nfile\ufffd\ufffd\u0000bin\r\n\u20ac done\r\nexit\r\n".encode()
    rc, out, err = audit.run("replay", a)
    assert rc == 0 and "done" in out
    rc, out, err = audit.run("list", "--json")
    rows = {r["id"]: r for r in json.loads(out)}
    assert a in rows and b in rows
    rc, out, err = audit.run("search", "done")
    assert rc == 0 and a in out


def test_the_documented_reader_reads_every_byte(audit, tmp_path):
    """jumpgate-recording(5)'s example reader, run as printed, gives the
    same bytes as the raw export: the page is enough to read the format."""
    import subprocess
    import sys
    from pathlib import Path
    page = (Path(__file__).resolve().parents[2] / "docs" /
            "jumpgate-recording.5").read_text()
    code = page.split('.\\" READER BEGIN\n', 1)[1].split('.\\" READER END', 1)[0]
    assert "\\-" not in code  # nothing troff would change but \e
    reader = tmp_path / "reader.py"
    reader.write_text(code.replace("\\e", "\\"))
    blob = os.urandom(300000) + b"text " * 100000
    sid = audit.record([(0.1, "o", blob[:200000]), (0.2, "e", b"\xff err"),
                        (0.3, "o", blob[200000:400000]), (0.4, "t", None),
                        (0.5, "o", blob[400000:]), (0.6, "x", 0)])
    for kind, want in (("o", blob), ("e", b"\xff err"), ("x", b"0")):
        p = subprocess.run(["/usr/bin/python3", str(reader), str(audit.rec(sid)),
                            kind], capture_output=True, timeout=60)
        assert p.returncode == 0, p.stderr
        assert p.stdout == want
    assert audit.export(sid, "--format", "raw") == blob


def test_list_table_lines_up_and_keeps_the_microseconds(audit):
    a = audit.record([(0.06264, "o", "x")], start=T0 + 123456,
                     user="alice", target="web-1", login="ec2-user")
    b = audit.record([(0.2, "o", "y")], start=T0 + 7200 * 1000000,
                     user="a-much-longer-user", target="ecs-prod/web-a",
                     login="deploy", action="exec", command="uptime")
    rc, out, err = audit.run("list")
    assert rc == 0, err
    header, *rows = out.splitlines()
    assert len(rows) == 2
    # Every column of every row starts under its heading.
    cols = ["START", "DURATION", "USER", "TARGET", "LOGIN", "ACTION", "FROM"]
    starts = {c: header.index(c) for c in cols}
    want = {a: ["2026-11-27T00:00:00.123456Z", "0:00:00", "alice", "web-1",
                "ec2-user", "shell", "203.0.113.5"],
            b: ["2026-11-27T02:00:00.000000Z", "0:00:00", "a-much-longer-user",
                "ecs-prod/web-a", "deploy", "exec", "203.0.113.5"]}
    for line in rows:
        sid = line.split()[0]
        for col, value in zip(cols, want[sid]):
            if col == "DURATION":   # right-aligned under its heading
                end = starts[col] + len("DURATION")
                assert line[end - len(value):end] == value, (col, line)
            else:
                assert line[starts[col]:starts[col] + len(value)] == value, (col, line)
    # JSON durations are the decimal seconds, not the nearest double's digits.
    rc, out, err = audit.run("list", "--json")
    assert rc == 0, err
    assert '"duration": 0.56264,' in out, out
    assert json.loads(out)[0]["start"] == "2026-11-27T00:00:00.123456Z"
